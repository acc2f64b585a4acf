// Daemon: `gphotosfs mount` without -f re-executes itself with -f in a new session and returns once that child's
// mount answers. No fork(): the Swift runtime already runs threads, and fork() in a threaded process is unsafe.
import CFuse3
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Detaching a mount into the background.
public enum Daemon {
    /// Set in the detached child's environment.
    public static let childEnvironment = "GPHOTOSFS_DETACHED"

    /// True in a detached child.
    public static var isDetachedChild: Bool { ProcessInfo.processInfo.environment[childEnvironment] == "1" }

    /// Starts this executable with `arguments` (which must make it stay in the foreground) via posix_spawn in a new
    /// session, stdin on /dev/null and its output on a pipe. Relays that output: lines starting with `readyPrefix`
    /// or "gphotosfs: " to standard output, the rest to standard error. Returns 0 once a `readyPrefix` line came
    /// (the child keeps running, detached), the child's exit status if it ended first, 1 after `timeout` seconds
    /// (the child is then stopped).
    public static func detach(arguments: [String], readyPrefix: String, timeout: Double) async -> Int32 {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { say(2, "gphotosfs: pipe: \(String(cString: strerror(errno)))"); return 1 }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var env = ProcessInfo.processInfo.environment
        env[childEnvironment] = "1"
        let argv = ([exe] + arguments).map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for p in argv + envp { free(p) } }
        var pid: pid_t = 0
        let rc = argv.withUnsafeBufferPointer { a in
            envp.withUnsafeBufferPointer { e in cfuse_spawn_detached(&pid, exe, a.baseAddress, e.baseAddress, fds[1]) }
        }
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            say(2, "gphotosfs: cannot start \(exe): \(String(cString: strerror(rc)))")
            return 1
        }
        let readFD = fds[0]
        let child = pid
        let outcome = await Blocking.run(timeout: timeout + 5) { () -> Int32 in
            relay(readFD, child: child, readyPrefix: readyPrefix, deadline: Date().addingTimeInterval(timeout))
        }
        close(readFD)
        return outcome ?? 1
    }

    /// Reads the child's lines until the ready line, EOF or the deadline.
    private static func relay(_ fd: Int32, child: pid_t, readyPrefix: String, deadline: Date) -> Int32 {
        var pending = Data()
        var buf = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&pfd, 1, 200)
            if ready < 0 && errno != EINTR { break }
            if ready <= 0 { continue }
            let n = read(fd, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 {
                if !pending.isEmpty { say(2, String(decoding: pending, as: UTF8.self)) }
                return exitStatus(child)
            }
            pending.append(contentsOf: buf[0..<n])
            while let nl = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                pending.removeSubrange(pending.startIndex...nl)
                if line.hasPrefix(readyPrefix) { say(1, line); return 0 }
                say(line.hasPrefix("gphotosfs: ") ? 1 : 2, line)
            }
        }
        say(2, "gphotosfs: the mount did not become ready in time; stopping it (pid \(child))")
        kill(child, SIGTERM)
        return 1
    }

    /// Waits for the child and decodes its status (bounded: it already closed its output).
    private static func exitStatus(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        for _ in 0..<600 {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F) }
            if r < 0 { return 1 }
            usleep(50_000)
        }
        return 1
    }

    /// After the ready line: the detached child stops writing to the parent's pipe (stdout and stderr → /dev/null).
    public static func releaseTerminal() {
        let null = open("/dev/null", O_RDWR)
        guard null >= 0 else { return }
        dup2(null, 1)
        dup2(null, 2)
        if null > 2 { close(null) }
    }

    /// Writes a line to fd 1 or 2, unbuffered.
    static func say(_ fd: Int32, _ text: String) {
        let line = text + "\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
    }
}
