// PhotosAPIError: the one error type of the PhotosAPI layer, and the parser that turns HTTP answers into it.
import Foundation

/// A google.rpc.Status as sent in the error envelope or per item in batch responses.
public struct GoogleStatus: Sendable, Equatable, Codable {
    /// HTTP code in envelopes (`error.code`), or the google.rpc.Code number in per-item statuses.
    public var code: Int
    /// Canonical status name, e.g. PERMISSION_DENIED (empty for per-item statuses).
    public var status: String
    /// Human-readable message as Google words it.
    public var message: String
    /// `reason` values from ErrorInfo details and legacy `errors[]`.
    public var reasons: [String]
    /// `metadata.quota_limit` values from ErrorInfo details.
    public var quotaLimits: [String]

    /// Creates a status.
    public init(code: Int = 0, status: String = "", message: String = "", reasons: [String] = [], quotaLimits: [String] = []) {
        self.code = code; self.status = status; self.message = message; self.reasons = reasons; self.quotaLimits = quotaLimits
    }

    private enum CodingKeys: String, CodingKey { case code, status, message, details, errors }
    private struct Detail: Decodable {
        var reason: String?
        var metadata: [String: String]?
    }
    private struct Legacy: Decodable { var reason: String? }

    /// Decodes tolerantly: every field optional, unknown fields ignored.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        code = (try? c.decodeIfPresent(FlexInt.self, forKey: .code))?.value ?? 0
        status = (try? c.decodeIfPresent(String.self, forKey: .status)) ?? ""
        message = (try? c.decodeIfPresent(String.self, forKey: .message)) ?? ""
        let details = (try? c.decodeIfPresent([Detail].self, forKey: .details)) ?? []
        let legacy = (try? c.decodeIfPresent([Legacy].self, forKey: .errors)) ?? []
        reasons = details.compactMap(\.reason) + legacy.compactMap(\.reason)
        quotaLimits = details.compactMap { $0.metadata?["quota_limit"] }
    }

    /// Encodes code, status and message.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        if code != 0 { try c.encode(code, forKey: .code) }
        if !status.isEmpty { try c.encode(status, forKey: .status) }
        if !message.isEmpty { try c.encode(message, forKey: .message) }
    }

    /// True for a per-item success (absent or zero code).
    public var isOK: Bool { code == 0 }
}

