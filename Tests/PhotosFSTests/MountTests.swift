// Mount lifecycle through the real `gphotosfs` binary: signals, fusermount3 -u, -o ro, the fstab form, bad options,
// the embedded emulator, `gphotosfs status` and `gphotosfs refresh`.
import APITestSupport
import Foundation
import Harness
import PhotosAPI
@testable import PhotosFS
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Runs `gphotosfs ARGS` to completion (bounded) with the account's environment.
func runGPhotosFS(_ args: [String], account: TestAccount? = nil, timeout: Double = 120, viaShell: Bool = false) -> (status: Int32?, output: String) {
    var env = ProcessInfo.processInfo.environment
    if let account { env["GPHOTOSFS_ACCOUNTS_DIR"] = account.store.directory.path }
    let exe = builtExecutable("gphotosfs").path
    if viaShell { return MountProcess.runCapturing("/bin/sh", ["-c", args[2], exe], timeout: timeout, environment: env) }
    return MountProcess.runCapturing(exe, args, timeout: timeout, environment: env)
}

/// Runs a shell command (bounded); status and combined output.
func sh(_ script: String, timeout: Double = 120) -> (status: Int32?, output: String) {
    MountProcess.runCapturing("/bin/sh", ["-c", script], timeout: timeout)
}

/// Waits (bounded) until `path` is no longer a mountpoint.
func waitUnmounted(_ path: String, timeout: Double = 30) -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if !MountProcess.isMounted(path) { return true }
        usleep(50_000)
    }
    return false
}

/// Processes whose command line mentions `text` (the detached daemon of a mount).
func processes(mentioning text: String) -> [pid_t] {
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
    return names.compactMap { n -> pid_t? in
        guard let pid = pid_t(n), pid != getpid(),
              let data = FileManager.default.contents(atPath: "/proc/\(n)/cmdline") else { return nil }
        let cmd = String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self)
        return cmd.contains("gphotosfs") && cmd.contains(text) ? pid : nil
    }
}

