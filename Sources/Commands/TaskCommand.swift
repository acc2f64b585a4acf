// `gphotos-sync task …` and `gphotos-sync run-due`: saved tasks with TrueNAS' fields, their runs, logs, the reverse
// "restore" task, systemd timer units, and a cron-friendly runner of due tasks.
import ArgumentParser
import Foundation
import SyncEngine
#if canImport(Glibc)
import Glibc
#endif

/// Where the state lives (shared by every task subcommand).
struct StateOption: ParsableArguments {
    @Option(name: .long, help: "gphotos-sync's state directory (tasks, runs, logs, ledger, locks).")
    var stateDir: String?
    var dir: String { stateDir ?? SyncOptions.defaultStateDir() }
    func store() throws -> SyncStore {
        do { return try SyncStore(path: dir + "/sync.sqlite") } catch { throw CleanExit.message(error.message) }
    }
}

extension SyncError {
    /// Exits with this error's message and code.
    func exit() -> ExitCode {
        FileHandle.standardError.write(Data(("gphotos-sync: " + message + "\n").utf8))
        return ExitCode(exitCode.rawValue)
    }
}

/// Sends a run's process SIGTERM (it ends ABORTED) and waits up to `seconds` for it to exit; false if it can't be signalled.
func stopRun(_ pid: Int32, seconds: Int) -> Bool {
    guard kill(pid, SIGTERM) == 0 else { return false }
    for _ in 0..<(seconds * 10) where kill(pid, 0) == 0 { usleep(100_000) }   // bounded
    return true
}

/// Runs `body`; its SyncError becomes an exit with the error's message and code.
func orExit<T>(_ body: () throws(SyncError) -> T) throws -> T {
    do { return try body() } catch { throw error.exit() }
}

/// The task fields as options (create sets them, edit changes the ones given).
struct TaskFields: ParsableArguments {
    @Option(help: "Free text shown in lists.") var description: String?
    @Option(help: "push (dataset → Google) or pull (Google → dataset).") var direction: SyncDirection?
    @Option(help: "copy, sync or move.") var mode: SyncMode?
    @Option(name: .customLong("local"), help: "The dataset directory (absolute).") var localPath: String?
    @Option(help: "The folder in the mount: album, album/TITLE, upload, media/all …") var folder: String?
    @Option(help: "Where the account is mounted (default /mnt/gphotos); mounted privately for a run when it is not up.") var mountpoint: String?
    @Option(help: "The gphotosfs account for a private mount (default: default).") var account: String?
    @Option(help: "-o options for a private mount, e.g. cache_dir=/var/cache/gphotosfs/default.") var mountOptions: String?
    @Option(help: "Five cron fields (minute hour day-of-month month day-of-week; TrueNAS default \"0 * * * *\").") var schedule: String?
    @Flag(name: .customLong("enable"), help: "Scheduled runs on (the default for a new task).") var enable = false
    @Flag(name: .customLong("disable"), help: "Scheduled runs off (task run still runs it).") var disable = false
    @Option(help: "Parallel copies (1-64).") var transfers: Int?
    @Option(help: "rclone --bwlimit syntax, timetables too; \"off\" clears it.") var bwlimit: String?
    @Option(help: "Include glob (repeatable; replaces the list).") var include: [String] = []
    @Option(help: "Exclude glob (repeatable; replaces the list).") var exclude: [String] = []
    @Flag(inversion: .prefixedNo, help: "Follow symbolic links in the dataset.") var followSymlinks: Bool?
    @Option(help: "A file whose contents run before each transfer (\"\" clears it).") var preScript: String?
    @Option(help: "A file whose contents run after each successful transfer (\"\" clears it).") var postScript: String?

