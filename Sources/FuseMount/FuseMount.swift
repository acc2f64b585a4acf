// FuseMount: mounts a PhotosFS with libfuse3's low-level API, serves it on a multithreaded loop, and stops cleanly
// on SIGINT, SIGTERM, SIGHUP or an external `fusermount3 -u`.
import CFuse3
import Foundation
import Logging
import PhotosFS
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A mount failure before the loop ran, with a message for the user.
public struct FuseMountError: Error, CustomStringConvertible, Sendable {
    /// What went wrong and what to do.
    public let description: String
    /// Creates an error.
    public init(_ description: String) { self.description = description }
}

/// What one mount is: the mountpoint, the fsname, the options passed to the kernel.
public struct FuseMountConfig: Sendable {
    /// The absolute mountpoint.
    public var mountpoint: String
    /// The account (fsname=gphotosfs:ACCOUNT).
    public var account: String
    /// The mount options (ro, allow_other, debug, unmountGrace).
    public var options: MountOptions
    /// FUSE worker threads.
    public var maxThreads: UInt32 = 16
    /// Creates a config.
    public init(mountpoint: String, account: String, options: MountOptions) {
        self.mountpoint = mountpoint; self.account = account; self.options = options
    }

    /// The `-o` string handed to libfuse.
    var fuseOptions: String {
        var o = ["fsname=gphotosfs:\(account)", "subtype=gphotosfs", "default_permissions"]
        if options.allowOther { o.append("allow_other") }
        if options.readOnly { o.append("ro") }
        return o.joined(separator: ",")
    }
}

/// The kernel's read-ahead for this mount, raised from the default 128 KiB to the largest FUSE request
/// (`FuseMount.maxTransfer`): sequential reads then come as ~1 MiB requests, an eighth of the round trips. The knob is
/// the mount's backing device in sysfs, writable by root only; elsewhere the default stays (logged at debug).
func raiseReadahead(device dev: dev_t, logger: Logger) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)
    let minor = (dev & 0xff) | ((dev >> 12) & ~0xff)
    let knob = "/sys/class/bdi/\(major):\(minor)/read_ahead_kb"
    do {
        try "\(FuseMount.maxTransfer / 1024)\n".write(toFile: knob, atomically: false, encoding: .utf8)
    } catch {
        logger.debug("kernel read-ahead stays at its default: cannot write \(knob) (\(error.localizedDescription))")
    }
}

/// A `fuse_session *` handed between threads (libfuse's session calls used here are thread-safe:
/// the loop runs on one thread, and the stop path only unmounts from the kernel side).
struct Session: @unchecked Sendable {
    let raw: OpaquePointer
}

/// Mounts a PhotosFS with libfuse3.
public enum FuseMount {
    /// The largest read or write one FUSE request carries: 1 MiB less 16 KiB, so that a read reply (header and three
    /// pages of slack included) fits the default 1 MiB pipe that libfuse splices through; growing a pipe past
    /// /proc/sys/fs/pipe-max-size needs CAP_SYS_RESOURCE, which containers drop.
    static let maxTransfer = 1_032_192
    /// Mounts `fs`, calls `onReady` once the mount answers, serves until unmounted or signalled, then shuts the core
    /// down (pending uploads get `options.unmountGrace` seconds) and tears the session down. Returns the number of
    /// uploads left journaled.
    public static func run(_ fs: PhotosFS, config: FuseMountConfig, logger: Logger,
                           onReady: @Sendable (_ rootAnswered: Bool) -> Void) async throws -> Int {
        let ctx = FuseContext(fs: fs, logger: logger)
        let userdata = Unmanaged.passRetained(ctx)
        defer { userdata.release() }

        var argStrings = ["gphotosfs", "-o", config.fuseOptions]
        if config.options.debug { argStrings.append("-d") }
        var cargs = argStrings.map { strdup($0) }
        defer { for p in cargs { free(p) } }
        var ops = operations()
        let se: OpaquePointer? = cargs.withUnsafeMutableBufferPointer { buf in
            var args = cfuse_args_init(Int32(buf.count), buf.baseAddress)
            defer { fuse_opt_free_args(&args) }
            return fuse_session_new(&args, &ops, MemoryLayout<fuse_lowlevel_ops>.size, userdata.toOpaque())
        }
        guard let se else { throw FuseMountError("libfuse refused the options '\(config.fuseOptions)' (see the messages above)") }
        let session = Session(raw: se)

        guard fuse_session_mount(se, config.mountpoint) == 0 else {
            fuse_session_destroy(se)
            throw FuseMountError("cannot mount at \(config.mountpoint): is it an existing empty directory, and is /dev/fuse usable? "
                + "(a stale mount there: fusermount3 -uz \(config.mountpoint))")
        }
        logger.info("mounted at \(config.mountpoint) (\(config.fuseOptions))")

        let stopper = try SignalStopper(mountpoint: config.mountpoint, session: session, logger: logger)
        let maxThreads = config.maxThreads
        async let loopDone: Int32 = withCheckedContinuation { (cont: CheckedContinuation<Int32, Never>) in
            let t = Thread {
                // Workers inherit this thread's mask: stop signals go to the signal thread, not into FUSE reads.
                cfuse_block_stop_signals()
                let cfg = fuse_loop_cfg_create()!
                fuse_loop_cfg_set_max_threads(cfg, maxThreads)
                fuse_loop_cfg_set_clone_fd(cfg, 0)
                let rc = fuse_session_loop_mt(session.raw, cfg)
                fuse_loop_cfg_destroy(cfg)
                cont.resume(returning: rc)
            }
            t.name = "fuse-loop"
            t.stackSize = 1 << 20
            t.start()
        }

        // Ready once the root answers a stat (a round trip through the loop), bounded.
        let answered = await Blocking.run(timeout: 30) { () -> Int32 in
            var st = stat()
            guard lstat(config.mountpoint, &st) == 0 else { return errno }
            guard st.st_ino == 1 else { return -1 }
            raiseReadahead(device: st.st_dev, logger: logger)
            return 0
        }
        switch answered {
        case .some(0): onReady(true)
        case .some(let e) where e != ENOTCONN:
            logger.warning("the mount answers, but stat of its root failed: \(FSError.name(e))")
            onReady(false)
        default:
            logger.error("the mount did not answer within 30 s; unmounting")
            stopper.unmountKernelSide(lazy: true)
        }

        let rc = await loopDone
        stopper.finish()
        if rc < 0 { logger.error("the FUSE loop ended with \(FSError.name(-rc))") }
        logger.info("unmounted; stopping (pending uploads get up to \(Int(config.options.unmountGrace)) s)")

        let grace = max(0, config.options.unmountGrace)
        let left = await withTaskGroup(of: Int?.self) { g -> Int in
            g.addTask { await fs.shutdown(grace: grace) }
            g.addTask { try? await Task.sleep(for: .seconds(grace + 10)); return nil }
            let first = await g.next() ?? nil
            g.cancelAll()
            return first ?? -1
        }
        if left > 0 {
            logger.notice("\(left) upload(s) still pending stay journaled; the next mount resumes them")
        } else if left < 0 {
            logger.warning("the core did not stop within \(Int(grace + 10)) s; pending uploads stay journaled")
        }

        // Every Task must have replied before the session (and its channel) goes away.
        for _ in 0..<500 where ctx.inflight.load(ordering: .acquiring) > 0 { try? await Task.sleep(for: .milliseconds(20)) }
        fuse_session_unmount(se)
        fuse_session_destroy(se)
        return max(0, left)
    }
}

