// Saved sync tasks (TrueNAS Cloud Sync Task fields) and their runs in gphotos-sync's state database: states PENDING,
// RUNNING, SUCCESS, FAILED, ABORTED, the last run's summary, per-run logs and the next run time.
import Foundation
import GRDB
#if canImport(Glibc)
import Glibc
#endif

/// A saved task.
public struct SyncTask: Codable, Sendable, Equatable {
    /// Unique name ([A-Za-z0-9._-], used in unit and log file names).
    public var name: String
    /// Free text shown in lists.
    public var description = ""
    /// push or pull.
    public var direction: SyncDirection = .push
    /// copy, sync or move.
    public var mode: SyncMode = .copy
    /// The dataset directory.
    public var localPath = ""
    /// The Google-side folder, relative to the mount's root (album, album/TITLE, upload, media/all, ...).
    public var folder = "album"
    /// Where the account is (or gets privately) mounted.
    public var mountpoint = "/mnt/gphotos"
    /// The gphotosfs account mounted privately when `mountpoint` is not up.
    public var account = "default"
    /// `-o` options for that private mount (e.g. cache_dir=...), or nil.
    public var mountOptions: String?
    /// Five cron fields; TrueNAS' default is hourly at :00.
    public var schedule = "0 * * * *"
    /// Scheduled runs happen only when enabled.
    public var enabled = true
    /// Parallel copies.
    public var transfers = 4
    /// rclone --bwlimit syntax, or nil.
    public var bwlimit: String?
    /// Include globs.
    public var include: [String] = []
    /// Exclude globs.
    public var exclude: [String] = []
    /// Follow symbolic links in the dataset.
    public var followSymlinks = false
    /// Shell script run before the transfer (non-zero fails the run), or nil.
    public var preScript: String?
    /// Shell script run after a successful transfer, or nil.
    public var postScript: String?
    /// When the task was created (the schedule counts from here until the first run).
    public var created = Date().timeIntervalSince1970

    /// Creates a task with defaults.
    public init(name: String) { self.name = name }

    /// Checks every field; throws the first problem with what to do.
    public func validate() throws(SyncError) {
        guard !name.isEmpty, name.count <= 64,
              name.unicodeScalars.allSatisfy({ CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-").contains($0) }),
              name.first != "." && name.first != "-" else {
            throw SyncError(.usage, "task name '\(name)': use 1-64 letters, digits, '.', '_' or '-' (it names the systemd units and log files)")
        }
        guard localPath.hasPrefix("/") else { throw SyncError(.usage, "--local '\(localPath)': give an absolute path to the dataset directory") }
        guard mountpoint.hasPrefix("/") else { throw SyncError(.usage, "--mountpoint '\(mountpoint)': give an absolute path") }
        guard (1...64).contains(transfers) else { throw SyncError(.usage, "--transfers must be between 1 and 64 (got \(transfers))") }
        do { _ = try CronSchedule(schedule) } catch { throw SyncError(.usage, "--schedule '\(schedule)': \(error)") }
        if let bwlimit { do { _ = try BandwidthSchedule(bwlimit) } catch { throw SyncError(.usage, "--bwlimit '\(bwlimit)': \(error)") } }
        do { _ = try PathFilter(include: include, exclude: exclude) } catch { throw SyncError(.usage, "\(error)") }
        let folderPath = Endpoint.normalize("/" + folder)
        let google = Endpoint(path: Endpoint.normalize(mountpoint + folderPath), mountRoot: mountpoint, relative: String(folderPath.dropFirst()))
        _ = try FolderRules.check(direction: direction, mode: mode, google: google)
    }

    /// SOURCE and DEST of a run with the mount at `mountRoot`.
    func endpoints(mountRoot: String) -> (source: String, dest: String) {
        let google = Endpoint.normalize(mountRoot + "/" + folder)
        return direction == .push ? (localPath, google) : (google, localPath)
    }

    /// The reverse task TrueNAS' "restore" makes: opposite direction, disabled.
    public func restored(name: String, localPath: String, mode: SyncMode) -> SyncTask {
        var t = self
        t.name = name
        t.description = "restore of \(self.name)" + (description.isEmpty ? "" : ": \(description)")
        t.direction = direction == .push ? .pull : .push
        t.mode = mode
        t.localPath = localPath
        t.enabled = false
        t.preScript = nil
        t.postScript = nil
        t.created = Date().timeIntervalSince1970
        return t
    }
}

/// One run of a task.
public struct TaskRun: Codable, Sendable, Equatable {
    /// Run id (increasing).
    public var id: Int64
    /// The task's name.
    public var task: String
    /// Start time.
    public var started: Double
    /// End time, nil while running.
    public var finished: Double?
    /// RUNNING, SUCCESS, FAILED, ABORTED.
    public var state: String
    /// The exit code.
    public var exitCode: Int32?
    /// A dry run.
    public var dryRun: Bool
    /// The run's summary (JSON of SyncSummary), once finished.
    public var summary: SyncSummary?
    /// The run's log file.
    public var log: String
    /// The process running it.
    public var pid: Int32
}

extension SyncStore {
    static func registerTaskMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2-tasks") { db in
            try db.execute(sql: """
                CREATE TABLE tasks (name TEXT PRIMARY KEY NOT NULL, json TEXT NOT NULL);
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, task TEXT NOT NULL, started REAL NOT NULL, finished REAL,
                    state TEXT NOT NULL, exit_code INTEGER, dry_run INTEGER NOT NULL, summary TEXT, log TEXT NOT NULL,
                    pid INTEGER NOT NULL);
                CREATE INDEX runs_by_task ON runs (task, id);
                """)
        }
    }