@Suite("Mount lifecycle", .serialized)
struct MountTests {
    @Test("SIGTERM, SIGINT and SIGHUP unmount and the process exits 0", arguments: [SIGTERM, SIGINT, SIGHUP])
    func signalUnmounts(sig: Int32) async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let m = try await MountProcess.start(account: account, cacheDir: cache.path, options: testOptions(), requireRoot: false)
            #expect(m.isMounted)
            kill(m.child.process.processIdentifier, sig)
            let status = m.child.wait(timeout: 40)
            #expect(status == 0, "exit status after signal \(sig); log: \(m.log())")
            #expect(waitUnmounted(m.mountpoint), "still mounted after signal \(sig)")
            m.forceUnmount()
        }
    }

    @Test("fusermount3 -u unmounts and the process exits 0")
    func fusermountUnmounts() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let m = try await MountProcess.start(account: account, cacheDir: cache.path, options: testOptions(), requireRoot: false)
            let mnt = m.mountpoint
            try m.unmount()   // throws unless fusermount3 -u succeeded and the process exited 0
            #expect(!MountProcess.isMounted(mnt))
        }
    }

    @Test("the mount is listed as fuse.gphotosfs with fsname gphotosfs:ACCOUNT")
    func mountinfo() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let m = try await MountProcess.start(account: account, cacheDir: cache.path, options: testOptions(), requireRoot: false)
            defer { m.forceUnmount() }
            let info = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
            let line = info.split(separator: "\n").first { $0.contains(" \(m.mountpoint) ") }.map(String.init) ?? ""
            #expect(line.contains(" - fuse.gphotosfs gphotosfs:default "), "\(line)")
            #expect(line.contains("default_permissions"), "\(line)")
        }
    }

    @Test("the root answers stat with inode 1")
    func rootStat() async throws {
        try await withFS(.mount) { fs, _ in
            let st = try await fs.stat("")
            #expect(st.ino == 1)
            #expect(st.isDirectory)
        }
    }

    @Test("-o ro: mkdir and create fail with EROFS")
    func readOnly() async throws {
        try await withFS(.mount, options: testOptions { $0.readOnly = true }) { fs, _ in
            await #expect(throws: FSOpError.self) { try await fs.mkdir("album/New") }
            do { try await fs.mkdir("album/New") } catch let e as FSOpError { #expect(e.errno == EROFS, "\(e)") }
            do { try await fs.write("album/x.jpg", makeJPEG()) } catch let e as FSOpError { #expect(e.errno == EROFS, "\(e)") }
        }
    }

    @Test("fstab form `gphotosfs ACCOUNT MOUNTPOINT -o ...` mounts in the background; fusermount3 -u ends the daemon")
    func fstabForm() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let mnt = try MountProcess.makeMountpoint()
            defer { _ = MountProcess.run("/usr/bin/env", ["fusermount3", "-uz", mnt], timeout: 10); rmdir(mnt) }
            // Through sh, as mount.fuse3 does. The exit status travels through a file: Foundation's Process was seen
            // to miss the exit of a child whose own child detached into a new session.
            let out = cache.path + "/fstab.out", rcFile = cache.path + "/fstab.rc"
            _ = runGPhotosFS(["/bin/sh", "-c", "(\"$0\" default '\(mnt)' -o rw,nodev,nosuid,_netdev,nofail,x-systemd.automount,cache_dir='\(cache.path)',writeback=0 >'\(out)' 2>&1; echo $? >'\(rcFile)') </dev/null >/dev/null 2>&1 &"],
                             account: account, timeout: 30, viaShell: true)
            let rcDeadline = Date().addingTimeInterval(90)
            while !FileManager.default.fileExists(atPath: rcFile) && Date() < rcDeadline { usleep(100_000) }
            usleep(100_000)
            let rc = (try? String(contentsOfFile: rcFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            let output = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            #expect(rc == "0", "\(output)")
            #expect(output.contains("gphotosfs: mounted default at \(mnt)"), "\(output)")
            #expect(MountProcess.isMounted(mnt))
            #expect(!processes(mentioning: mnt).isEmpty, "no daemon process for \(mnt)")
            #expect(FileManager.default.fileExists(atPath: cache.path + "/gphotosfs.log"), "a detached mount logs to its state dir")
            #expect(MountProcess.run("/usr/bin/env", ["fusermount3", "-u", mnt], timeout: 20) == 0)
            #expect(waitUnmounted(mnt))
            let deadline = Date().addingTimeInterval(30)
            while !processes(mentioning: mnt).isEmpty && Date() < deadline { usleep(100_000) }
            #expect(processes(mentioning: mnt).isEmpty, "the daemon did not exit after fusermount3 -u")
        }
    }

    @Test("a bad -o option fails with a message naming it", arguments: [
        ("bogus=1", "bogus"), ("upload=maybe", "upload"), ("cache_max_size=lots", "cache_max_size"),
        ("writeback=soon", "writeback"), ("umask=999", "umask"),
    ])
    func badOption(option: String, named: String) async throws {
        let mnt = try MountProcess.makeMountpoint()
        defer { rmdir(mnt) }
        let r = runGPhotosFS(["mount", "-f", mnt, "-o", option], timeout: 30)
        #expect(r.status != nil && r.status != 0, "\(r.output)")
        #expect(r.output.contains(named), "\(r.output)")
        #expect(!MountProcess.isMounted(mnt))
    }

    @Test("no stored account: a clear error that says to log in")
    func noAccount() async throws {
        let mnt = try MountProcess.makeMountpoint()
        let accounts = TempDir()
        defer { rmdir(mnt) }
        var env = ProcessInfo.processInfo.environment
        env["GPHOTOSFS_ACCOUNTS_DIR"] = accounts.path
        let r = MountProcess.runCapturing(builtExecutable("gphotosfs").path, ["mount", "--account", "nobody", mnt], timeout: 30, environment: env)
        #expect(r.status != 0)
        #expect(r.output.contains("gphotosfs auth login"), "\(r.output)")
    }

    @Test("--emulator with no URL embeds an emulator whose library survives a remount")
    func embeddedEmulatorLifecycle() async throws {
        let cache = TempDir()
        for round in 0..<2 {
            let mnt = try MountProcess.makeMountpoint()
            let child = try ChildProcess(executable: builtExecutable("gphotosfs"),
                                         arguments: ["mount", "-f", "--emulator", mnt, "-o", "cache_dir=\(cache.path),log_file=\(cache.path)/log"])
            var lines: [String] = []
            for _ in 0..<3 {
                let l = child.readLine(timeout: 60)
                lines.append(l)
                if l.isEmpty || l.hasPrefix("gphotosfs: mounted") { break }
            }
            #expect(lines.contains { $0.hasPrefix("gphotosfs: embedded gphotos-emulator at http://127.0.0.1:") }, "\(lines) \(child.stderrSoFar())")
            #expect(lines.contains("gphotosfs: mounted emulator at \(mnt)"), "\(lines)")
            #expect(FileManager.default.fileExists(atPath: cache.path + "/emulator/emulator.sqlite"), "round \(round)")
            #expect(MountProcess.run("/usr/bin/env", ["fusermount3", "-u", mnt], timeout: 20) == 0)
            #expect(child.wait(timeout: 40) == 0)
            _ = MountProcess.run("/usr/bin/env", ["fusermount3", "-uz", mnt], timeout: 10)
            rmdir(mnt)
        }
    }

    @Test("--emulator: album/ lists, mkdir makes an album, cp a JPEG in, it commits and reads back")
    func embeddedEmulatorWorkflow() async throws {
        let cache = TempDir()
        let src = TempDir()
        let jpeg = makeJPEG()
        let file = writeFile(src, "photo.jpg", jpeg)
        let mnt = try MountProcess.makeMountpoint()
        let child = try ChildProcess(executable: builtExecutable("gphotosfs"),
                                     arguments: ["mount", "-f", "--emulator", mnt, "-o", "cache_dir=\(cache.path),log_file=\(cache.path)/log,writeback=0"])
        defer {
            _ = MountProcess.run("/usr/bin/env", ["fusermount3", "-u", mnt], timeout: 20)
            _ = child.wait(timeout: 40)
            _ = MountProcess.run("/usr/bin/env", ["fusermount3", "-uz", mnt], timeout: 10)
            rmdir(mnt)
        }
        var ready = false
        for _ in 0..<3 where !ready { ready = child.readLine(timeout: 60).hasPrefix("gphotosfs: mounted") }
        #expect(ready)
        let fs = MountedFS(root: mnt, cacheDir: cache.path)
        #expect(try await fs.list("") == ["album", "media", "upload"])
        let r = sh("ls '\(mnt)/album/' && mkdir '\(mnt)/album/Demo' && cp '\(file)' '\(mnt)/album/Demo/' && sync && ls '\(mnt)/album/Demo'")
        #expect(r.status == 0, "\(r.output)")
        try await fs.waitForUploads(timeout: 60)
        #expect(try await fs.list("album/Demo") == ["photo.jpg"])
        #expect(try await fs.read("album/Demo/photo.jpg").count > 0)
    }

    @Test("gphotosfs status shows a mount (readable and --json); without an argument it finds every mount")
    func status() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let m = try await MountProcess.start(account: account, cacheDir: cache.path, options: testOptions(), requireRoot: false)
            defer { m.forceUnmount() }
            let one = runGPhotosFS(["status", m.mountpoint], timeout: 60)
            #expect(one.status == 0, "\(one.output)")
            #expect(one.output.contains("\(m.mountpoint):"), "\(one.output)")
            let json = runGPhotosFS(["status", "--json", m.mountpoint], timeout: 60)
            #expect(json.status == 0, "\(json.output)")
            #expect((try? JSONSerialization.jsonObject(with: Data(json.output.utf8))) is [String: Any], "\(json.output)")
            let all = runGPhotosFS(["status"], timeout: 60)
            #expect(all.output.contains(m.mountpoint), "\(all.output)")
        }
    }

    @Test("gphotosfs status on a directory that is not a mount fails with a clear message")
    func statusNotAMount() async throws {
        let dir = TempDir()
        let r = runGPhotosFS(["status", dir.path], timeout: 30)
        #expect(r.status != 0)
        #expect(r.output.contains("not a gphotosfs mount"), "\(r.output)")
    }

    @Test("gphotosfs refresh PATH succeeds on a mounted directory")
    func refresh() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let m = try await MountProcess.start(account: account, cacheDir: cache.path, options: testOptions(), requireRoot: false)
            defer { m.forceUnmount() }
            let r = runGPhotosFS(["refresh", m.mountpoint + "/album"], timeout: 60)
            #expect(r.status == 0, "\(r.output)")
        }
    }
}

