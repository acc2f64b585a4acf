// `gphotosfs mount`: mount an account (or an emulator: a running one, or one embedded in this process) with FUSE.
import ArgumentParser
import Emulator
import Foundation
import FuseMount
import Logging
import PhotosAPI
import PhotosFS
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `gphotosfs mount`.
public struct MountCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mount",
        abstract: "Mount a Google Photos account's app-created albums at MOUNTPOINT.",
        discussion: """
        Without -f the mount runs in the background and this command returns once the mount answers, printing \
        "gphotosfs: mounted ACCOUNT at MOUNTPOINT". Unmount with `fusermount3 -u MOUNTPOINT`, `umount MOUNTPOINT` \
        (root) or SIGINT/SIGTERM/SIGHUP to the mount process: pending uploads get up to 30 s, the rest stay \
        journaled for the next mount.

        -o options (comma-separated, repeatable): ro, allow_other, uid=N, gid=N, umask=OOO, cache_dir=PATH, \
        cache_max_size=SIZE (10G), dir_cache_time=DURATION (60s), writeback=DURATION (5s), upload=async|sync, \
        transfers=N (4), size=exact|lazy, config=PATH, log_file=PATH, debug. Sizes take K/M/G/T, durations \
        s/m/h or 0. The generic options mount(8) passes (rw, dev, suid, exec, auto, nouser, _netdev, nofail, \
        noauto, user, x-systemd.*) are ignored.

        fstab / mount.fuse3 form: `gphotosfs ACCOUNT MOUNTPOINT -o opts`, e.g. the fstab line \
        `default /mnt/gphotos fuse.gphotosfs _netdev,nofail,allow_other 0 0`.

        --emulator URL mounts against a running gphotos-emulator (token minted from its control API). \
        --emulator alone starts an emulator inside this process, with its state under the cache directory so a \
        remount sees the same library: `gphotosfs mount --emulator /mnt/gphotos`.
        """)

    @Option(name: .long, help: "Account name (default: 'default'; 'emulator' with --emulator).")
    var account: String?

    @Option(name: .long, help: "Directory of the account token files (default: see `gphotosfs auth --help`).")
    var accountsDir: String?

    @Option(name: .long, help: ArgumentHelp(
        "Use a gphotos-emulator at URL; without a URL, start one inside the mount.", valueName: "URL"))
    var emulator: String?

    @Option(name: .customShort("o"), help: ArgumentHelp("Mount options, comma-separated (repeatable).", valueName: "OPTIONS"))
    var mountOptions: [String] = []

    @Flag(name: .customShort("f"), help: "Stay in the foreground (log to standard error unless -o log_file).")
    var foreground = false

    @Argument(help: "An existing empty directory.")
    var mountpoint: String?

    public init() {}

    /// The value `--emulator` gets when given without a URL.
    static let embedded = "embedded"

    public func validate() throws {
        if let account, !TokenFileStore.isValidAccountName(account) {
            throw ValidationError("--account '\(account)': use letters, digits, '.', '_' or '-' (at most 64).")
        }
        do { _ = try MountOptions.parse(mountOptions) } catch { throw ValidationError(error.description) }
        if resolvedMountpoint == nil { throw ValidationError("Missing expected argument '<mountpoint>'") }
        if let e = resolvedEmulator, e != Self.embedded, !e.hasPrefix("http://") && !e.hasPrefix("https://") {
            throw ValidationError("--emulator \(e): expected a URL such as http://127.0.0.1:8080, or nothing for an embedded emulator")
        }
    }

    /// `gphotosfs mount --emulator /mnt/x` parses the mountpoint as the emulator URL; undo that.
    var resolvedMountpoint: String? {
        if let mountpoint { return mountpoint }
        if let emulator, emulator != Self.embedded, !emulator.contains("://") { return emulator }
        return nil
    }

    /// The emulator URL, `embedded`, or nil.
    var resolvedEmulator: String? {
        guard let emulator else { return nil }
        return mountpoint == nil && !emulator.contains("://") ? Self.embedded : emulator
    }

    /// The account name in use.
    var accountName: String {
        if let account { return account }
        guard let e = resolvedEmulator else { return "default" }
        if e == Self.embedded { return "emulator" }
        let hostPort = e.split(separator: "/").dropFirst().first.map(String.init) ?? "url"
        return "emulator-" + String(hostPort.map { $0.isLetter || $0.isNumber ? $0 : "-" })
    }

    public func run() async throws {
        PhotosFS.tuneMalloc()
        var options: MountOptions
        do { options = try MountOptions.parse(mountOptions) } catch { throw ValidationError(error.description) }
        let name = accountName
        guard let mp = resolvedMountpoint else { throw ValidationError("Missing expected argument '<mountpoint>'") }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: mp, isDirectory: &isDir), isDir.boolValue,
              let real = realpath(mp, nil) else {
            throw ValidationError("mountpoint \(mp) is not an existing directory (create it with mkdir -p \(mp))")
        }
        let mountpoint = String(cString: real)
        free(real)
        let dirs = MountDirs(account: name, options: options)
        let detachedChild = Daemon.isDetachedChild

        if !foreground && !detachedChild {
            // Fail fast on a missing account before going to the background.
            if resolvedEmulator == nil { _ = try loadCredentials(name, options: options) }
            var args = ["mount", "-f", "--account", name, mountpoint]
            if let accountsDir { args += ["--accounts-dir", accountsDir] }
            if let e = resolvedEmulator { args.append("--emulator=\(e)") }
            if !mountOptions.isEmpty { args += ["-o", mountOptions.joined(separator: ",")] }
            let rc = await Daemon.detach(arguments: args, readyPrefix: "gphotosfs: mounted ", timeout: 120)
            // _exit: the parent has nothing to clean up, and exit()'s handlers were seen to hang in a process
            // started with blocked signals (a test runner's child); all output went out with write(2).
            _exit(rc)
        }

        try dirs.create()
        if options.logFile == nil && detachedChild { options.logFile = dirs.state + "/gphotosfs.log" }
        let logger = try MountLog.logger(file: options.logFile, debug: options.debug)
        options.cacheDir = options.cacheDir ?? dirs.cache

        // Endpoints and credentials.
        var embedded: EmbeddedEmulator?
        let credentials: StoredCredentials
        let store: (any CredentialStore)?
        switch resolvedEmulator {
        case Self.embedded?:
            let emu = try await EmbeddedEmulator.start(stateDir: dirs.cache + "/emulator", logger: logger)
            embedded = emu
            say("gphotosfs: embedded gphotos-emulator at \(emu.baseURL) (state in \(dirs.cache)/emulator)")
            credentials = try await Self.emulatorCredentials(name, base: emu.baseURL)
            store = nil
        case let url?:
            credentials = try await Self.emulatorCredentials(name, base: url)
            store = nil
        case nil:
            credentials = try loadCredentials(name, options: options)
            store = accountStore
        }
        defer { embedded?.stop() }

        var config = PhotosClientConfiguration()
        config.logger = logger
        if embedded != nil || resolvedEmulator != nil { config.requestsPerSecond = nil }
        let client = PhotosClient(credentials: credentials, store: store, configuration: config)
        let fs: PhotosFS
        do {
            fs = try PhotosFS(client: client, paths: StatePaths(stateDir: dirs.state, cacheDir: dirs.cache), options: options,
                              logger: logger)
        } catch { throw ValidationError("cannot open the mount state: \(error.message)") }
        await fs.start()

        let mountConfig = FuseMountConfig(mountpoint: mountpoint, account: name, options: options)
        do {
            _ = try await FuseMount.run(fs, config: mountConfig, logger: logger) { _ in
                say("gphotosfs: mounted \(name) at \(mountpoint)")
                if detachedChild { Daemon.releaseTerminal() }
            }
        } catch let e as FuseMountError {
            _ = await fs.shutdown(grace: 0)
            throw ValidationError(e.description)
        }
        logger.info("\(name) at \(mountpoint) stopped")
    }

    /// The account token store from --accounts-dir or the default directory.
    var accountStore: TokenFileStore {
        accountsDir.map { TokenFileStore(directory: URL(fileURLWithPath: $0, isDirectory: true)) }
            ?? TokenFileStore(directory: TokenFileStore.defaultDirectory())
    }

    /// The stored credentials of `name` (endpoints overridden by -o config=PATH when it names any).
    func loadCredentials(_ name: String, options: MountOptions) throws -> StoredCredentials {
        var c: StoredCredentials
        do {
            guard let found = try accountStore.load(name) else {
                throw ValidationError("no credentials for account '\(name)' in \(accountStore.directory.path): "
                    + "run gphotosfs auth login --account \(name) (or gphotosfs auth import)")
            }
            c = found
        } catch let e as PhotosAPIError { throw ValidationError("account '\(name)': \(e)") }
        if let path = options.config {
            do { if let e = try PhotosEndpoints.fromConfigFile(path) { c.endpoints = e } } catch {
                throw ValidationError("-o config=\(path): \(error)")
            }
        }
        return c
    }

    /// Credentials minted from an emulator's control API (kept in memory; nothing is written to the accounts dir).
    static func emulatorCredentials(_ name: String, base: String, scopes: [String] = PhotosScopes.library) async throws -> StoredCredentials {
        let endpoints = PhotosEndpoints.emulator(base)
        let clientId = "gphotosfs-emulator.apps.googleusercontent.com"
        let r: TokenResponse
        do {
            r = try await OAuthClient(endpoints: endpoints, transport: CurlTransport()).emulatorToken(clientId: clientId, scopes: scopes)
        } catch { throw ValidationError("cannot get a token from the emulator at \(base): \(error)") }
        return StoredCredentials(account: name, clientId: clientId, clientSecret: nil, refreshToken: r.refreshToken ?? "",
                                 accessToken: r.accessToken, expiry: Date().addingTimeInterval(r.expiresIn), scopes: r.scopes,
                                 tokenType: r.tokenType, endpoints: endpoints, authorizedAt: Date(), source: "emulator")
    }
}