/// Runs blocking system calls on their own thread, never on the cooperative pool; gives up after a deadline.
public enum Blocking {
    /// The result of `work`, or nil when it took longer than `timeout` seconds (the thread is then abandoned).
    public static func run<T: Sendable>(timeout: Double, _ work: @escaping @Sendable () -> T) async -> T? {
        await withCheckedContinuation { (c: CheckedContinuation<T?, Never>) in
            let once = ResumeOnce(c)
            let t = Thread { once.resume(work()) }
            t.start()
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) { once.resume(nil) }
        }
    }
}

/// A continuation resumed by whichever comes first (the work or the deadline).
final class ResumeOnce<T: Sendable>: Sendable {
    private let cont: Mutex<CheckedContinuation<T?, Never>?>
    init(_ c: CheckedContinuation<T?, Never>) { cont = Mutex(c) }
    /// Resumes the first time; later calls do nothing.
    func resume(_ v: T?) {
        let c: CheckedContinuation<T?, Never>? = cont.withLock { c in defer { c = nil }; return c }
        c?.resume(returning: v)
    }
}

/// Turns SIGINT, SIGTERM and SIGHUP into a kernel-side unmount (which ends the loop with 0, P12), from a thread of its
/// own fed by a self-pipe. Dispositions are set here whatever they were (P6); the signal thread unblocks them (P7).
final class SignalStopper: Sendable {
    private let mountpoint: String
    private let session: Session
    private let logger: Logger
    private let writeFD: Int32
    private let readFD: Int32
    private let done = Atomic<Bool>(false)

    init(mountpoint: String, session: Session, logger: Logger) throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw FuseMountError("pipe: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        readFD = fds[0]; writeFD = fds[1]
        self.mountpoint = mountpoint; self.session = session; self.logger = logger
        guard cfuse_install_stop_handlers(writeFD) == 0 else { throw FuseMountError("cannot install signal handlers") }
        let t = Thread { [self] in watch() }
        t.name = "signals"
        t.start()
    }

    /// Waits for signals until `finish()`.
    private func watch() {
        cfuse_unblock_stop_signals()
        var b: UInt8 = 0
        while true {
            let n = read(readFD, &b, 1)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 || b == 0 { break }
            let name = b == UInt8(SIGINT) ? "SIGINT" : b == UInt8(SIGTERM) ? "SIGTERM" : b == UInt8(SIGHUP) ? "SIGHUP" : "signal \(b)"
            logger.notice("\(name): unmounting \(mountpoint)")
            fuse_session_exit(session.raw)
            unmountKernelSide(lazy: false)
        }
        close(readFD)
    }

    /// Unmounts from the kernel side so the loop sees the end of the channel: umount2 as root (lazy when busy),
    /// `fusermount3 -u` (then -uz) otherwise.
    func unmountKernelSide(lazy: Bool) {
        if geteuid() == 0 {
            if !lazy && umount2(mountpoint, 0) == 0 { return }
            if !lazy && errno == EBUSY { logger.notice("\(mountpoint) is busy; detaching it (the mount ends when the last user leaves)") }
            if umount2(mountpoint, Int32(MNT_DETACH)) != 0 { logger.warning("umount \(mountpoint): \(String(cString: strerror(errno)))") }
            return
        }
        for args in (lazy ? [["-uz"]] : [["-u"], ["-uz"]]) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["fusermount3"] + args + [mountpoint]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            guard (try? p.run()) != nil else { continue }
            p.waitUntilExit()
            if p.terminationStatus == 0 { return }
        }
        logger.warning("fusermount3 -u \(mountpoint) failed")
    }

    /// Stops the signal thread and restores default dispositions.
    func finish() {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else { return }
        cfuse_clear_stop_handlers()
        var zero: UInt8 = 0
        _ = write(writeFD, &zero, 1)
        close(writeFD)
    }
}
