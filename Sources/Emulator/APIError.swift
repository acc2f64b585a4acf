// Google-style errors: the {"error":{code,message,status}} envelope and the google.rpc codes the emulator answers with.
import Foundation
import Hummingbird
import NIOCore

/// One failed API call, rendered the way Google's front end renders it.
struct APIError: Error, Sendable {
    /// HTTP status.
    let http: Int
    /// google.rpc status name, e.g. INVALID_ARGUMENT.
    let status: String
    /// Human text, as Google words it where known.
    let message: String
    /// Extra JSON members of the error object (details, legacy errors array), pre-encoded.
    var extra: [String: JSONValue] = [:]
    /// Extra response headers (Retry-After).
    var headers: [(String, String)] = []

    /// 400 INVALID_ARGUMENT.
    static func invalid(_ message: String) -> APIError { APIError(http: 400, status: "INVALID_ARGUMENT", message: message) }
    /// 400 FAILED_PRECONDITION.
    static func precondition(_ message: String) -> APIError { APIError(http: 400, status: "FAILED_PRECONDITION", message: message) }
    /// 401 UNAUTHENTICATED with Google's standard text.
    static let unauthenticated = APIError(
        http: 401, status: "UNAUTHENTICATED",
        message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
    /// 403 insufficient scopes, the text Google sends since the 2025 change.
    static let insufficientScopes = APIError(http: 403, status: "PERMISSION_DENIED", message: "Request had insufficient authentication scopes.")
    /// 403 PERMISSION_DENIED.
    static func denied(_ message: String) -> APIError { APIError(http: 403, status: "PERMISSION_DENIED", message: message) }
    /// 404 NOT_FOUND.
    static func notFound(_ message: String = "Requested entity was not found.") -> APIError {
        APIError(http: 404, status: "NOT_FOUND", message: message)
    }
    /// 413 for bodies over the limit.
    static func tooLarge(_ message: String) -> APIError { APIError(http: 413, status: "INVALID_ARGUMENT", message: message) }
    /// 500 INTERNAL.
    static func internalError(_ message: String = "Internal error encountered.") -> APIError {
        APIError(http: 500, status: "INTERNAL", message: message)
    }

    /// Maps an HTTP status to Google's canonical status name (used by fault injection).
    static func statusName(for http: Int) -> String {
        switch http {
        case 400: "INVALID_ARGUMENT"
        case 401: "UNAUTHENTICATED"
        case 403: "PERMISSION_DENIED"
        case 404: "NOT_FOUND"
        case 409: "ABORTED"
        case 429: "RESOURCE_EXHAUSTED"
        case 501: "NOT_IMPLEMENTED"
        case 503: "UNAVAILABLE"
        case 504: "DEADLINE_EXCEEDED"
        default: "INTERNAL"
        }
    }

    /// The JSON error envelope.
    var body: JSONValue {
        var error: [String: JSONValue] = ["code": .int(http), "message": .string(message), "status": .string(status)]
        for (k, v) in extra { error[k] = v }
        return .object(["error": .object(error)])
    }

    /// The HTTP response carrying this error.
    func response() -> Response {
        var r = HTTPOut.json(body, status: http)
        for (name, value) in headers { r.set(name, value) }
        return r
    }
}

/// A per-item google.rpc.Status inside a 200 response (batchCreate, batchGet).
struct RPCStatus: Sendable {
    /// google.rpc.Code number (0 = OK, 3 = INVALID_ARGUMENT, 5 = NOT_FOUND, ...).
    let code: Int
    /// The message text.
    let message: String

    /// Proto3 JSON: a zero code is omitted.
    var json: JSONValue {
        var o: [String: JSONValue] = ["message": .string(message)]
        if code != 0 { o["code"] = .int(code) }
        return .object(o)
    }
}
