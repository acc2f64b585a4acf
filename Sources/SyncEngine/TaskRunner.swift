// Running a saved task: record the run, the pre-script, a private mount of the account when its mountpoint is not
// up, the sync itself (logged to the run's file), the post-script after success, and the run's end. Scripts see a
// description of the task in their environment, never a token or secret.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs saved tasks.
public enum TaskRunner {
    /// Runs `task` (the caller holds no lock; the run takes its path locks), reporting to `reporter` and to the run's
    /// log file; returns the run's summary (also stored).
    public static func run(_ task: SyncTask, store: SyncStore, stateDir: String, dryRun: Bool, output: SyncReporter.Options,
                           abort: AbortFlag) async -> SyncSummary {
        var summary = SyncSummary()
        summary.direction = task.direction.rawValue
        summary.mode = task.mode.rawValue
        summary.dryRun = dryRun
        if let running = (try? store.runs(task: task.name, limit: 1))?.first, running.state == "RUNNING" {
            let r = SyncReporter(output)
            summary = failed(summary, SyncError(.temporary, "task '\(task.name)' is already running (pid \(running.pid)); wait for it, or gphotos-sync task abort \(task.name)"))
            r.error(nil, summary.message)
            return summary
        }
        let run: TaskRun
        do { run = try store.startRun(task: task.name, dryRun: dryRun, logDir: stateDir + "/logs") } catch {
            summary = failed(summary, error)
            SyncReporter(output).error(nil, error.message)
            return summary
        }
        try? FileManager.default.createDirectory(atPath: (run.log as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
                                                 attributes: [.posixPermissions: 0o700])
        var options = output
        options.logFile = run.log
        let reporter = SyncReporter(options)
        summary = await body(task, run: run, reporter: reporter, stateDir: stateDir, dryRun: dryRun, abort: abort)
        try? store.finishRun(run.id, summary: summary)
        return summary
    }

    private static func body(_ task: SyncTask, run: TaskRun, reporter: SyncReporter, stateDir: String, dryRun: Bool,
                             abort: AbortFlag) async -> SyncSummary {
        var summary = SyncSummary()
        summary.direction = task.direction.rawValue
        summary.mode = task.mode.rawValue
        summary.dryRun = dryRun
        var env = scriptEnvironment(task, run: run, dryRun: dryRun)
        do throws(SyncError) {
            try task.validate()
            if let pre = task.preScript, !dryRun {
                let rc = await runScript(pre, label: "Pre-script", environment: env, stdin: nil, reporter: reporter)
                if rc != 0 { throw SyncError(.other, "Pre-script failed with exit code \(rc)") }
            }
            let mount = try await PrivateMount.ensure(task, reporter: reporter)
            env["GPHOTOS_SYNC_MOUNTPOINT"] = mount.root
            let (source, dest) = task.endpoints(mountRoot: mount.root)
            var req = SyncRequest(direction: task.direction, mode: task.mode, source: source, dest: dest,
                                  filter: try filter(task), stateDir: stateDir)
            req.dryRun = dryRun
            req.transfers = task.transfers
            req.bwlimit = try task.bwlimit.map { text throws(SyncError) in
                do { return try BandwidthSchedule(text) } catch { throw SyncError(.usage, "--bwlimit '\(text)': \(error)") }
            }
            req.followSymlinks = task.followSymlinks
            req.label = "task \(task.name)"
            summary = await SyncRunner.run(req, reporter: reporter, abort: abort)
            await mount.release(reporter: reporter)
        } catch {
            reporter.error(nil, error.message)
            summary = failed(summary, error)
            reporter.summary(summary)
            return summary
        }
        if summary.state == "SUCCESS", let post = task.postScript, !dryRun {
            env["GPHOTOS_SYNC_STATE"] = summary.state
            let json = (try? JSONEncoder().encode(summary)) ?? Data()
            let rc = await runScript(post, label: "Post-script", environment: env, stdin: json, reporter: reporter)
            if rc != 0 {
                reporter.error(nil, "Post-script failed with exit code \(rc)")
                summary.state = "FAILED"; summary.errors += 1; summary.exitCode = SyncExitCode.uncategorizedError.rawValue
            }
        }
        return summary
    }

    static func failed(_ s: SyncSummary, _ e: SyncError) -> SyncSummary {
        var s = s
        s.state = "FAILED"; s.errors += 1; s.exitCode = e.exitCode.rawValue; s.message = "FAILED: \(e.message)"
        return s
    }

    static func filter(_ task: SyncTask) throws(SyncError) -> PathFilter {
        do { return try PathFilter(include: task.include, exclude: task.exclude) } catch { throw SyncError(.usage, "\(error)") }
    }

    /// What a script sees: the task, never a credential (no token, no client secret, no accounts directory).
    static func scriptEnvironment(_ task: SyncTask, run: TaskRun, dryRun: Bool) -> [String: String] {
        let inherited = ProcessInfo.processInfo.environment
        var env: [String: String] = ["PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
        for key in ["HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME"] { env[key] = inherited[key] }
        env["GPHOTOS_SYNC_TASK"] = task.name
        env["GPHOTOS_SYNC_DESCRIPTION"] = task.description
        env["GPHOTOS_SYNC_DIRECTION"] = task.direction.rawValue.uppercased()
        env["GPHOTOS_SYNC_TRANSFER_MODE"] = task.mode.rawValue.uppercased()
        env["GPHOTOS_SYNC_LOCAL_PATH"] = task.localPath
        env["GPHOTOS_SYNC_FOLDER"] = task.folder
        env["GPHOTOS_SYNC_ACCOUNT"] = task.account
        env["GPHOTOS_SYNC_RUN_ID"] = String(run.id)
        env["GPHOTOS_SYNC_DRY_RUN"] = dryRun ? "1" : "0"
        return env
    }

    /// Runs a script (bash, or its own `#!` interpreter) with `environment`, its output copied into the log with a
    /// "[Pre-script] " / "[Post-script] " prefix; bounded to one hour. Returns its exit status (-1: could not run).
    static func runScript(_ text: String, label: String, environment: [String: String], stdin: Data?, reporter: SyncReporter) async -> Int32 {
        await onThread { () -> Int32 in
            var template = Array("/tmp/gphotos-sync-script-XXXXXX".utf8CString)
            guard let dirPtr = mkdtemp(&template) else { return -1 }
            let dir = String(cString: dirPtr)
            defer { try? FileManager.default.removeItem(atPath: dir) }
            let path = dir + "/script"
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o700]) else { return -1 }
            let p = Process()
            if text.hasPrefix("#!") {
                p.executableURL = URL(fileURLWithPath: path)
            } else {
                p.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/bin/bash") ? "/bin/bash" : "/bin/sh")
                p.arguments = [path]
            }
            p.environment = environment
            p.currentDirectoryURL = URL(fileURLWithPath: dir)
            let out = Pipe()
            p.standardOutput = out
            p.standardError = out
            let input = Pipe()
            p.standardInput = input
            do { try p.run() } catch {
                reporter.error(nil, "\(label) could not start: \(error.localizedDescription)")
                return -1
            }
            input.fileHandleForWriting.write(stdin ?? Data())
            try? input.fileHandleForWriting.close()
            let reader = out.fileHandleForReading
            var pending = Data()
            let deadline = Date().addingTimeInterval(3600)
            while true {   // bounded by EOF or the deadline
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let nl = pending.firstIndex(of: 0x0A) {
                    reporter.note("[\(label)] " + String(decoding: pending[pending.startIndex..<nl], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...nl)
                }
                if Date() > deadline { p.terminate(); break }
            }
            if !pending.isEmpty { reporter.note("[\(label)] " + String(decoding: pending, as: UTF8.self)) }
            for _ in 0..<600 where p.isRunning { usleep(10_000) }
            if p.isRunning { kill(p.processIdentifier, SIGKILL); return -1 }
            return p.terminationStatus
        }
    }
}

/// The account's mount for a task run: the task's mountpoint when a gphotosfs mount answers there, else a private
/// mount in a temporary directory (`gphotosfs mount --account ACCOUNT DIR`), unmounted after the run.
struct PrivateMount: Sendable {
    let root: String
    let privateDir: String?

