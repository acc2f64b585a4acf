// Test support: run gphotos-emulator as a process (through the shared Harness target) and build clients for it.
import Foundation
import Harness
import Logging
import PhotosAPI
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Test-support failures (from the shared harness).
typealias TestFailure = Harness.TestFailure

/// A running `gphotos-emulator serve` child process.
final class EmulatorProcess: Sendable {
    let child: ChildProcess
    /// e.g. http://127.0.0.1:41234
    let baseURL: String
    /// A transport for control calls.
    let transport = CurlTransport()

    /// Starts the emulator with extra arguments on a free port, ephemeral state.
    init(_ args: [String] = []) throws {
        // GPHOTOS_EMULATOR_BIN points the tests at another emulator build.
        let exe = ProcessInfo.processInfo.environment["GPHOTOS_EMULATOR_BIN"].map { URL(fileURLWithPath: $0) }
            ?? builtExecutable("gphotos-emulator")
        child = try ChildProcess(executable: exe, arguments: ["serve", "--port", "0", "--ephemeral"] + args)
        let text = child.readLine(timeout: 20)
        guard let r = text.range(of: "listening on ") else {
            child.stop()
            throw TestFailure("emulator did not start: '\(text)'")
        }
        baseURL = String(text[r.upperBound...])
    }

    /// Stops the process: SIGTERM, then SIGKILL after 5 s.
    func stop() { child.stop() }

    /// A control-API call; returns status and JSON object.
    @discardableResult
    func control(_ method: String, _ path: String, _ json: Any? = nil) async throws -> (Int, [String: Any]) {
        var headers: [(String, String)] = []
        var body = HTTPBody.none
        if let json {
            body = .data(try JSONSerialization.data(withJSONObject: json))
            headers.append(("Content-Type", "application/json"))
        }
        let r = try await transport.send(HTTPRequest(method: method, url: baseURL + "/emulator/v1/" + path, headers: headers, body: body), endpoint: "control")
        return (r.status, ((try? JSONSerialization.jsonObject(with: r.body)) as? [String: Any]) ?? [:])
    }

    /// Moves the emulator's clock forward.
    func advanceClock(_ seconds: Double) async throws {
        let (s, o) = try await control("POST", "clock:advance", ["seconds": seconds])
        guard s == 200 else { throw TestFailure("advance failed: \(s) \(o)") }
    }

    /// Per-endpoint request counts.
    func requestCounts() async throws -> [String: Int] {
        let (_, o) = try await control("GET", "requests?limit=0")
        return (o["counts"] as? [String: Any])?.compactMapValues { ($0 as? NSNumber)?.intValue } ?? [:]
    }

    /// Installs fault specs.
    func faults(_ specs: [String]) async throws {
        let (s, o) = try await control("POST", "faults", ["spec": specs])
        guard s == 200 else { throw TestFailure("faults failed: \(s) \(o)") }
    }

    /// Sets knobs at run time.
    func knobs(_ values: [String: Any]) async throws {
        let (s, o) = try await control("PATCH", "knobs", values)
        guard s == 200 else { throw TestFailure("knobs failed: \(s) \(o)") }
    }

    /// Mints a token through the control API.
    func mint(clientId: String, scopes: [String]) async throws -> TokenResponse {
        try await OAuthClient(endpoints: .emulator(baseURL), transport: transport).emulatorToken(clientId: clientId, scopes: scopes)
    }
}

/// Runs `body` with a fresh emulator and always stops it.
func withEmulator<T>(_ args: [String] = [], _ body: (EmulatorProcess) async throws -> T) async throws -> T {
    let emu = try EmulatorProcess(args)
    defer { emu.stop() }
    return try await body(emu)
}

