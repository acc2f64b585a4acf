// The emulator itself: its state, the route table, and the one dispatcher every request passes through.
import Crypto
import Foundation
import GRDB
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A faithful local Google Photos Library + Picker API, with a control API for tests.
public final class Emulator: Sendable {
    let store: Store
    let clock: EmulatorClock
    private let configBox: Mutex<EmulatorConfig>
    let faults: FaultInjector
    let log = RequestLog()
    /// Key that signs base URLs and session URLs.
    let secretBytes: Data
    /// Per-user write counters for the per-minute limit: user → (minute, count).
    let writeWindows = Mutex<[String: (Int, Int)]>([:])
    /// The address the server listens on, e.g. http://127.0.0.1:8080 (set once bound).
    let listenBase = Mutex<String>("http://127.0.0.1")
    let logger: Logger
    private let routes: [Route]

    /// Creates an emulator over `store` with the given knobs, fault rules and random seed.
    public init(store: Store, config: EmulatorConfig, faults: [FaultRule] = [], seed: UInt64 = 0,
                logger: Logger = Logger(label: "gphotos-emulator")) throws {
        self.store = store
        self.configBox = Mutex(config)
        self.faults = FaultInjector(rules: faults, seed: seed)
        self.logger = logger
        if let hex = try store.meta("secret"), let data = Data(hexString: hex) {
            secretBytes = data
        } else {
            let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            try store.setMeta("secret", key.hexString)
            secretBytes = key
        }
        clock = EmulatorClock(offset: Double(try store.meta("clock_offset") ?? "0") ?? 0)
        routes = Emulator.controlRoutes + Emulator.seedRoutes + Emulator.oauthRoutes + Emulator.albumRoutes + Emulator.mediaItemRoutes
            + Emulator.uploadRoutes + Emulator.mediaHostRoutes + Emulator.pickerRoutes
            + Emulator.batchCreateRoutes + Emulator.albumItemsRoutes
        try ensureDefaults()
    }

    /// The key that signs base URLs and upload-session URLs.
    var secret: SymmetricKey { SymmetricKey(data: secretBytes) }

    /// The current knobs.
    var config: EmulatorConfig { configBox.withLock { $0 } }

    /// Replaces the knobs (validated by the caller).
    func setConfig(_ c: EmulatorConfig) { configBox.withLock { $0 = c } }

    /// The default user and project every fresh state has.
    static let defaultUser = "user@example.com"
    static let defaultProject = "100000000001"

