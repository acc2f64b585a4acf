// MountedFS: FSUnderTest over a real FUSE mount of the built `gphotosfs` binary, driven by POSIX calls with deadlines.
import APITestSupport
import CFuse3
import FuseMount
import Foundation
import Harness
import PhotosFS
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A real mount driven by POSIX calls. Every call on the mount runs on its own thread and is abandoned after
/// `opTimeout` seconds (a hung daemon must fail the test, not hang it).
struct MountedFS: FSUnderTest {
    /// The mountpoint.
    let root: String
    /// The cache dir of the mount (its log is gphotosfs.log there).
    let cacheDir: String
    /// Seconds each operation may take.
    var opTimeout: Double = 60
    var label: String { "mount" }

    /// Mounts `gphotosfs` for `account` in a temp dir for the length of `body`; always unmounts.
    static func with<T>(account: TestAccount, cacheDir: String, options: MountOptions,
                        _ body: (MountedFS) async throws -> T) async throws -> T {
        let mount = try await MountProcess.start(account: account, cacheDir: cacheDir, options: options)
        do {
            let r = try await body(MountedFS(root: mount.mountpoint, cacheDir: cacheDir))
            try mount.unmount()
            return r
        } catch {
            mount.forceUnmount()
            throw error
        }
    }

    /// The absolute path of `path` under the mount.
    func full(_ path: String) -> String { path.isEmpty ? root : root + "/" + path }

    /// Runs a blocking POSIX body with the deadline; its errno becomes FSOpError.
    func posix<T: Sendable>(_ what: String, _ path: String, _ body: @escaping @Sendable (String) -> Result<T, FSOpError>) async throws -> T {
        let p = full(path)
        guard let r = await Blocking.run(timeout: opTimeout, { body(p) }) else {
            throw FSOpError(errno: ETIMEDOUT, context: "\(what) \(path): no answer within \(Int(opTimeout)) s")
        }
        return try r.get()
    }

    func write(_ path: String, _ data: Data) async throws { try await writeFile(path, data, sync: false) }
    func writeAndFsync(_ path: String, _ data: Data) async throws { try await writeFile(path, data, sync: true) }

    private func writeFile(_ path: String, _ data: Data, sync: Bool) async throws {
        try await posix("write", path) { p -> Result<Void, FSOpError> in
            let fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            if fd < 0 { return .failure(FSOpError(errno: errno, context: "open \(path)")) }
            var off = 0
            let failed: Int32? = data.withUnsafeBytes { b in
                while off < b.count {
                    let n = pwrite(fd, b.baseAddress! + off, min(b.count - off, 1 << 20), off_t(off))
                    if n < 0 { if errno == EINTR { continue }; return errno }
                    off += n
                }
                return nil
            }
            if let e = failed { close(fd); return .failure(FSOpError(errno: e, context: "write \(path)")) }
            if sync && fsync(fd) != 0 { let e = errno; close(fd); return .failure(FSOpError(errno: e, context: "fsync \(path)")) }
            if close(fd) != 0 { return .failure(FSOpError(errno: errno, context: "close \(path)")) }
            return .success(())
        }
    }

