// PhotosClient: one account's API client; every call goes through `perform`, where auth, retry and pacing live.
import Foundation
import Logging

/// Tunables of a client.
public struct PhotosClientConfiguration: Sendable {
    /// Retry and backoff rules.
    public var retry = RetryPolicy()
    /// Requests per second for this account (nil = unlimited).
    public var requestsPerSecond: Double? = 10
    /// Files at least this large use the resumable protocol.
    public var resumableThreshold: Int64 = 16 << 20
    /// Resumable chunk size (rounded to the server's granularity).
    public var chunkSize: Int64 = 8 << 20
    /// Timeouts and per-transfer rate limits for API calls and transfers.
    public var transfer = TransferOptions()
    /// The clock for expiry, backoff and pacing.
    public var clock: any PhotosClock = SystemClock()
    /// Where log lines go.
    public var logger: Logger = PhotosAPILog.defaultLogger
    /// Creates the defaults.
    public init() {}
}

/// Query-string helper.
struct Query {
    var pairs: [(String, String)] = []
    mutating func add(_ k: String, _ v: String?) { if let v, !v.isEmpty { pairs.append((k, v)) } }
    mutating func add(_ k: String, _ v: Int?) { if let v, v > 0 { pairs.append((k, String(v))) } }
    var string: String { pairs.isEmpty ? "" : "?" + FormEncoding.encode(pairs) }
}

/// The Google Photos Library + Picker client for one account.
public final class PhotosClient: Sendable {
    /// Endpoints in use.
    public let endpoints: PhotosEndpoints
    /// The token manager (refresh count, current credentials).
    public let tokens: TokenManager
    /// Requests per endpoint sent by this client.
    public let counters = RequestCounters()
    let transport: any HTTPTransport
    let config: PhotosClientConfiguration
    let limiter: RequestRateLimiter?
    var clock: any PhotosClock { config.clock }
    var logger: Logger { config.logger }

    /// Creates a client from credentials; refreshed tokens are saved to `store` when given.
    public init(credentials: StoredCredentials, store: (any CredentialStore)? = nil, transport: any HTTPTransport = CurlTransport(),
                configuration: PhotosClientConfiguration = PhotosClientConfiguration()) {
        endpoints = credentials.endpoints
        self.transport = transport
        config = configuration
        tokens = TokenManager(credentials: credentials, store: store, transport: transport, clock: configuration.clock,
                              logger: configuration.logger)
        limiter = configuration.requestsPerSecond.map { RequestRateLimiter(rate: $0, clock: configuration.clock) }
    }

    /// Creates a client for a stored account.
    public convenience init(account: Account, transport: any HTTPTransport = CurlTransport(),
                            configuration: PhotosClientConfiguration = PhotosClientConfiguration()) throws(PhotosAPIError) {
        self.init(credentials: try account.credentials(), store: account.store, transport: transport, configuration: configuration)
    }

    /// One logical API call (possibly several attempts).
    struct Call: Sendable {
        var endpoint: String
        var method: String
        var url: String
        var headers: [(String, String)] = []
        var body: HTTPBody = .none
        var sink: HTTPSink = .memory(limit: 64 << 20)
        /// Safe to repeat blindly.
        var idempotent: Bool
        /// Send the Bearer token.
        var authorized = true
        /// Map 403/404 to baseURLExpired (media downloads).
        var isMedia = false
    }

    /// Sends a call with auth, pacing, 401 refresh and the retry policy. Returns only 2xx responses.
    func perform(_ call: Call) async throws(PhotosAPIError) -> HTTPResponse {
        try await perform(call, policy: config.retry)
    }