@Suite("Mount options")
struct MountOptionTests {
    @Test("every option parses; generic mount options are ignored")
    func parsesAll() throws {
        let o = try MountOptions.parse(["ro,allow_other,uid=1000,gid=100,umask=027", "cache_dir=/c,cache_max_size=512M",
                                        "dir_cache_time=2m,writeback=0,upload=sync,transfers=8,size=lazy",
                                        "config=/etc/x.json,log_file=/l,debug", "rw,dev,suid,exec,auto,nouser,_netdev,nofail,noauto,user,x-systemd.automount"])
        #expect(o.readOnly && o.allowOther && o.debug)
        #expect(o.uid == 1000 && o.gid == 100 && o.umask == 0o027)
        #expect(o.cacheDir == "/c" && o.cacheMaxSize == 512 << 20)
        #expect(o.dirCacheTime == 120 && o.writeback == 0 && o.upload == .sync && o.transfers == 8 && o.size == .lazy)
        #expect(o.config == "/etc/x.json" && o.logFile == "/l")
    }

    @Test("sizes and durations")
    func units() throws {
        #expect(try MountOptions.size("s", "10G") == 10 << 30)
        #expect(try MountOptions.size("s", "1.5K") == 1536)
        #expect(try MountOptions.size("s", "100") == 100)
        #expect(try MountOptions.size("s", "2GiB") == 2 << 30)
        #expect(try MountOptions.duration("d", "5s") == 5)
        #expect(try MountOptions.duration("d", "1h") == 3600)
        #expect(try MountOptions.duration("d", "0") == 0)
        #expect(try MountOptions.duration("d", "250ms") == 0.25)
    }

    @Test("errors name the option and the accepted values")
    func errors() {
        for (bad, word) in [("nope", "nope"), ("size=huge", "exact or size=lazy"), ("transfers=0", "1...64"),
                            ("uid=x", "numeric"), ("ro=1", "takes no value"), ("cache_dir", "needs a value")] {
            #expect(throws: MountOptionError.self) { try MountOptions.parse([bad]) }
            do { _ = try MountOptions.parse([bad]) } catch { #expect(error.description.contains(word), "\(error)") }
        }
    }

    @Test("optionString round-trips")
    func roundTrip() throws {
        var o = MountOptions()
        o.readOnly = true; o.writeback = 0.5; o.cacheDir = "/tmp/x"; o.upload = .sync; o.debug = true
        #expect(try MountOptions.parse([o.optionString]) == o)
    }
}