/// A temporary directory removed at deinit.
final class TempDir: @unchecked Sendable {
    let url: URL
    init() {
        url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("gphotosfs-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    var path: String { url.path }
    func file(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Fast retries for tests.
func testConfig(clock: (any PhotosClock)? = nil, logger: Logger? = nil) -> PhotosClientConfiguration {
    var c = PhotosClientConfiguration()
    c.retry = RetryPolicy(maxAttempts: 4, baseDelay: 0.05, maxDelay: 5, maxTotal: 30, jitter: 0.2)
    c.requestsPerSecond = nil
    c.transfer.idleTimeout = 10
    if let clock { c.clock = clock }
    if let logger { c.logger = logger }
    return c
}

/// A stored account for the emulator with a minted token.
struct TestAccount {
    let dir = TempDir()
    let store: TokenFileStore
    let credentials: StoredCredentials
    let token: TokenResponse

    init(_ emu: EmulatorProcess, clientId: String = "client-a.apps.googleusercontent.com", scopes: [String] = PhotosScopes.library,
         name: String = "default", testingMode: Bool? = nil) async throws {
        store = TokenFileStore(directory: dir.url.appendingPathComponent("accounts"))
        token = try await emu.mint(clientId: clientId, scopes: scopes)
        credentials = StoredCredentials(account: name, clientId: clientId, clientSecret: nil, refreshToken: token.refreshToken ?? "",
                                        accessToken: token.accessToken, expiry: Date().addingTimeInterval(token.expiresIn),
                                        scopes: token.scopes, endpoints: .emulator(emu.baseURL), authorizedAt: Date(),
                                        testingMode: testingMode, source: "emulator")
        try store.save(credentials)
    }

    /// A client for this account.
    func client(_ config: PhotosClientConfiguration = testConfig()) -> PhotosClient {
        PhotosClient(credentials: credentials, store: store, configuration: config)
    }
}

/// A small valid JPEG, made unique by a comment segment so the emulator's dedupe does not merge test files.
func makeJPEG(tag: String = UUID().uuidString, padding: Int = 0) -> Data {
    let tiny = Data(base64Encoded: "/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////wgALCAABAAEBAREA/8QAFBABAAAAAAAAAAAAAAAAAAAAAP/aAAgBAQABPxA=")!
    var out = Data([0xFF, 0xD8])
    let comment = Data(("gphotosfs-test " + tag).utf8)
    out.append(contentsOf: [0xFF, 0xFE, UInt8((comment.count + 2) >> 8), UInt8((comment.count + 2) & 0xFF)])
    out.append(comment)
    out.append(tiny.dropFirst(2))
    out.append(contentsOf: [0xFF, 0xD9])
    if padding > 0 {
        var rng = SystemRandomNumberGenerator()
        out.append(Data((0..<padding).map { _ in UInt8.random(in: 0...255, using: &rng) }))
    }
    return out
}

/// Writes `data` to a file in `dir` and returns the path.
func writeFile(_ dir: TempDir, _ name: String, _ data: Data) -> String {
    let p = dir.file(name)
    _ = FileManager.default.createFile(atPath: p, contents: data)
    return p
}

/// A swift-log handler that keeps every message and its metadata.
struct CapturingLogHandler: LogHandler {
    final class Sink: Sendable {
        let lines = Mutex<[String]>([])
        var all: String { lines.withLock { $0.joined(separator: "\n") } }
    }
    let sink: Sink
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let md = self.metadata.merging(event.metadata ?? [:]) { $1 }
        sink.lines.withLock { $0.append("\(event.level) \(event.message) \(md)") }
    }
}

/// A `gphotosfs` child process (its environment minus any desktop, plus `extra`), read line by line.
final class CommandProcess: Sendable {
    let child: ChildProcess

    init(_ arguments: [String], environment extra: [String: String]) throws {
        var env = ProcessInfo.processInfo.environment
        env["DISPLAY"] = nil; env["WAYLAND_DISPLAY"] = nil
        for (k, v) in extra { env[k] = v }
        child = try ChildProcess(executable: builtExecutable("gphotosfs"), arguments: arguments, environment: env)
    }

    /// The next line of standard output ("" on timeout or exit).
    func line(timeout: Double = 20) -> String { child.readLine(timeout: timeout) }

    /// Waits for exit; returns the status, or nil on timeout (the process is then killed).
    func wait(timeout: Double = 20) -> Int32? { child.wait(timeout: timeout) }

    /// Everything left on standard output (after exit).
    func rest() -> String { child.stdoutSoFar() }
}