    /// `perform` with an explicit retry policy.
    func perform(_ call: Call, policy: RetryPolicy) async throws(PhotosAPIError) -> HTTPResponse {
        let start = clock.now()
        var attempt = 0
        var refreshed = false
        var renewed: String? = nil
        while true {
            attempt += 1
            if Task.isCancelled { throw .cancelled }
            if let limiter { do { try await limiter.acquire() } catch { throw .cancelled } }
            var headers = call.headers
            var token = ""
            if call.authorized {
                if let r = renewed { token = r; renewed = nil } else { token = try await tokens.accessToken() }
                headers.insert(("Authorization", "Bearer \(token)"), at: 0)
            }
            let req = HTTPRequest(method: call.method, url: call.url, headers: headers, body: call.body, sink: call.sink,
                                  options: config.transfer)
            counters.increment(call.endpoint)
            let failure: PhotosAPIError
            var retryAfter: Double? = nil
            do {
                let r = try await transport.send(req, endpoint: call.endpoint)
                if (200..<300).contains(r.status) {
                    logger.trace("ok", metadata: ["endpoint": "\(call.endpoint)", "status": "\(r.status)", "attempt": "\(attempt)"])
                    return r
                }
                if r.status == 401 && call.authorized && !refreshed {
                    refreshed = true
                    attempt -= 1
                    logger.debug("401, refreshing token once", metadata: ["endpoint": "\(call.endpoint)"])
                    renewed = try await tokens.tokenAfterRejection(of: token)
                    continue
                }
                retryAfter = RetryPolicy.parseRetryAfter(r.header("retry-after"), now: clock.now())
                if call.isMedia && (r.status == 403 || r.status == 404) {
                    failure = .baseURLExpired(httpStatus: r.status)
                } else {
                    failure = ErrorMapper.map(endpoint: call.endpoint, status: r.status, contentType: r.contentType, body: r.body)
                }
            } catch let e as PhotosAPIError {
                failure = e
            } catch is CancellationError {
                throw .cancelled
            } catch {
                failure = .io("\(error)")
            }
            if case .cancelled = failure { throw failure }
            let elapsed = clock.now().timeIntervalSince(start)
            switch policy.decide(failure, attempt: attempt, elapsed: elapsed, idempotent: call.idempotent, retryAfter: retryAfter) {
            case .fail(let e):
                logger.debug("call failed", metadata: ["endpoint": "\(call.endpoint)", "attempt": "\(attempt)", "error": "\(e)"])
                throw e
            case .retry(let delay):
                logger.info("retrying", metadata: ["endpoint": "\(call.endpoint)", "attempt": "\(attempt)",
                                                   "delay": "\(String(format: "%.2f", delay))", "error": "\(failure)"])
                do { try await clock.sleep(seconds: delay) } catch { throw .cancelled }
            }
        }
    }

    /// Sends a JSON call and decodes the answer.
    func json<T: Decodable>(_ type: T.Type, endpoint: String, method: String, url: String, body: (any Encodable)? = nil,
                            idempotent: Bool) async throws(PhotosAPIError) -> T {
        var call = Call(endpoint: endpoint, method: method, url: url, idempotent: idempotent)
        if let body {
            guard let data = try? JSONEncoder().encode(body) else { throw .invalidResponse(endpoint: endpoint, detail: "cannot encode request") }
            call.body = .data(data)
            call.headers.append(("Content-Type", "application/json"))
        } else if method != "GET" && method != "DELETE" {
            call.body = .data(Data("{}".utf8))
            call.headers.append(("Content-Type", "application/json"))
        }
        let r = try await perform(call)
        return try decode(type, r, endpoint: endpoint)
    }

    func decode<T: Decodable>(_ type: T.Type, _ r: HTTPResponse, endpoint: String) throws(PhotosAPIError) -> T {
        let body = r.body.isEmpty ? Data("{}".utf8) : r.body
        do { return try JSONDecoder().decode(T.self, from: body) } catch {
            throw .invalidResponse(endpoint: endpoint, detail: "cannot decode \(T.self): \(String(decoding: r.body.prefix(200), as: UTF8.self))")
        }
    }

    /// Percent-escapes an id for a path segment.
    static func seg(_ id: String) -> String { FormEncoding.escape(id) }
}

/// An async sequence over every item of a paginated listing; follows nextPageToken across short and empty pages.
public struct PagedSequence<Element: Sendable>: AsyncSequence, Sendable {
    /// Fetches one page for a token (nil = first page).
    let fetch: @Sendable (String?) async throws -> Page<Element>
    /// Upper bound on pages fetched (a safety net against a server that never stops).
    let maxPages: Int

    /// Creates a sequence from a page fetcher.
    public init(maxPages: Int = 100_000, fetch: @escaping @Sendable (String?) async throws -> Page<Element>) {
        self.fetch = fetch; self.maxPages = maxPages
    }

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let fetch: @Sendable (String?) async throws -> Page<Element>
        let maxPages: Int
        var buffer: [Element] = []
        var index = 0
        var token: String? = nil
        var pages = 0
        var done = false

        /// The next item, fetching pages as needed.
        public mutating func next() async throws -> Element? {
            while index >= buffer.count {
                if done || pages >= maxPages { return nil }
                let page = try await fetch(token)
                pages += 1
                buffer = page.items; index = 0
                token = page.nextPageToken.flatMap { $0.isEmpty ? nil : $0 }
                if token == nil { done = true }
            }
            defer { index += 1 }
            return buffer[index]
        }
    }

    /// Makes an iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(fetch: fetch, maxPages: maxPages) }

    /// Collects everything into an array.
    public func collect() async throws -> [Element] {
        var out: [Element] = []
        for try await e in self { out.append(e) }
        return out
    }
}