    /// Applies the given options to `t`.
    func apply(to t: inout SyncTask) throws {
        if let description { t.description = description }
        if let direction { t.direction = direction }
        if let mode { t.mode = mode }
        if let localPath { t.localPath = localPath }
        if let folder { t.folder = folder.trimmingCharacters(in: CharacterSet(charactersIn: "/")) }
        if let mountpoint { t.mountpoint = mountpoint }
        if let account { t.account = account }
        if let mountOptions { t.mountOptions = mountOptions.isEmpty ? nil : mountOptions }
        if let schedule { t.schedule = schedule }
        if enable && disable { throw ValidationError("--enable and --disable: pick one") }
        if enable { t.enabled = true }
        if disable { t.enabled = false }
        if let transfers { t.transfers = transfers }
        if let bwlimit { t.bwlimit = bwlimit == "off" || bwlimit.isEmpty ? nil : bwlimit }
        if !include.isEmpty { t.include = include }
        if !exclude.isEmpty { t.exclude = exclude }
        if let followSymlinks { t.followSymlinks = followSymlinks }
        if let preScript { t.preScript = try Self.script(preScript, "--pre-script") }
        if let postScript { t.postScript = try Self.script(postScript, "--post-script") }
    }

    static func script(_ path: String, _ flag: String) throws -> String? {
        if path.isEmpty { return nil }
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(flag) \(path): can't read the file") }
        return String(decoding: data, as: UTF8.self)
    }
}

extension SyncDirection: ExpressibleByArgument {}

/// `gphotos-sync task`.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "Saved tasks: create, list, show, edit, delete, run, abort, logs, restore, timer.",
        subcommands: [TaskCreate.self, TaskList.self, TaskShow.self, TaskEdit.self, TaskDelete.self, TaskRunCommand.self,
                      TaskAbort.self, TaskLogs.self, TaskRestore.self, TaskTimer.self])
}

struct TaskCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Saves a new task (state PENDING).")
    @OptionGroup var state: StateOption
    @OptionGroup var fields: TaskFields
    @Argument(help: "The task's name.") var name: String
    func run() async throws {
        var t = SyncTask(name: name)
        try fields.apply(to: &t)
        let store = try state.store()
        try orExit { () throws(SyncError) in try t.validate(); try store.save(t, create: true) }
        print("created task \(name)")
    }
}

struct TaskEdit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "edit", abstract: "Changes the given fields of a task.")
    @OptionGroup var state: StateOption
    @OptionGroup var fields: TaskFields
    @Argument(help: "The task's name.") var name: String
    func run() async throws {
        let store = try state.store()
        guard var t = try orExit({ () throws(SyncError) in try store.task(name) }) else {
            throw SyncError(.usage, "no task named '\(name)' (gphotos-sync task list shows them)").exit()
        }
        try fields.apply(to: &t)
        let edited = t
        try orExit { () throws(SyncError) in try edited.validate(); try store.save(edited, create: false) }
        print("updated task \(name)")
    }
}

/// Text and JSON renderings of task statuses.
enum TaskText {
    static func time(_ t: Double?) -> String {
        guard let t else { return "-" }
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm"
        return f.string(from: Date(timeIntervalSince1970: t))
    }

    static func json(_ value: some Encodable) -> String {
        let e = JSONEncoder()
        e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? e.encode(value)) ?? Data(), as: UTF8.self)
    }

    static func status(_ store: SyncStore, _ t: SyncTask) throws -> TaskStatus {
        try orExit { () throws(SyncError) in TaskStatus.of(t, runs: try store.runs(task: t.name, limit: 1)) }
    }
}

struct TaskList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Tasks with their state, last run and next run.")
    @OptionGroup var state: StateOption
    @Flag(help: "JSON.") var json = false
    func run() async throws {
        let store = try state.store()
        let all = try orExit { () throws(SyncError) -> [TaskStatus] in
            var out: [TaskStatus] = []
            for t in try store.tasks() { out.append(TaskStatus.of(t, runs: try store.runs(task: t.name, limit: 1))) }
            return out
        }
        if json { print(TaskText.json(all)); return }
        print("NAME\tDIRECTION\tMODE\tLOCAL\tFOLDER\tSCHEDULE\tENABLED\tSTATE\tLAST RUN\tNEXT RUN")
        for s in all {
            let t = s.task
            print("\(t.name)\t\(t.direction.rawValue.uppercased())\t\(t.mode.rawValue.uppercased())\t\(t.localPath)\t\(t.folder)\t\(t.schedule)\t\(t.enabled ? "yes" : "no")\t\(s.state)\t\(TaskText.time(s.lastRun?.finished ?? s.lastRun?.started))\t\(TaskText.time(s.nextRun))")
        }
    }
}

