// Shared test support for suites that talk to the emulator through the PhotosAPI client: the emulator process,
// stored test accounts, temp dirs, test media, a capturing log handler.
import Foundation
import Harness
import Logging
import PhotosAPI
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A running `gphotos-emulator serve` child process.
public final class EmulatorProcess: Sendable {
    public let child: ChildProcess
    /// e.g. http://127.0.0.1:41234
    public let baseURL: String
    /// A transport for control calls.
    public let transport = CurlTransport()

    /// Starts the emulator with extra arguments on a free port, ephemeral state.
    public init(_ args: [String] = []) throws {
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
    public func stop() { child.stop() }

    /// A control-API call; returns status and JSON object.
    @discardableResult
    public func control(_ method: String, _ path: String, _ json: Any? = nil) async throws -> (Int, [String: Any]) {
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
    public func advanceClock(_ seconds: Double) async throws {
        let (s, o) = try await control("POST", "clock:advance", ["seconds": seconds])
        guard s == 200 else { throw TestFailure("advance failed: \(s) \(o)") }
    }

    /// Per-endpoint request counts.
    public func requestCounts() async throws -> [String: Int] {
        let (_, o) = try await control("GET", "requests?limit=0")
        return (o["counts"] as? [String: Any])?.compactMapValues { ($0 as? NSNumber)?.intValue } ?? [:]
    }

    /// Installs fault specs.
    public func faults(_ specs: [String]) async throws {
        let (s, o) = try await control("POST", "faults", ["spec": specs])
        guard s == 200 else { throw TestFailure("faults failed: \(s) \(o)") }
    }

    /// Sets knobs at run time.
    public func knobs(_ values: [String: Any]) async throws {
        let (s, o) = try await control("PATCH", "knobs", values)
        guard s == 200 else { throw TestFailure("knobs failed: \(s) \(o)") }
    }

    /// Mints a token through the control API.
    public func mint(clientId: String, scopes: [String]) async throws -> TokenResponse {
        try await OAuthClient(endpoints: .emulator(baseURL), transport: transport).emulatorToken(clientId: clientId, scopes: scopes)
    }
}

/// Runs `body` with a fresh emulator and always stops it.
public func withEmulator<T>(_ args: [String] = [], _ body: (EmulatorProcess) async throws -> T) async throws -> T {
    let emu = try EmulatorProcess(args)
    defer { emu.stop() }
    return try await body(emu)
}

/// A temporary directory removed at deinit.
public final class TempDir: @unchecked Sendable {
    public let url: URL
    public init() {
        url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("gphotosfs-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    public var path: String { url.path }
    public func file(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Fast retries for tests.
public func testConfig(clock: (any PhotosClock)? = nil, logger: Logger? = nil) -> PhotosClientConfiguration {
    var c = PhotosClientConfiguration()
    c.retry = RetryPolicy(maxAttempts: 4, baseDelay: 0.05, maxDelay: 5, maxTotal: 30, jitter: 0.2)
    c.requestsPerSecond = nil
    c.transfer.idleTimeout = 10
    if let clock { c.clock = clock }
    if let logger { c.logger = logger }
    return c
}

/// A stored account for the emulator with a minted token.
public struct TestAccount {
    public let dir = TempDir()
    public let store: TokenFileStore
    public let credentials: StoredCredentials
    public let token: TokenResponse

    public init(_ emu: EmulatorProcess, clientId: String = "client-a.apps.googleusercontent.com", scopes: [String] = PhotosScopes.library,
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
    public func client(_ config: PhotosClientConfiguration = testConfig()) -> PhotosClient {
        PhotosClient(credentials: credentials, store: store, configuration: config)
    }
}

/// A small valid JPEG, made unique by a comment segment so the emulator's dedupe does not merge test files.
public func makeJPEG(tag: String = UUID().uuidString, padding: Int = 0) -> Data {
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
public func writeFile(_ dir: TempDir, _ name: String, _ data: Data) -> String {
    let p = dir.file(name)
    _ = FileManager.default.createFile(atPath: p, contents: data)
    return p
}

/// A swift-log handler that keeps every message and its metadata.
public struct CapturingLogHandler: LogHandler {
    public final class Sink: Sendable {
        public let lines = Mutex<[String]>([])
        /// Every line so far.
        public var all: String { lines.withLock { $0.joined(separator: "\n") } }
        /// An empty sink.
        public init() {}
    }
    public let sink: Sink
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace
    /// A handler writing into `sink`.
    public init(sink: Sink) { self.sink = sink }
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    public func log(event: LogEvent) {
        let md = self.metadata.merging(event.metadata ?? [:]) { $1 }
        sink.lines.withLock { $0.append("\(event.level) \(event.message) \(md)") }
    }
}