    func read(_ path: String) async throws -> Data {
        try await posix("read", path) { p -> Result<Data, FSOpError> in
            let fd = open(p, O_RDONLY | O_CLOEXEC)
            if fd < 0 { return .failure(FSOpError(errno: errno, context: "open \(path)")) }
            defer { close(fd) }
            var out = Data()
            let chunk = 1 << 20
            let buf = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 16)
            defer { buf.deallocate() }
            for _ in 0..<100_000 {
                let n = Glibc.read(fd, buf, chunk)
                if n < 0 { if errno == EINTR { continue }; return .failure(FSOpError(errno: errno, context: "read \(path)")) }
                if n == 0 { return .success(out) }
                out.append(buf.assumingMemoryBound(to: UInt8.self), count: n)
            }
            return .failure(FSOpError(errno: EFBIG, context: "read \(path): over 100 GB"))
        }
    }

    func list(_ path: String) async throws -> [String] {
        try await posix("list", path) { p -> Result<[String], FSOpError> in
            guard let d = opendir(p) else { return .failure(FSOpError(errno: errno, context: "opendir \(path)")) }
            defer { closedir(d) }
            var names: [String] = []
            errno = 0
            for _ in 0..<10_000_000 {
                guard let e = readdir(d) else {
                    if errno != 0 { return .failure(FSOpError(errno: errno, context: "readdir \(path)")) }
                    break
                }
                let name = withUnsafeBytes(of: e.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { names.append(name) }
            }
            return .success(names.sorted())
        }
    }

    func stat(_ path: String) async throws -> TestStat {
        try await posix("stat", path) { p -> Result<TestStat, FSOpError> in
            var st = Glibc.stat()
            if lstat(p, &st) != 0 { return .failure(FSOpError(errno: errno, context: "stat \(path)")) }
            return .success(TestStat(isDirectory: st.st_mode & S_IFMT == S_IFDIR, size: Int64(st.st_size),
                                     permissions: UInt32(st.st_mode) & 0o7777,
                                     mtime: Date(timeIntervalSince1970: Double(st.st_mtim.tv_sec) + Double(st.st_mtim.tv_nsec) / 1e9),
                                     ino: UInt64(st.st_ino)))
        }
    }

    func mkdir(_ path: String) async throws { try await simple("mkdir", path) { Glibc.mkdir($0, 0o755) } }
    func rmdir(_ path: String) async throws { try await simple("rmdir", path) { Glibc.rmdir($0) } }
    func unlink(_ path: String) async throws { try await simple("unlink", path) { Glibc.unlink($0) } }
    func chmod(_ path: String, _ mode: UInt32) async throws { try await simple("chmod", path) { Glibc.chmod($0, mode_t(mode)) } }

    func rename(_ from: String, _ to: String) async throws {
        let target = full(to)
        try await simple("rename", from) { Glibc.rename($0, target) }
    }

    func getxattr(_ path: String, _ name: String) async throws -> Data? {
        try await posix("getxattr", path) { p -> Result<Data?, FSOpError> in
            for _ in 0..<8 {
                let n = CFuse3.getxattr(p, name, nil, 0)
                if n < 0 { return errno == ENODATA ? .success(nil) : .failure(FSOpError(errno: errno, context: "getxattr \(path) \(name)")) }
                var buf = [UInt8](repeating: 0, count: n + 1)
                let m = CFuse3.getxattr(p, name, &buf, buf.count)
                if m >= 0 { return .success(Data(buf[0..<m])) }
                if errno == ENODATA { return .success(nil) }
                if errno != ERANGE { return .failure(FSOpError(errno: errno, context: "getxattr \(path) \(name)")) }
            }
            return .failure(FSOpError(errno: ERANGE, context: "getxattr \(path) \(name): value keeps growing"))
        }
    }

    func setxattr(_ path: String, _ name: String, _ value: Data) async throws {
        try await posix("setxattr", path) { p -> Result<Void, FSOpError> in
            let rc = value.withUnsafeBytes { CFuse3.setxattr(p, name, $0.baseAddress, $0.count, 0) }
            return rc == 0 ? .success(()) : .failure(FSOpError(errno: errno, context: "setxattr \(path) \(name)"))
        }
    }

    /// Polls the root status xattr until nothing is pending (bounded by `timeout`).
    func waitForUploads(timeout: Double) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        var last = ""
        while Date() < deadline {
            if let data = try await getxattr("", "user.gphotos.status") {
                last = String(decoding: data, as: UTF8.self)
                if MountedFS.pendingCount(data) == 0 { return }
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw FSOpError(errno: ETIMEDOUT, context: "uploads still pending after \(Int(timeout)) s: \(last.prefix(500))")
    }

    /// How many uploads the status JSON says are queued (`queued`, as the core's waitForUploads counts them).
    static func pendingCount(_ data: Data) -> Int {
        let obj = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        return (obj?["queued"] as? NSNumber)?.intValue ?? 0
    }

    private func simple(_ what: String, _ path: String, _ call: @escaping @Sendable (String) -> Int32) async throws {
        try await posix(what, path) { p in
            call(p) == 0 ? .success(()) : .failure(FSOpError(errno: errno, context: "\(what) \(path)"))
        }
    }
}

/// A running `gphotosfs mount -f` child and its mountpoint.
final class MountProcess: Sendable {
    /// The child.
    let child: ChildProcess
    /// The temp mountpoint (/tmp/gphotosfs-test-*).
    let mountpoint: String
    let dir: String

    private init(child: ChildProcess, mountpoint: String, dir: String) { self.child = child; self.mountpoint = mountpoint; self.dir = dir }

    /// The environment for gphotosfs children: the account's token store, and the test-run marker scripts/test uses.
    static func environment(_ account: TestAccount) -> [String: String] {
        var env = ProcessInfo.processInfo.environment
        env["GPHOTOSFS_ACCOUNTS_DIR"] = account.store.directory.path
        env["DISPLAY"] = nil; env["WAYLAND_DISPLAY"] = nil
        return env
    }

    /// A fresh mkdtemp mountpoint /tmp/gphotosfs-test-mnt-XXXXXX.
    static func makeMountpoint() throws -> String {
        var template = Array("/tmp/gphotosfs-test-mnt-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw TestFailure("mkdtemp: \(String(cString: strerror(errno)))") }
        return String(cString: p)
    }

    /// `-o` text for test options (the log goes to the cache dir so the child's pipes never fill).
    static func optionString(_ options: MountOptions, cacheDir: String) -> String {
        var o = options
        o.cacheDir = cacheDir
        if o.logFile == nil { o.logFile = cacheDir + "/gphotosfs.log" }
        return o.optionString
    }

    /// Starts `gphotosfs mount -f` and waits until the root answers a stat with inode 1.
    static func start(account: TestAccount, cacheDir: String, options: MountOptions, extra: [String] = [],
                      requireRoot: Bool = true) async throws -> MountProcess {
        let mnt = try makeMountpoint()
        _ = run("/usr/bin/env", ["fusermount3", "-uz", mnt], timeout: 10)   // P14: never stack on a stale mount
        let args = ["mount", "-f", "--account", account.credentials.account, mnt,
                    "-o", optionString(options, cacheDir: cacheDir)] + extra
        let child = try ChildProcess(executable: builtExecutable("gphotosfs"), arguments: args, environment: environment(account))
        let m = MountProcess(child: child, mountpoint: mnt, dir: mnt)
        do {
            try await m.waitReady(requireRoot: requireRoot, timeout: 60)
        } catch {
            m.forceUnmount()
            throw error
        }
        return m
    }

    /// Waits for the ready line and a root stat round trip.
    func waitReady(requireRoot: Bool, timeout: Double) async throws {
        let line = await Blocking.run(timeout: timeout) { [child] () -> String in
            for _ in 0..<5 {   // "gphotosfs: embedded gphotos-emulator at ..." may come first
                let l = child.readLine(timeout: timeout)
                if l.isEmpty || l.hasPrefix("gphotosfs: mounted ") { return l }
            }
            return ""
        } ?? ""
        guard line.hasPrefix("gphotosfs: mounted ") else {
            throw TestFailure("gphotosfs mount did not start: '\(line)' \(child.stderrSoFar()) \(log())")
        }
        guard requireRoot else { return }
        let deadline = Date().addingTimeInterval(timeout)
        let mnt = mountpoint
        var last: Int32 = 0
        while Date() < deadline {
            let r = await Blocking.run(timeout: 10) { () -> Int32 in
                var st = Glibc.stat()
                if lstat(mnt, &st) != 0 { return errno }
                return st.st_ino == 1 ? 0 : -1
            }
            if r == 0 { return }
            last = r ?? ETIMEDOUT
            // The daemon only says "mounted" once the loop answers, so a definite error here is the core's answer.
            if last != ENOTCONN && last != ETIMEDOUT && Date() > deadline.addingTimeInterval(-timeout + 3) { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("the mount's root did not answer a stat with inode 1 (last: errno \(last)); log: \(log())")
    }

    /// The mount's log file (when the test options put it in the cache dir), for failure messages.
    func log() -> String {
        guard let i = child.process.arguments?.firstIndex(of: "-o"), let opts = child.process.arguments?[i + 1],
              let lf = opts.split(separator: ",").first(where: { $0.hasPrefix("log_file=") }) else { return "" }
        let text = (try? String(contentsOfFile: String(lf.dropFirst(9)), encoding: .utf8)) ?? ""
        return String(text.suffix(3000))
    }

    /// True while the mountpoint is in /proc/self/mountinfo.
    var isMounted: Bool { MountProcess.isMounted(mountpoint) }

    /// Whether `path` is a mountpoint now.
    static func isMounted(_ path: String) -> Bool {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return false }
        return text.split(separator: "\n").contains { line in
            let f = line.split(separator: " ")
            return f.count > 4 && f[4] == path
        }
    }

    /// Clean unmount: `fusermount3 -u`, then the process must exit 0 within 30 s; throws otherwise (after forcing).
    func unmount() throws {
        let rc = MountProcess.run("/usr/bin/env", ["fusermount3", "-u", mountpoint], timeout: 20)
        let status = child.wait(timeout: 30)
        if rc != 0 || status != 0 {
            forceUnmount()
            throw TestFailure("unmount: fusermount3 -u → \(rc.map(String.init) ?? "timeout"), gphotosfs exit \(status.map(String.init) ?? "timeout"); log: \(log())")
        }
        rmdir(mountpoint)
    }

    /// Unmounts whatever the state: -u, -uz, kill -9, -uz again.
    func forceUnmount() {
        if isMounted { _ = MountProcess.run("/usr/bin/env", ["fusermount3", "-u", mountpoint], timeout: 10) }
        if isMounted { _ = MountProcess.run("/usr/bin/env", ["fusermount3", "-uz", mountpoint], timeout: 10) }
        if child.process.isRunning {
            if child.wait(timeout: 15) == nil { _ = child.wait(timeout: 0) }   // wait() kills with SIGKILL on timeout
        }
        if isMounted { _ = MountProcess.run("/usr/bin/env", ["fusermount3", "-uz", mountpoint], timeout: 10) }
        rmdir(mountpoint)
    }

    /// Runs a helper command with a deadline; its exit status, or nil on timeout (then killed).
    @discardableResult
    static func run(_ exe: String, _ args: [String], timeout: Double, environment: [String: String]? = nil) -> Int32? {
        runCapturing(exe, args, timeout: timeout, environment: environment).status
    }

    /// Runs a helper command with a deadline: its exit status (nil on timeout, then killed) and its combined output.
    static func runCapturing(_ exe: String, _ args: [String], timeout: Double,
                             environment: [String: String]? = nil) -> (status: Int32?, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        if let environment { p.environment = environment }
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        p.standardInput = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return (nil, "cannot start \(exe)") }
        let data = Mutex(Data())
        let readDone = DispatchSemaphore(value: 0)
        let reader = Thread {
            let bytes = out.fileHandleForReading.readDataToEndOfFile()   // not under the lock: it may block
            data.withLock { $0 = bytes }
            readDone.signal()
        }
        reader.start()
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        var status: Int32? = nil
        if p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            // Bounded: never waitUntilExit() (it can miss an exit and block forever).
            for _ in 0..<200 where p.isRunning { usleep(10_000) }
        } else {
            status = p.terminationStatus
        }
        _ = readDone.wait(timeout: .now() + 2)   // bounded: a grandchild may keep the pipe open
        return (status, String(decoding: data.withLock { $0 }, as: UTF8.self))
    }
}

