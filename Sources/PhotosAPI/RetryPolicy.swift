// The one retry and pacing policy: backoff with jitter, Retry-After, daily-quota stop, non-idempotent safety,
// the per-account request-rate limiter and per-endpoint request counters.
import Foundation
import Synchronization

/// What the client does after a failed attempt.
enum RetryDecision: Equatable {
    /// Sleep this many seconds and try again.
    case retry(after: Double)
    /// Give up with this error.
    case fail(PhotosAPIError)
}

/// Bounded exponential backoff with jitter; which failures are retried.
public struct RetryPolicy: Sendable {
    /// Attempts in total, including the first.
    public var maxAttempts: Int
    /// First backoff delay in seconds.
    public var baseDelay: Double
    /// Largest single delay (Retry-After above it gives up with rateLimited).
    public var maxDelay: Double
    /// Give up when the next sleep would pass this many seconds since the first attempt.
    public var maxTotal: Double
    /// Random extra delay as a fraction of the backoff (0...1).
    public var jitter: Double

    /// Creates a policy.
    public init(maxAttempts: Int = 6, baseDelay: Double = 1, maxDelay: Double = 32, maxTotal: Double = 180, jitter: Double = 0.3) {
        self.maxAttempts = maxAttempts; self.baseDelay = baseDelay; self.maxDelay = maxDelay; self.maxTotal = maxTotal; self.jitter = jitter
    }

    /// curl codes meaning the request never left this machine (safe to retry anything).
    static let notSentCodes: Set<Int> = [5, 6, 7]   // couldn't resolve proxy, couldn't resolve host, couldn't connect
    /// curl codes worth retrying for idempotent calls: resets, empty replies, timeouts, HTTP/2 stream errors.
    static let transientCodes: Set<Int> = [16, 18, 28, 35, 52, 55, 56, 92]

    /// Decides what to do after attempt number `attempt` failed with `error`.
    func decide(_ error: PhotosAPIError, attempt: Int, elapsed: Double, idempotent: Bool, retryAfter: Double?) -> RetryDecision {
        let retryable: Bool
        var finalError = error
        switch error {
        case .dailyQuotaExceeded:
            return .fail(error)
        case let .api(e, status, s) where status == 429:
            retryable = true
            finalError = .rateLimited(endpoint: e, message: s.message, retryAfter: retryAfter)
        case let .http(e, status, _, body) where status == 429:
            retryable = true
            finalError = .rateLimited(endpoint: e, message: body, retryAfter: retryAfter)
        case let .api(e, status, s) where status >= 500 && status != 501:
            guard idempotent else { return .fail(.outcomeUnknown(endpoint: e, underlying: "HTTP \(status) \(s.status)")) }
            retryable = true
        case let .http(e, status, _, _) where status >= 500 && status != 501:
            guard idempotent else { return .fail(.outcomeUnknown(endpoint: e, underlying: "HTTP \(status)")) }
            retryable = true
        case let .transport(e, code, message):
            if Self.notSentCodes.contains(code) { retryable = true } else if Self.transientCodes.contains(code) {
                guard idempotent else { return .fail(.outcomeUnknown(endpoint: e, underlying: "curl \(code): \(message)")) }
                retryable = true
            } else { retryable = false }
        default:
            retryable = false
        }
        guard retryable, attempt < maxAttempts else { return .fail(finalError) }
        let delay = self.delay(attempt: attempt, retryAfter: retryAfter)
        if let retryAfter, retryAfter > maxDelay { return .fail(finalError) }
        if elapsed + delay > maxTotal { return .fail(finalError) }
        return .retry(after: delay)
    }

    /// Backoff for the retry after attempt `attempt` (1-based), at least `retryAfter`.
    func delay(attempt: Int, retryAfter: Double?) -> Double {
        let exp = min(maxDelay, baseDelay * pow(2, Double(max(0, attempt - 1))))
        let withJitter = exp + (jitter > 0 ? Double.random(in: 0...(exp * jitter)) : 0)
        return max(retryAfter ?? 0, min(maxDelay, withJitter))
    }

    /// Parses Retry-After (seconds or an HTTP date) relative to `now`.
    static func parseRetryAfter(_ value: String?, now: Date) -> Double? {
        guard let v = value?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
        if let s = Double(v) { return max(0, s) }
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "GMT")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return f.date(from: v).map { max(0, $0.timeIntervalSince(now)) }
    }
}

/// A per-account token bucket on requests per second (async; sleeps on the injected clock).
public final class RequestRateLimiter: Sendable {
    private let state: Mutex<(tokens: Double, last: Date?)>
    /// Requests per second.
    public let rate: Double
    private let burst: Double
    private let clock: any PhotosClock

    /// Creates a limiter of `rate` requests/second with `burst` requests of slack.
    public init(rate: Double, burst: Double = 10, clock: any PhotosClock) {
        self.rate = max(0.001, rate); self.burst = max(1, burst); self.clock = clock
        state = Mutex((self.burst, nil))
    }

    /// Waits until one request may be sent.
    public func acquire() async throws {
        for _ in 0..<10_000 {
            let now = clock.now()
            let wait: Double = state.withLock { s in
                if let last = s.last { s.tokens = min(burst, s.tokens + max(0, now.timeIntervalSince(last)) * rate) }
                s.last = now
                if s.tokens >= 1 { s.tokens -= 1; return 0 }
                return (1 - s.tokens) / rate
            }
            if wait <= 0 { return }
            try await clock.sleep(seconds: wait)
        }
    }
}

/// Requests sent per endpoint name (every attempt counts), for `status` and benchmarks.
public final class RequestCounters: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    /// Creates empty counters.
    public init() {}
    /// Adds one to `endpoint`.
    func increment(_ endpoint: String) { counts.withLock { $0[endpoint, default: 0] += 1 } }
    /// A snapshot of all counts.
    public var snapshot: [String: Int] { counts.withLock { $0 } }
    /// The count for one endpoint.
    public func count(_ endpoint: String) -> Int { counts.withLock { $0[endpoint] ?? 0 } }
    /// Sum over all endpoints.
    public var total: Int { counts.withLock { $0.values.reduce(0, +) } }
}
