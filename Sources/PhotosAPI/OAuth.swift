// OAuth 2.0 for installed apps: PKCE, authorization URL, code exchange, refresh, revoke, emulator token minting.
import Crypto
import Foundation
import Logging

/// Google's token-endpoint answer.
public struct TokenResponse: Decodable, Sendable, Equatable, CustomStringConvertible {
    /// Short-lived bearer token for API calls (access_token).
    public var accessToken: String
    /// Seconds until the access token expires.
    public var expiresIn: Double
    /// Only on first consent (or with prompt=consent); refresh responses normally omit it.
    public var refreshToken: String?
    /// Space-separated scopes granted.
    public var scope: String?
    /// Token type, normally "Bearer" (the default when absent).
    public var tokenType: String

    enum CodingKeys: String, CodingKey { case accessToken = "access_token", expiresIn = "expires_in", refreshToken = "refresh_token", scope, tokenType = "token_type" }

    /// Creates a response value.
    public init(accessToken: String, expiresIn: Double, refreshToken: String? = nil, scope: String? = nil, tokenType: String = "Bearer") {
        self.accessToken = accessToken; self.expiresIn = expiresIn; self.refreshToken = refreshToken; self.scope = scope; self.tokenType = tokenType
    }

    /// Tolerant decoding (expires_in as number or string).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        accessToken = c.str(.accessToken)
        expiresIn = Double(c.int64(.expiresIn))
        refreshToken = c.optStr(.refreshToken)
        scope = c.optStr(.scope)
        tokenType = c.optStr(.tokenType) ?? "Bearer"
    }

    /// The granted scopes as a list (nil when the response had none).
    public var scopes: [String]? { scope.map { $0.split(separator: " ").map(String.init) } }
    /// Redacted.
    public var description: String { "TokenResponse(expiresIn: \(Int(expiresIn)), scope: \(scope ?? "-"), refreshToken: \(refreshToken == nil ? "absent" : "present"))" }
}

/// PKCE verifier and S256 challenge.
public struct PKCE: Sendable {
    /// The secret verifier (43..128 chars).
    public let verifier: String
    /// BASE64URL(SHA256(verifier)).
    public let challenge: String

    /// Generates a fresh random verifier.
    public init() {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<48).map { _ in UInt8.random(in: 0...255, using: &rng) }
        self.init(verifier: PKCE.base64url(Data(bytes)))
    }

    /// Uses a given verifier.
    public init(verifier: String) {
        self.verifier = verifier
        challenge = PKCE.base64url(Data(SHA256.hash(data: Data(verifier.utf8))))
    }

    /// URL-safe base64 without padding.
    public static func base64url(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A random state value.
    public static func randomState() -> String {
        var rng = SystemRandomNumberGenerator()
        return base64url(Data((0..<24).map { _ in UInt8.random(in: 0...255, using: &rng) }))
    }
}

/// Form and query encoding.
enum FormEncoding {
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    /// Percent-encodes everything but unreserved characters.
    static func escape(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? s }
    /// k=v&k=v.
    static func encode(_ pairs: [(String, String)]) -> String { pairs.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&") }
}

/// Talks to the OAuth endpoints of one endpoint set.
public struct OAuthClient: Sendable {
    /// The token, authorize and revoke URLs used (Google's or an emulator's).
    public let endpoints: PhotosEndpoints
    let transport: any HTTPTransport
    let logger: Logger

    /// Creates an OAuth client.
    public init(endpoints: PhotosEndpoints, transport: any HTTPTransport, logger: Logger = PhotosAPILog.defaultLogger) {
        self.endpoints = endpoints; self.transport = transport; self.logger = logger
    }

    /// The browser URL for the consent screen (code flow, offline access, PKCE S256).
    public func authorizationURL(clientId: String, redirectURI: String, scopes: [String], state: String, pkce: PKCE,
                                 loginHint: String? = nil) -> String {
        var q: [(String, String)] = [
            ("client_id", clientId), ("redirect_uri", redirectURI), ("response_type", "code"),
            ("scope", scopes.joined(separator: " ")), ("access_type", "offline"), ("prompt", "consent"),
            ("code_challenge", pkce.challenge), ("code_challenge_method", "S256"), ("state", state),
        ]
        if let loginHint { q.append(("login_hint", loginHint)) }
        return endpoints.authorize + (endpoints.authorize.contains("?") ? "&" : "?") + FormEncoding.encode(q)
    }