struct TaskShow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "A task's fields, state, last run summary and next run.")
    @OptionGroup var state: StateOption
    @Flag(help: "JSON.") var json = false
    @Argument(help: "The task's name.") var name: String
    func run() async throws {
        let store = try state.store()
        guard let t = try? store.task(name) else { throw SyncError(.usage, "no task named '\(name)' (gphotos-sync task list shows them)").exit() }
        let s = try TaskText.status(store, t)
        if json { print(TaskText.json(s)); return }
        print("""
            name: \(t.name)
            description: \(t.description)
            direction: \(t.direction.rawValue.uppercased())  transfer mode: \(t.mode.rawValue.uppercased())
            local path: \(t.localPath)
            folder: \(t.folder) (mount \(t.mountpoint), account \(t.account))
            schedule: \(t.schedule)  enabled: \(t.enabled ? "yes" : "no")  next run: \(TaskText.time(s.nextRun))
            transfers: \(t.transfers)  bwlimit: \(t.bwlimit ?? "off")  follow symlinks: \(t.followSymlinks ? "yes" : "no")
            include: \(t.include.joined(separator: " "))  exclude: \(t.exclude.joined(separator: " "))
            pre-script: \(t.preScript == nil ? "none" : "set")  post-script: \(t.postScript == nil ? "none" : "set")
            state: \(s.state)
            last run: \(s.lastRun.map { "#\($0.id) \(TaskText.time($0.started)) \($0.dryRun ? "(dry run) " : "")\($0.summary?.message ?? $0.state)" } ?? "never")
            """)
    }
}

struct TaskDelete: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Deletes a task (aborting a running one first) and its logs.")
    @OptionGroup var state: StateOption
    @Argument(help: "The task's name.") var name: String
    func run() async throws {
        let store = try state.store()
        try orExit { () throws(SyncError) in
            guard try store.task(name) != nil else { throw SyncError(.usage, "no task named '\(name)'") }
            if let r = try store.runs(task: name, limit: 1).first, r.state == "RUNNING" { _ = stopRun(r.pid, seconds: 60) }
            try store.deleteTask(name)
            try? FileManager.default.removeItem(atPath: state.dir + "/logs/\(name)")
        }
        print("deleted task \(name)")
    }
}

struct TaskRunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Runs a task now (also a disabled one); exit code as for push/pull.")
    @OptionGroup var state: StateOption
    @Flag(help: "Check and print the plan; change nothing.") var dryRun = false
    @Flag(help: "NDJSON events on standard output.") var json = false
    @Flag(name: [.short, .long], help: "Only errors, warnings and the summary.") var quiet = false
    @Argument(help: "The task's name.") var name: String
    func run() async throws {
        let store = try state.store()
        guard let t = try? store.task(name) else { throw SyncError(.usage, "no task named '\(name)' (gphotos-sync task list shows them)").exit() }
        let abort = AbortFlag()
        let signals = StopSignals { abort.abort() }
        let summary = await TaskRunner.run(t, store: store, stateDir: state.dir, dryRun: dryRun,
                                           output: SyncReporter.Options(json: json, progress: isatty(2) == 1 && !json, verbose: !quiet), abort: abort)
        signals.cancel()
        if summary.exitCode != 0 { throw ExitCode(summary.exitCode) }
    }
}