/// Writes one line to standard output, unbuffered.
func say(_ text: String) {
    let line = text + "\n"
    _ = line.withCString { write(1, $0, strlen($0)) }
}

/// Where a mount keeps state and cache.
struct MountDirs {
    /// SQLite state + spool.
    var state: String
    /// Content cache (and the embedded emulator's state).
    var cache: String

    /// -o cache_dir puts everything there; else root: /var/lib + /var/cache; users: XDG state + cache homes.
    init(account: String, options: MountOptions, environment env: [String: String] = ProcessInfo.processInfo.environment) {
        if let dir = options.cacheDir { state = dir; cache = dir; return }
        if geteuid() == 0 {
            state = "/var/lib/gphotosfs/\(account)"; cache = "/var/cache/gphotosfs/\(account)"
            return
        }
        let home = env["HOME"] ?? NSHomeDirectory()
        let stateHome = env["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.local/state"
        let cacheHome = env["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? home + "/.cache"
        state = stateHome + "/gphotosfs/\(account)"; cache = cacheHome + "/gphotosfs/\(account)"
    }

    /// Creates both (0700).
    func create() throws {
        for d in [state, cache] {
            do {
                try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch { throw ValidationError("cannot create \(d): \(error.localizedDescription)") }
        }
    }
}

/// A gphotos-emulator served from inside the mount process.
final class EmbeddedEmulator: Sendable {
    /// http://127.0.0.1:PORT
    let baseURL: String
    private let task: Task<Void, Never>
    private let store: Store

    private init(baseURL: String, task: Task<Void, Never>, store: Store) { self.baseURL = baseURL; self.task = task; self.store = store }

    /// Starts one with its state in `stateDir` on a free loopback port.
    static func start(stateDir: String, logger: Logger) async throws -> EmbeddedEmulator {
        let store: Store
        let emulator: Emulator
        do {
            store = try Store(stateDir: URL(fileURLWithPath: stateDir, isDirectory: true))
            emulator = try Emulator(store: store, config: EmulatorConfig())
        } catch { throw ValidationError("cannot start the embedded emulator in \(stateDir): \(error)") }
        let waiter = OneShot<String?>()
        let task = Task {
            do {
                try await EmulatorServer.run(emulator, host: "127.0.0.1", port: 0, handleSignals: false) { base in
                    waiter.fulfill(base)
                }
            } catch {
                logger.error("embedded emulator stopped: \(error)")
            }
            waiter.fulfill(nil)
        }
        let base = await waiter.value(timeout: 30) ?? nil
        guard let base else { task.cancel(); store.close(); throw ValidationError("the embedded emulator did not start (see the log)") }
        return EmbeddedEmulator(baseURL: base, task: task, store: store)
    }

    /// Stops serving.
    func stop() {
        task.cancel()
        store.close()
    }
}

/// The mount's log: one line per event to standard error or -o log_file. Tokens are never logged.
enum MountLog {
    /// A logger writing to `file` (appending) or to fd 2.
    static func logger(file: String?, debug: Bool) throws -> Logger {
        var fd: Int32 = 2
        if let file {
            fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw ValidationError("-o log_file=\(file): \(String(cString: strerror(errno)))") }
        }
        let out = fd
        var logger = Logger(label: "gphotosfs") { label in FDLogHandler(label: label, fd: out) }
        logger.logLevel = debug ? .debug : .info
        return logger
    }
}

/// A swift-log handler writing whole lines with one write(2) each (no interleaving between threads).
struct FDLogHandler: LogHandler {
    let label: String
    let fd: Int32
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let md = metadata.merging(event.metadata ?? [:]) { $1 }
        let extra = md.isEmpty ? "" : " " + md.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let line = "\(Date().formatted(.iso8601)) \(event.level) \(label): \(event.message)\(extra)\n"
        _ = line.withCString { write(fd, $0, strlen($0)) }
    }
}

/// A value delivered once, awaited with a deadline (the first `fulfill` wins).
final class OneShot<T: Sendable>: Sendable {
    private struct State { var value: T?; var done = false; var waiter: CheckedContinuation<T?, Never>? }
    private let state = Mutex(State())

    /// Delivers the value (later calls are ignored).
    func fulfill(_ v: T) {
        let w: CheckedContinuation<T?, Never>? = state.withLock { s in
            guard !s.done else { return nil }
            s.done = true; s.value = v
            defer { s.waiter = nil }
            return s.waiter
        }
        w?.resume(returning: v)
    }

    /// The value, or nil after `timeout` seconds.
    func value(timeout: Double) async -> T? {
        let timer = Task { [self] in
            try? await Task.sleep(for: .seconds(timeout))
            let w: (CheckedContinuation<T?, Never>, T?)? = state.withLock { s in
                if !s.done { s.done = true; s.value = nil }
                defer { s.waiter = nil }
                return s.waiter.map { ($0, s.value) }
            }
            if let (c, v) = w { c.resume(returning: v) }
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { (c: CheckedContinuation<T?, Never>) in
            let now: T?? = state.withLock { s in
                if s.done { return .some(s.value) }
                s.waiter = c
                return .none
            }
            if let now { c.resume(returning: now) }
        }
    }
}