    /// Creates the default user when the state is new.
    func ensureDefaults() throws {
        try store.db.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO users(id) VALUES (?)", arguments: [Emulator.defaultUser])
        }
    }

    /// Records that the server listens on `base` (http://host:port).
    public func setListening(_ base: String) { listenBase.withLock { $0 = base } }

    /// The base for URLs this server hands out (base URLs, upload URLs), from the request's Host header when sane.
    func publicBase(_ request: Request) -> String {
        if let host = request.header("Host"), !host.isEmpty, host.count < 256,
           host.allSatisfy({ $0.isLetter || $0.isNumber || ".-:[]".contains($0) }) {
            return "http://\(host)"
        }
        return listenBase.withLock { $0 }
    }

    /// The Hummingbird responder that serves this emulator.
    public var responder: some HTTPResponder<BasicRequestContext> { Responder(emulator: self) }

    struct Responder: HTTPResponder {
        let emulator: Emulator
        func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
            await emulator.handle(request)
        }
    }

    // MARK: Dispatch

    /// Serves one request: route, fault, auth, quota, scope, handler, log. Never throws.
    func handle(_ request: Request) async -> Response {
        let path = request.uri.path
        let query = Query(request.uri.query)
        let method = request.method.rawValue
        guard let (route, params) = match(method: method, path: path) else {
            if method == "HEAD" || method == "GET" || method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE" {
                log.record(.init(time: clock.now(), method: method, path: path, endpoint: "unknown", status: 404, clientID: nil))
            }
            return HTTPOut.htmlNotFound(path)
        }
        var caller: Caller?
        var response: Response
        do {
            response = try await serve(route: route, params: params, request: request, query: query, caller: &caller)
        } catch {
            response = error.response()
        }
        if route.kind != .control {
            log.record(.init(time: clock.now(), method: method, path: path, endpoint: route.endpoint,
                             status: Int(response.status.code), clientID: caller?.clientID))
        }
        if method == "HEAD" { return response.createHeadResponse() }
        return response
    }

    private func serve(route: Route, params: [String: String], request: Request, query: Query,
                       caller: inout Caller?) async throws(APIError) -> Response {
        var fault: FaultRule?
        var lateMs: Int?
        if route.kind != .control, let f = faults.decide(endpoint: route.endpoint) {
            switch f.kind {
            case "slow":
                try? await Task.sleep(nanoseconds: UInt64(f.delayMs ?? 0) * 1_000_000)
            case "late":
                lateMs = f.delayMs   // the answer reflects the state now but reaches the client later (a slow network)
            case "reset":
                // Streaming routes (uploads) cut the request body themselves; the others send part of their real answer.
                fault = f
            default:
                let code = Int(f.kind) ?? 500
                var e = APIError(http: code, status: APIError.statusName(for: code),
                                 message: code == 429 ? "Resource has been exhausted (e.g. check quota)." : "The service is currently unavailable.")
                if code == 500 { e = .internalError() }
                if let r = f.retryAfter { e.headers.append(("Retry-After", String(r))) }
                throw e
            }
        }
        switch route.kind {
        case .api(let scopes, let write), .picker(let scopes, let write):
            let c = try authenticate(bearerToken(request, query: query))
            caller = c
            if case .api = route.kind { try spendQuota(project: c.project, kind: .api) }
            if !c.has(anyOf: scopes) { throw .insufficientScopes }
            if write, case .api = route.kind { try spendWrite(userID: c.userID, project: c.project) }
        case .removed:
            let c = try authenticate(bearerToken(request, query: query))
            caller = c
            try spendQuota(project: c.project, kind: .api)
            throw .denied("The caller does not have permission")
        case .media, .oauth, .control:
            break
        }
        var body = Data()
        if !route.streamsBody, ["POST", "PATCH", "PUT"].contains(request.method.rawValue) {
            var r = request
            do {
                let buf = try await r.collectBody(upTo: Emulator.jsonBodyLimit)
                body = Data(buf.readableBytesView)
            } catch {
                throw .tooLarge("Request payload size exceeds the limit: \(Emulator.jsonBodyLimit) bytes.")
            }
        }
        let call = Call(emulator: self, request: request, params: params, query: query, caller: caller, body: body, fault: fault)
        do {
            let response = try await route.handler(call)
            if let lateMs { try? await Task.sleep(nanoseconds: UInt64(lateMs) * 1_000_000) }
            if let f = fault, !route.streamsBody { return Emulator.cutMidBody(response, after: f.afterBytes) }
            return response
        } catch let e as APIError {
            throw e
        } catch {
            logger.error("handler \(route.endpoint) failed: \(error)")
            throw .internalError()
        }
    }

    /// Largest JSON request body accepted (Google's front end allows a few MB).
    static let jsonBodyLimit = 4 * 1024 * 1024

    /// The same response, but the connection drops after `after` bytes of its body (default: half) — a
    /// "connection reset" that leaves the client holding a true prefix of the real answer.
    static func cutMidBody(_ response: Response, after: Int?) -> Response {
        let total = response.body.contentLength ?? response.headers[.contentLength].flatMap { Int($0) } ?? 0
        let limit = max(0, min(after ?? total / 2, max(0, total - 1)))
        let original = response.body
        var out = response
        out.body = ResponseBody(contentLength: total) { writer in
            try await original.write(CuttingWriter(inner: writer, remaining: limit))
        }
        return out
    }

    /// Passes body bytes through until `remaining` runs out, then breaks the connection.
    struct CuttingWriter: ResponseBodyWriter {
        var inner: any ResponseBodyWriter
        var remaining: Int

        mutating func write(_ buffer: ByteBuffer) async throws {
            if buffer.readableBytes < remaining {
                try await inner.write(buffer)
                remaining -= buffer.readableBytes
                return
            }
            if remaining > 0, let head = buffer.getSlice(at: buffer.readerIndex, length: remaining) {
                try await inner.write(head)
            }
            remaining = 0
            throw ConnectionReset()
        }

        mutating func write(contentsOf buffers: some Sequence<ByteBuffer>) async throws {
            for b in buffers { try await write(b) }
        }

        consuming func finish(_ trailingHeaders: HTTPFields?) async throws { throw ConnectionReset() }
    }

    /// A response that drops the connection after its head (uploads use it once they stop reading the body).
    static func resetResponse() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=UTF-8"
        headers[.contentLength] = "4096"
        return Response(status: .ok, headers: headers, body: ResponseBody { _ in throw ConnectionReset() })
    }

    /// Thrown inside a response body to make the server drop the connection.
    struct ConnectionReset: Error {}

    private func match(method: String, path: String) -> (Route, [String: String])? {
        let segs = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        for route in routes where route.method == method || (method == "HEAD" && route.method == "GET" && route.allowsHead) {
            if let params = route.match(segs) { return (route, params) }
        }
        return nil
    }
}