    /// All tasks, by name.
    public func tasks() throws(SyncError) -> [SyncTask] {
        try read("reading tasks") { db in
            try String.fetchAll(db, sql: "SELECT json FROM tasks ORDER BY name").compactMap {
                try? JSONDecoder().decode(SyncTask.self, from: Data($0.utf8))
            }
        }
    }

    /// One task, or nil.
    public func task(_ name: String) throws(SyncError) -> SyncTask? {
        try read("reading task \(name)") { db in
            try String.fetchOne(db, sql: "SELECT json FROM tasks WHERE name = ?", arguments: [name]).flatMap {
                try? JSONDecoder().decode(SyncTask.self, from: Data($0.utf8))
            }
        }
    }

    /// Saves a task; `create` refuses an existing name, else the task must exist.
    public func save(_ task: SyncTask, create: Bool) throws(SyncError) {
        let json = String(decoding: (try? JSONEncoder().encode(task)) ?? Data(), as: UTF8.self)
        let exists = try self.task(task.name) != nil
        if create && exists { throw SyncError(.usage, "a task named '\(task.name)' already exists (edit it, or pick another name)") }
        if !create && !exists { throw SyncError(.usage, "no task named '\(task.name)' (gphotos-sync task list shows them)") }
        try write("saving task \(task.name)") { db in
            try db.execute(sql: "INSERT OR REPLACE INTO tasks (name, json) VALUES (?, ?)", arguments: [task.name, json])
        }
    }

    /// Deletes a task and its run records (log files are the caller's).
    public func deleteTask(_ name: String) throws(SyncError) {
        try write("deleting task \(name)") { db in
            try db.execute(sql: "DELETE FROM tasks WHERE name = ?", arguments: [name])
            try db.execute(sql: "DELETE FROM runs WHERE task = ?", arguments: [name])
        }
    }