    /// Exchanges an authorization code.
    public func exchange(code: String, verifier: String, redirectURI: String, clientId: String, clientSecret: String?) async throws(PhotosAPIError) -> TokenResponse {
        var form: [(String, String)] = [("code", code), ("client_id", clientId), ("redirect_uri", redirectURI),
                                        ("grant_type", "authorization_code"), ("code_verifier", verifier)]
        if let clientSecret, !clientSecret.isEmpty { form.append(("client_secret", clientSecret)) }
        return try await tokenRequest(form, endpoint: "oauth.token")
    }

    /// Refreshes an access token.
    public func refresh(refreshToken: String, clientId: String, clientSecret: String?) async throws(PhotosAPIError) -> TokenResponse {
        var form: [(String, String)] = [("client_id", clientId), ("refresh_token", refreshToken), ("grant_type", "refresh_token")]
        if let clientSecret, !clientSecret.isEmpty { form.append(("client_secret", clientSecret)) }
        return try await tokenRequest(form, endpoint: "oauth.token")
    }

    /// Revokes a token (refresh or access). The token goes in the form body, never the URL.
    public func revoke(token: String) async throws(PhotosAPIError) {
        let req = HTTPRequest(method: "POST", url: endpoints.revoke,
                              headers: [("Content-Type", "application/x-www-form-urlencoded")],
                              body: .data(Data(FormEncoding.encode([("token", token)]).utf8)))
        let r = try await send(req, endpoint: "oauth.revoke")
        guard (200..<300).contains(r.status) else { throw Self.oauthError(r, endpoint: "oauth.revoke") }
    }

    /// Mints a token from a gphotos-emulator's control API (no browser): POST /emulator/v1/tokens.
    public func emulatorToken(clientId: String, scopes: [String]) async throws(PhotosAPIError) -> TokenResponse {
        guard let base = endpoints.emulatorBase else { throw .notAuthorized("these endpoints are not an emulator's") }
        struct Body: Encodable { var clientId: String; var scopes: [String] }
        let body = (try? JSONEncoder().encode(Body(clientId: clientId, scopes: scopes))) ?? Data()
        let req = HTTPRequest(method: "POST", url: base + "/emulator/v1/tokens", headers: [("Content-Type", "application/json")], body: .data(body))
        let r = try await send(req, endpoint: "emulator.tokens")
        guard r.status == 200 else { throw ErrorMapper.map(endpoint: "emulator.tokens", status: r.status, contentType: r.contentType, body: r.body) }
        return try Self.decodeToken(r, endpoint: "emulator.tokens")
    }

    private func tokenRequest(_ form: [(String, String)], endpoint: String) async throws(PhotosAPIError) -> TokenResponse {
        let req = HTTPRequest(method: "POST", url: endpoints.token,
                              headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
                              body: .data(Data(FormEncoding.encode(form).utf8)))
        // Token requests are safe to retry on transport errors and 5xx: a refresh is idempotent,
        // and a code exchange that fails is reported as such.
        var attempt = 0
        while true {
            attempt += 1
            do throws(PhotosAPIError) {
                let r = try await send(req, endpoint: endpoint)
                if r.status == 200 { return try Self.decodeToken(r, endpoint: endpoint) }
                if r.status >= 500 && r.status != 501 && attempt < 3 { continue }
                throw Self.oauthError(r, endpoint: endpoint)
            } catch let e {
                if case .transport = e, attempt < 3 { continue }
                throw e
            }
        }
    }

    private func send(_ req: HTTPRequest, endpoint: String) async throws(PhotosAPIError) -> HTTPResponse {
        do { return try await transport.send(req, endpoint: endpoint) } catch let e as PhotosAPIError { throw e } catch is CancellationError {
            throw .cancelled
        } catch { throw .io("\(error)") }
    }

    static func decodeToken(_ r: HTTPResponse, endpoint: String) throws(PhotosAPIError) -> TokenResponse {
        guard let t = try? JSONDecoder().decode(TokenResponse.self, from: r.body), !t.accessToken.isEmpty else {
            throw .invalidResponse(endpoint: endpoint, detail: "token response without access_token")
        }
        return t
    }

    /// Maps `{"error":"invalid_grant","error_description":...}` and friends.
    static func oauthError(_ r: HTTPResponse, endpoint: String) -> PhotosAPIError {
        struct E: Decodable { var error: String?; var error_description: String? }
        if let e = try? JSONDecoder().decode(E.self, from: r.body), let code = e.error {
            if code == "invalid_grant" { return .invalidGrant(description: e.error_description ?? "") }
            return .oauth(error: code, description: e.error_description ?? "")
        }
        return ErrorMapper.map(endpoint: endpoint, status: r.status, contentType: r.contentType, body: r.body)
    }
}