/// What a route needs before its handler runs.
enum RouteKind: Equatable {
    /// A Library API method: Bearer token, daily quota, one of `scopes`; `write` counts toward the per-minute limit.
    case api(scopes: Set<String>, write: Bool)
    /// A Picker API method: Bearer token with the picker scope; not counted against the Library quota.
    case picker(scopes: Set<String>, write: Bool)
    /// A method Google removed in 2025: authenticated, then 403.
    case removed
    /// A base-URL fetch (authorised by the signed URL itself).
    case media
    /// OAuth endpoints (token, authorize, revoke, device code).
    case oauth
    /// The emulator's own control API.
    case control
}

/// One entry of the route table.
struct Route: Sendable {
    let method: String
    /// Path pattern: literal segments, `{name}`, `{name}:verb`, or a trailing `{name*}` that takes the rest.
    let pattern: String
    /// Endpoint name for logs, counts and faults, e.g. `albums.list`.
    let endpoint: String
    let kind: RouteKind
    /// Whether the handler reads the request body itself (uploads); otherwise it is collected as JSON input.
    var streamsBody: Bool = false
    /// Whether HEAD is served by the GET handler.
    var allowsHead: Bool = false
    let handler: @Sendable (Call) async throws -> Response

    /// Matches path segments, returning captured parameters.
    func match(_ segs: [String]) -> [String: String]? {
        let pat = pattern.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        var params: [String: String] = [:]
        var i = 0
        for (pi, p) in pat.enumerated() {
            if p.hasPrefix("{"), p.hasSuffix("*}") {
                guard pi == pat.count - 1, i < segs.count else { return nil }
                params[String(p.dropFirst().dropLast(2))] = segs[i...].joined(separator: "/")
                return params
            }
            guard i < segs.count else { return nil }
            let s = segs[i]
            if p.hasPrefix("{"), let close = p.firstIndex(of: "}") {
                let name = String(p[p.index(after: p.startIndex)..<close])
                let suffix = String(p[p.index(after: close)...])
                guard s.hasSuffix(suffix) else { return nil }
                let raw = String(s.dropLast(suffix.count))
                let value = raw.removingPercentEncoding ?? raw
                guard !value.isEmpty, !value.contains(":") else { return nil }
                params[name] = value
            } else if p != s {
                return nil
            }
            i += 1
        }
        return i == segs.count ? params : nil
    }
}

/// Everything a handler gets about its request.
struct Call: Sendable {
    let emulator: Emulator
    /// The raw request (for headers, and for streaming bodies on upload routes).
    let request: Request
    /// Path parameters captured by the route pattern.
    let params: [String: String]
    let query: Query
    /// The authenticated caller, for api and picker routes.
    let caller: Caller?
    /// The collected body, for non-streaming POST/PATCH/PUT routes.
    let body: Data
    /// A "reset" fault the handler must carry out itself (streaming routes only).
    let fault: FaultRule?

    /// The authenticated caller; only api/picker routes call this.
    var me: Caller {
        get throws(APIError) {
            guard let caller else { throw .unauthenticated }
            return caller
        }
    }

    /// A required path parameter.
    func param(_ name: String) -> String { params[name] ?? "" }

    /// The body as a JSON object, or Google's 400 for malformed JSON. An empty body is `{}`.
    func jsonObject() throws(APIError) -> [String: JSONValue] {
        if body.isEmpty || body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        if caller != nil, let ct = request.header("Content-Type")?.lowercased(), !ct.contains("json") {
            throw .invalid("Invalid JSON payload received. Content-Type must be application/json, not \(ct).")
        }
        guard let v = JSONValue.parse(body) else { throw .invalid("Invalid JSON payload received. Unexpected token.") }
        guard case .object(let o) = v else { throw .invalid("Invalid JSON payload received. Expected an object.") }
        return o
    }

    /// Rejects members not in `allowed`, as Google's JSON front end does.
    func onlyFields(_ o: [String: JSONValue], _ allowed: Set<String>, in where_: String = "") throws(APIError) {
        for k in o.keys.sorted() where !allowed.contains(k) {
            let at = where_.isEmpty ? "" : " at '\(where_)'"
            throw .invalid("Invalid JSON payload received. Unknown name \"\(k)\"\(at): Cannot find field.")
        }
    }
}

extension Data {
    /// Lower-case hexadecimal text of these bytes.
    var hexString: String { map { String(format: "%02x", $0) }.joined() }

    /// Bytes from hexadecimal text; nil when malformed.
    init?(hexString: String) {
        guard hexString.count % 2 == 0 else { return nil }
        var out = Data(capacity: hexString.count / 2)
        var it = hexString.makeIterator()
        while let a = it.next(), let b = it.next() {
            guard let byte = UInt8(String([a, b]), radix: 16) else { return nil }
            out.append(byte)
        }
        self = out
    }
}