    /// Records the start of a run; returns its id.
    public func startRun(task: String, dryRun: Bool, logDir: String) throws(SyncError) -> TaskRun {
        let now = Date().timeIntervalSince1970
        let pid = getpid()
        let id: Int64 = try write("recording a run of \(task)") { db in
            try db.execute(sql: "INSERT INTO runs (task, started, state, dry_run, log, pid) VALUES (?, ?, 'RUNNING', ?, '', ?)",
                           arguments: [task, now, dryRun, pid])
            let id = db.lastInsertedRowID
            try db.execute(sql: "UPDATE runs SET log = ? WHERE id = ?", arguments: [logDir + "/\(task)/\(id).log", id])
            return id
        }
        return TaskRun(id: id, task: task, started: now, finished: nil, state: "RUNNING", exitCode: nil, dryRun: dryRun,
                       summary: nil, log: logDir + "/\(task)/\(id).log", pid: pid)
    }

    /// Records the end of a run.
    public func finishRun(_ id: Int64, summary: SyncSummary) throws(SyncError) {
        let json = String(decoding: (try? JSONEncoder().encode(summary)) ?? Data(), as: UTF8.self)
        try write("recording the end of run \(id)") { db in
            try db.execute(sql: "UPDATE runs SET finished = ?, state = ?, exit_code = ?, summary = ? WHERE id = ?",
                           arguments: [Date().timeIntervalSince1970, summary.state, summary.exitCode, json, id])
        }
    }

    /// The runs of a task, newest first (at most `limit`). A run whose process died unfinished reads FAILED.
    public func runs(task: String, limit: Int = 20) throws(SyncError) -> [TaskRun] {
        try read("reading runs of \(task)") { db in
            try Row.fetchAll(db, sql: "SELECT id, task, started, finished, state, exit_code, dry_run, summary, log, pid FROM runs WHERE task = ? ORDER BY id DESC LIMIT ?",
                             arguments: [task, limit]).map { r in
                var run = TaskRun(id: r[0], task: r[1], started: r[2], finished: r[3], state: r[4], exitCode: r[5], dryRun: r[6],
                                  summary: (r[7] as String?).flatMap { try? JSONDecoder().decode(SyncSummary.self, from: Data($0.utf8)) },
                                  log: r[8], pid: r[9])
                if run.finished == nil && kill(run.pid, 0) != 0 && errno == ESRCH {
                    run.state = "FAILED"   // the process ended without recording an end (killed, crashed)
                }
                return run
            }
        }
    }

    private func read<T>(_ what: String, _ body: (Database) throws -> T) throws(SyncError) -> T {
        do { return try db.read(body) } catch { throw SyncError(.fatal, "\(what): \(error)") }
    }

    private func write<T>(_ what: String, _ body: (Database) throws -> T) throws(SyncError) -> T {
        do { return try db.write(body) } catch { throw SyncError(.fatal, "\(what): \(error)") }
    }
}

/// A task's state as TrueNAS shows it, with the last run and the next scheduled time.
public struct TaskStatus: Codable, Sendable {
    /// The task.
    public var task: SyncTask
    /// PENDING (never run), RUNNING, SUCCESS, FAILED, ABORTED.
    public var state: String
    /// The last run (a dry run counts too).
    public var lastRun: TaskRun?
    /// The next scheduled run (enabled tasks only), seconds since the epoch.
    public var nextRun: Double?

    /// The status of `task` from its runs, at `now`.
    public static func of(_ task: SyncTask, runs: [TaskRun], now: Date = Date()) -> TaskStatus {
        let last = runs.first
        var next: Double?
        if task.enabled, let cron = try? CronSchedule(task.schedule) {
            next = cron.next(after: now, timeZone: .current)?.timeIntervalSince1970
        }
        return TaskStatus(task: task, state: last?.state ?? "PENDING", lastRun: last, nextRun: next)
    }

    /// True when a scheduled time fell after the last run started (or the task was created) and at or before `now`.
    public static func isDue(_ task: SyncTask, lastRun: TaskRun?, now: Date) -> Bool {
        guard task.enabled, let cron = try? CronSchedule(task.schedule) else { return false }
        let since = Date(timeIntervalSince1970: max(task.created, lastRun?.started ?? 0))
        guard let next = cron.next(after: since, timeZone: .current) else { return false }
        return next <= now
    }
}