struct TaskAbort: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "abort", abstract: "Stops a running task; it ends ABORTED.")
    @OptionGroup var state: StateOption
    @Argument(help: "The task's name.") var name: String
    func run() async throws {
        let store = try state.store()
        try orExit { () throws(SyncError) in
            guard let r = try store.runs(task: name, limit: 1).first, r.state == "RUNNING" else {
                throw SyncError(.usage, "task '\(name)' is not running")
            }
            guard stopRun(r.pid, seconds: 120) else { throw SyncError.posix(errno, "pid \(r.pid)", "can't signal the run") }
            let after = try store.runs(task: name, limit: 1).first
            print("task \(name): \(after?.state ?? "ABORTED")")
        }
    }
}

struct TaskLogs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Prints the log of a task's last run (or of --run ID).")
    @OptionGroup var state: StateOption
    @Option(name: .customLong("run"), help: "A run id (--list gives them).") var runId: Int64?
    @Flag(help: "List the runs instead.") var list = false
    @Argument(help: "The task's name.") var name: String
    func run() async throws {
        let store = try state.store()
        let runs = try orExit { () throws(SyncError) in try store.runs(task: name, limit: 100) }
        if list {
            for r in runs { print("#\(r.id)\t\(TaskText.time(r.started))\t\(r.state)\(r.dryRun ? " (dry run)" : "")\t\(r.log)") }
            return
        }
        var chosen = runs.first
        if let id = runId { chosen = runs.first { $0.id == id } }
        let what = runId.map { "run #\($0)" } ?? "runs"
        let r = try orExit { () throws(SyncError) -> TaskRun in
            guard let r = chosen else { throw SyncError(.usage, "task '\(name)' has no \(what) yet") }
            return r
        }
        let data = try orExit { () throws(SyncError) -> Data in
            guard let d = FileManager.default.contents(atPath: r.log) else { throw SyncError(.fileNotFound, "\(r.log): the log file is gone") }
            return d
        }
        FileHandle.standardOutput.write(data)
    }
}

struct TaskRestore: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Creates the reverse task, disabled, as TrueNAS does.")
    @OptionGroup var state: StateOption
    @Option(help: "The new task's name.") var name: String
    @Option(name: .customLong("local"), help: "Where the restore writes (pull) or reads (push).") var localPath: String
    @Option(help: "copy or sync.") var mode: SyncMode = .copy
    @Argument(help: "The task to reverse.") var task: String
    func run() async throws {
        let store = try state.store()
        try orExit { () throws(SyncError) in
            guard mode != .move else { throw SyncError(.usage, "--mode: a restore task copies or syncs (TrueNAS offers SYNC and COPY)") }
            guard let t = try store.task(task) else { throw SyncError(.usage, "no task named '\(task)'") }
            let r = t.restored(name: name, localPath: localPath, mode: mode)
            try r.validate()
            try store.save(r, create: true)
        }
        print("created task \(name) (disabled): gphotos-sync task run \(name)")
    }
}

struct TaskTimer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "timer", abstract: "Writes a systemd .service + .timer pair (Persistent=true) for a task.")
    @OptionGroup var state: StateOption
    @Option(help: "Where to write the units (default /etc/systemd/system as root, else ~/.config/systemd/user).") var dir: String?
    @Argument(help: "The task's name.") var name: String
    func run() async throws {
        let store = try state.store()
        guard let t = try? store.task(name) else { throw SyncError(.usage, "no task named '\(name)'").exit() }
        let cron: CronSchedule
        do { cron = try CronSchedule(t.schedule) } catch { throw SyncError(.usage, "schedule '\(t.schedule)': \(error)").exit() }
        let target = dir ?? (geteuid() == 0 ? "/etc/systemd/system" : NSHomeDirectory() + "/.config/systemd/user")
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? "/usr/local/bin/gphotos-sync"
        let units = SystemdUnits.make(task: t, cron: cron, executable: exe, stateDir: state.stateDir)
        do {
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            try units.service.write(toFile: target + "/\(units.name).service", atomically: true, encoding: .utf8)
            try units.timer.write(toFile: target + "/\(units.name).timer", atomically: true, encoding: .utf8)
        } catch { throw SyncError(.fatal, "\(target): can't write the units: \(error.localizedDescription)").exit() }
        let user = geteuid() == 0 && dir == nil ? "" : " --user"
        print("wrote \(target)/\(units.name).service and \(units.name).timer")
        print("enable with: systemctl\(user) daemon-reload && systemctl\(user) enable --now \(units.name).timer")
        if !t.enabled { print("note: task \(name) is disabled; the timer runs it anyway (task run ignores the flag)") }
    }
}