    static func ensure(_ task: SyncTask, reporter: SyncReporter) async throws(SyncError) -> PrivateMount {
        let up = await onThread { hasXattr(task.mountpoint, "user.gphotos.status") }
        if up { return PrivateMount(root: task.mountpoint, privateDir: nil) }
        var template = Array("/tmp/gphotos-sync-mnt-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw SyncError.posix(errno, "/tmp", "can't make a private mountpoint") }
        let dir = String(cString: p)
        reporter.warning("\(task.mountpoint) is not a gphotosfs mount: mounting account '\(task.account)' privately at \(dir) for this run")
        var args = ["mount", "--account", task.account, dir]
        if let o = task.mountOptions, !o.isEmpty { args += ["-o", o] }
        let (status, output) = await run(gphotosfsBinary(), args, timeout: 120)
        guard status == 0, await onThread({ hasXattr(dir, "user.gphotos.status") }) else {
            _ = await run("/usr/bin/env", ["fusermount3", "-uz", dir], timeout: 10)
            rmdir(dir)
            throw SyncError(.temporary, "could not mount account '\(task.account)' at \(dir): \(output.trimmingCharacters(in: .whitespacesAndNewlines)) (mount it at \(task.mountpoint) yourself, or check `gphotosfs auth status --account \(task.account)`)")
        }
        return PrivateMount(root: dir, privateDir: dir)
    }

    /// Unmounts a private mount (its pending uploads get the mount's grace period) and removes the directory.
    func release(reporter: SyncReporter) async {
        guard let dir = privateDir else { return }
        let (status, output) = await Self.run("/usr/bin/env", ["fusermount3", "-u", dir], timeout: 30)
        if status != 0 {
            reporter.warning("unmounting the private mount \(dir) failed (\(output.trimmingCharacters(in: .whitespacesAndNewlines))); detaching it")
            _ = await Self.run("/usr/bin/env", ["fusermount3", "-uz", dir], timeout: 10)
        }
        for _ in 0..<300 where rmdir(dir) != 0 && errno == EBUSY { usleep(100_000) }   // the daemon drains, bounded 30 s
    }

    /// gphotosfs beside this executable, else from PATH.
    static func gphotosfsBinary() -> String {
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let sibling = (me as NSString).deletingLastPathComponent + "/gphotosfs"
        return FileManager.default.isExecutableFile(atPath: sibling) ? sibling : "/usr/bin/env"
    }

    /// Runs a command with a deadline: its status (nil on timeout, then killed) and its combined output (kept in a
    /// temporary file: a daemonizing child may pass a pipe on to its own child, so EOF would never come). posix_spawn
    /// and waitpid directly: Foundation's Process left the daemonizing parent unreaped here.
    static func run(_ exe: String, _ args: [String], timeout: Double) async -> (Int32?, String) {
        let argv = exe == "/usr/bin/env" && args.first == "mount" ? ["gphotosfs"] + args : args
        return await onThread { () -> (Int32?, String) in
            var template = Array("/tmp/gphotos-sync-out-XXXXXX".utf8CString)
            let outFD = mkstemp(&template)
            guard outFD >= 0 else { return (nil, "can't make a temporary file: \(String(cString: strerror(errno)))") }
            let outPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            defer { close(outFD); unlink(outPath) }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, outFD, 1)
            posix_spawn_file_actions_adddup2(&actions, outFD, 2)
            let cargs = ([exe] + argv).map { strdup($0) } + [nil]
            defer { for a in cargs { free(a) } }
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, exe, &actions, nil, cargs, environ)
            guard rc == 0 else { return (nil, "\(exe): \(String(cString: strerror(rc)))") }
            var status: Int32 = 0
            let deadline = Date().addingTimeInterval(timeout)
            var ended = false
            while Date() < deadline {   // bounded by the deadline
                let w = waitpid(pid, &status, WNOHANG)
                if w == pid { ended = true; break }
                if w < 0 && errno != EINTR { break }
                usleep(20_000)
            }
            if !ended {
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                return (nil, "timed out after \(Int(timeout)) s")
            }
            let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
            let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            return (code, output)
        }
    }
}