/// Every failure the PhotosAPI layer reports. Descriptions never contain tokens or secrets.
public enum PhotosAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Google answered with an error envelope (after retries where the policy allows them).
    case api(endpoint: String, httpStatus: Int, status: GoogleStatus)
    /// 403 "Request had insufficient authentication scopes.": the user must consent again with the needed scopes.
    case insufficientScopes(endpoint: String, message: String)
    /// 401 even after one refresh: the access token is not accepted.
    case unauthenticated(endpoint: String, message: String)
    /// The per-project daily quota is exhausted; stop until it resets (no retries were made).
    case dailyQuotaExceeded(endpoint: String, message: String)
    /// A transient 429 persisted through every retry.
    case rateLimited(endpoint: String, message: String, retryAfter: Double?)
    /// The refresh token was refused (revoked, expired, Testing-mode 7-day limit): run `gphotosfs auth login` again.
    case invalidGrant(description: String)
    /// Another OAuth error (`invalid_client`, `invalid_request`, ...).
    case oauth(error: String, description: String)
    /// A non-idempotent call (batchCreate, albums.create) failed after it may have reached Google: reconcile first.
    case outcomeUnknown(endpoint: String, underlying: String)
    /// The transfer failed in libcurl (connect, reset, timeout) with its code and text.
    case transport(endpoint: String, curlCode: Int, message: String)
    /// An HTTP error whose body was not a Google JSON envelope.
    case http(endpoint: String, httpStatus: Int, contentType: String, body: String)
    /// A base URL answered 403/404: it expired (60 minutes) or was revoked; fetch a fresh one with get/batchGet.
    case baseURLExpired(httpStatus: Int)
    /// A 2xx answer that could not be understood.
    case invalidResponse(endpoint: String, detail: String)
    /// The resumable upload session is final or cancelled on the server; start a new one.
    case uploadSessionGone(status: String)
    /// The request was cancelled by the caller.
    case cancelled
    /// Plain http:// to a host that is not loopback.
    case insecureURL(String)
    /// No credentials for the account, or they are unusable.
    case notAuthorized(String)
    /// Local I/O failed (token files, upload source, download target).
    case io(String)

    /// True when the user must run the login flow again (invalid grant, removed or missing scopes).
    public var needsReauthorization: Bool {
        switch self {
        case .invalidGrant, .insufficientScopes, .notAuthorized: return true
        default: return false
        }
    }

    /// The text shown to users and logs.
    public var description: String {
        switch self {
        case let .api(e, h, s):
            return "\(e): HTTP \(h) \(s.status.isEmpty ? "" : s.status + ": ")\(s.message)"
        case let .insufficientScopes(e, m):
            return "\(e): \(m) The token lacks a needed scope (or carries only scopes Google removed on 31 March 2025); re-authorize with `gphotosfs auth login`."
        case let .unauthenticated(e, m):
            return "\(e): not authenticated (\(m)); re-authorize with `gphotosfs auth login`."
        case let .dailyQuotaExceeded(e, m):
            return "\(e): daily API quota exhausted, stopping until it resets (\(m))"
        case let .rateLimited(e, m, ra):
            return "\(e): rate limited after retries (\(m))" + (ra.map { "; retry after \(Int($0)) s" } ?? "")
        case let .invalidGrant(d):
            return "the refresh token was refused (invalid_grant: \(d)); it was revoked or expired (a consent screen in Testing mode expires tokens after 7 days). Re-authorize with `gphotosfs auth login`."
        case let .oauth(err, d):
            return "OAuth error \(err)" + (d.isEmpty ? "" : ": \(d)")
        case let .outcomeUnknown(e, u):
            return "\(e): the request may or may not have been applied (\(u)); reconcile before retrying"
        case let .transport(e, c, m):
            return "\(e): transfer failed (curl \(c): \(m))"
        case let .http(e, h, ct, b):
            return "\(e): HTTP \(h) (\(ct.isEmpty ? "no content type" : ct))" + (b.isEmpty ? "" : ": \(b)")
        case let .baseURLExpired(h):
            return "base URL refused with HTTP \(h): it expired or access was revoked; fetch a fresh baseUrl"
        case let .invalidResponse(e, d):
            return "\(e): unexpected response: \(d)"
        case let .uploadSessionGone(s):
            return "resumable upload session is \(s); start a new upload"
        case .cancelled:
            return "cancelled"
        case let .insecureURL(u):
            return "refusing plain http to a non-loopback host: \(u)"
        case let .notAuthorized(m):
            return m
        case let .io(m):
            return m
        }
    }
}

/// Turns a non-2xx API answer into the typed error.
enum ErrorMapper {
    /// Message Google sends for a token without the needed scope.
    static let insufficientScopesMessage = "Request had insufficient authentication scopes."

    /// Parses the envelope `{"error":{...}}` when present.
    static func envelope(_ body: Data) -> GoogleStatus? {
        struct Env: Decodable { var error: GoogleStatus? }
        guard let env = try? JSONDecoder().decode(Env.self, from: body) else { return nil }
        return env.error
    }

    /// True when a 429 is the per-day quota (stop) rather than a transient limit (retry).
    static func isDailyQuota(_ s: GoogleStatus) -> Bool {
        if s.quotaLimits.contains(where: { $0.contains("PerDay") }) { return true }
        let m = s.message.lowercased()
        return m.contains("per day")
    }

    /// Maps an HTTP answer to the typed error.
    static func map(endpoint: String, status: Int, contentType: String, body: Data) -> PhotosAPIError {
        guard let s = envelope(body) else {
            let text = String(decoding: body.prefix(300), as: UTF8.self)
            let printable = contentType.hasPrefix("text/") || contentType.contains("json") || contentType.isEmpty
            return .http(endpoint: endpoint, httpStatus: status, contentType: contentType,
                         body: printable ? text.trimmingCharacters(in: .whitespacesAndNewlines) : "")
        }
        if status == 403 && s.message.contains("insufficient authentication scopes") {
            return .insufficientScopes(endpoint: endpoint, message: s.message)
        }
        if status == 429 && isDailyQuota(s) { return .dailyQuotaExceeded(endpoint: endpoint, message: s.message) }
        if status == 401 { return .unauthenticated(endpoint: endpoint, message: s.message) }
        return .api(endpoint: endpoint, httpStatus: status, status: s)
    }
}