/// systemd units for a task.
enum SystemdUnits {
    static func make(task t: SyncTask, cron: CronSchedule, executable: String, stateDir: String?) -> (name: String, service: String, timer: String) {
        let name = "gphotos-sync-\(t.name)"
        let state = stateDir.map { " --state-dir \(quote($0))" } ?? ""
        let service = """
            [Unit]
            Description=gphotos-sync task \(t.name)\(t.description.isEmpty ? "" : ": \(t.description)")
            Wants=network-online.target
            After=network-online.target

            [Service]
            Type=oneshot
            ExecStart=\(quote(executable)) task run\(state) --quiet \(t.name)
            # Exit codes follow rclone's (man gphotos-sync); a failure shows in `systemctl status \(name)`.

            """
        let calendars = cron.systemdOnCalendar().map { "OnCalendar=\($0)" }.joined(separator: "\n")
        let timer = """
            [Unit]
            Description=Schedule of gphotos-sync task \(t.name) (\(t.schedule))

            [Timer]
            \(calendars)
            Persistent=true

            [Install]
            WantedBy=timers.target

            """
        return (name, service, timer)
    }

    /// systemd's quoting for one ExecStart argument.
    static func quote(_ s: String) -> String {
        s.allSatisfy { $0.isLetter || $0.isNumber || "/._-".contains($0) } ? s : "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// `gphotos-sync run-due`: for cron users, run every enabled task whose schedule came due since its last run.
struct RunDueCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run-due",
        abstract: "Runs every enabled task that is due (for cron: `* * * * * root gphotos-sync run-due`).",
        discussion: "A task is due when a time of its schedule fell after its last run started (or it was created) and at or before now. Exit code: the worst of the runs'.")
    @OptionGroup var state: StateOption
    @Option(help: "Pretend it is this time (ISO 8601), to check which tasks would run.") var at: String?
    @Flag(help: "List the due tasks; run nothing.") var list = false
    @Flag(help: "NDJSON events on standard output.") var json = false
    func run() async throws {
        let now: Date
        if let at {
            guard let d = ISO8601DateFormatter().date(from: at) else { throw ValidationError("--at \(at): expected ISO 8601, e.g. 2026-12-01T03:00:00Z") }
            now = d
        } else { now = Date() }
        let store = try state.store()
        let due = try orExit { () throws(SyncError) -> [SyncTask] in
            var due: [SyncTask] = []
            for t in try store.tasks() {
                let last = try store.runs(task: t.name, limit: 1).first
                // A run still going is not started again (cron calls run-due every minute; long runs are normal).
                if last?.state != "RUNNING" && TaskStatus.isDue(t, lastRun: last, now: now) { due.append(t) }
            }
            return due
        }
        if list || due.isEmpty {
            for t in due { print(t.name) }
            return
        }
        var worst: Int32 = 0
        let abort = AbortFlag()
        let signals = StopSignals { abort.abort() }
        for t in due where !abort.isSet {
            let s = await TaskRunner.run(t, store: store, stateDir: state.dir, dryRun: false,
                                         output: SyncReporter.Options(json: json, progress: false, verbose: false), abort: abort)
            worst = max(worst, s.exitCode)
        }
        signals.cancel()
        if worst != 0 { throw ExitCode(worst) }
    }
}
