// The HTTP transport abstraction: requests, bodies streamed from files, responses streamed to files or callbacks.
import Foundation

/// Where a request body comes from. Files are streamed, never read whole into memory.
public enum HTTPBody: Sendable {
    /// No body.
    case none
    /// Bytes in memory (JSON, small payloads).
    case data(Data)
    /// `length` bytes of the file at `path` starting at `offset`.
    case file(path: String, offset: Int64, length: Int64)

    /// The Content-Length this body sends.
    public var length: Int64 {
        switch self {
        case .none: return 0
        case .data(let d): return Int64(d.count)
        case .file(_, _, let n): return n
        }
    }
}

/// Where a response body goes.
public enum HTTPSink: Sendable {
    /// Collected in memory up to `limit` bytes (beyond that the transfer fails).
    case memory(limit: Int)
    /// Written to the file at `path` (created or truncated; `append` keeps existing bytes and writes at the end).
    case file(path: String, append: Bool)
    /// Handed chunk by chunk to `consumer` on the transfer thread, as a view of libcurl's buffer that is valid only
    /// during the call (no copy); throwing aborts the transfer.
    case callback(@Sendable (UnsafeRawBufferPointer) throws -> Void)
}

/// Per-transfer limits.
public struct TransferOptions: Sendable {
    /// Seconds allowed to establish the connection.
    public var connectTimeout: Double = 20
    /// Abort when fewer than 1 byte/s moved for this many seconds.
    public var idleTimeout: Double = 60
    /// Upper bound for the whole transfer (0 = none).
    public var totalTimeout: Double = 0
    /// Bytes per second for this transfer's uploads (0 = unlimited).
    public var maxSendRate: Int64 = 0
    /// Bytes per second for this transfer's downloads (0 = unlimited).
    public var maxReceiveRate: Int64 = 0
    /// Follow 3xx redirects.
    public var followRedirects: Bool = false
    /// Creates default options.
    public init() {}
}

/// One HTTP request.
public struct HTTPRequest: Sendable {
    /// GET, POST, PATCH, DELETE, HEAD.
    public var method: String
    /// Absolute URL.
    public var url: String
    /// Header pairs in order.
    public var headers: [(String, String)]
    /// The body.
    public var body: HTTPBody
    /// Where the response body goes.
    public var sink: HTTPSink
    /// Timeouts and rate limits.
    public var options: TransferOptions

    /// Creates a request.
    public init(method: String, url: String, headers: [(String, String)] = [], body: HTTPBody = .none,
                sink: HTTPSink = .memory(limit: 64 << 20), options: TransferOptions = TransferOptions()) {
        self.method = method; self.url = url; self.headers = headers; self.body = body; self.sink = sink; self.options = options
    }

    /// The request line with secrets removed (query values of token-like parameters), for logs.
    public var redactedDescription: String { "\(method) \(Redact.url(url))" }
}

/// One HTTP response.
public struct HTTPResponse: Sendable {
    /// Status code of the final response.
    public var status: Int
    /// Headers of the final response, names lower-cased (repeated headers joined with ", ").
    public var headers: [String: String]
    /// Body when the sink was `.memory`, else empty.
    public var body: Data
    /// Bytes received in the body (whatever the sink).
    public var bodyBytes: Int64
    /// Creates a response.
    public init(status: Int, headers: [String: String], body: Data, bodyBytes: Int64) {
        self.status = status; self.headers = headers; self.body = body; self.bodyBytes = bodyBytes
    }
    /// A header by name (any case).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
    /// The Content-Type header or "".
    public var contentType: String { header("content-type") ?? "" }
}

/// Sends HTTP requests. Implementations must be safe to call concurrently.
public protocol HTTPTransport: Sendable {
    /// Performs the request. Throws PhotosAPIError.transport/.cancelled/.insecureURL; HTTP errors are responses.
    func send(_ request: HTTPRequest, endpoint: String) async throws -> HTTPResponse
}

/// Helpers that keep secrets out of strings.
public enum Redact {
    /// Replaces values of token-ish query parameters with "REDACTED".
    public static func url(_ url: String) -> String {
        guard let q = url.firstIndex(of: "?") else { return url }
        let base = url[..<q]
        let parts = url[url.index(after: q)...].split(separator: "&", omittingEmptySubsequences: false).map { part -> String in
            let kv = part.split(separator: "=", maxSplits: 1)
            let key = kv.first.map(String.init) ?? ""
            let sensitive = ["token", "access_token", "refresh_token", "code", "client_secret", "code_verifier", "key"]
            return sensitive.contains(key.lowercased()) && kv.count == 2 ? "\(key)=REDACTED" : String(part)
        }
        return base + "?" + parts.joined(separator: "&")
    }

    /// A short, non-reversible hint of a secret for diagnostics ("…abcd" only when long enough, else "***").
    public static func hint(_ secret: String) -> String {
        secret.isEmpty ? "(none)" : "***"
    }
}

/// URL checks shared by the transport.
enum URLPolicy {
    /// True when `host` is 127.0.0.0/8, ::1 or localhost.
    static func isLoopback(_ host: String) -> Bool {
        let h = host.lowercased().trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        if h == "localhost" || h == "::1" { return true }
        let octets = h.split(separator: ".")
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// Throws unless the URL is https, or http to a loopback host.
    static func check(_ url: String) throws(PhotosAPIError) {
        guard let comps = URLComponents(string: url), let scheme = comps.scheme?.lowercased() else {
            throw .insecureURL(Redact.url(url))
        }
        if scheme == "https" { return }
        if scheme == "http", let host = comps.host, isLoopback(host) { return }
        throw .insecureURL(Redact.url(url))
    }
}
