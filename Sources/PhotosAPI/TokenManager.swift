// TokenManager: hands out access tokens, refreshing ~60 s before expiry and once on a 401, single-flight.
import Foundation
import Logging

/// Owns one account's credentials; persists every refresh through the store.
public actor TokenManager {
    private var creds: StoredCredentials
    private let store: (any CredentialStore)?
    private let oauth: OAuthClient
    private let clock: any PhotosClock
    private let logger: Logger
    private let margin: Double
    private var inFlight: Task<TokenResponse, any Error>?
    /// Number of refresh requests sent by this manager.
    public private(set) var refreshCount = 0

    /// Creates a manager; `margin` is how long before expiry a token is refreshed.
    public init(credentials: StoredCredentials, store: (any CredentialStore)?, transport: any HTTPTransport,
                clock: any PhotosClock = SystemClock(), margin: Double = 60, logger: Logger = PhotosAPILog.defaultLogger) {
        creds = credentials
        self.store = store
        oauth = OAuthClient(endpoints: credentials.endpoints, transport: transport, logger: logger)
        self.clock = clock
        self.margin = margin
        self.logger = logger
    }

    /// The current credentials (copy).
    public var credentials: StoredCredentials { creds }

    /// A valid access token, refreshed first when it expires within the margin.
    public func accessToken() async throws(PhotosAPIError) -> String {
        if let t = creds.accessToken, !t.isEmpty, let exp = creds.expiry, exp.timeIntervalSince(clock.now()) > margin { return t }
        return try await refresh()
    }

    /// Called after a 401 with the token that was refused: refreshes unless another caller already did.
    public func tokenAfterRejection(of rejected: String) async throws(PhotosAPIError) -> String {
        if let t = creds.accessToken, !t.isEmpty, t != rejected { return t }
        return try await refresh()
    }

    /// Refreshes now (joining a refresh already in flight).
    @discardableResult
    public func refresh() async throws(PhotosAPIError) -> String {
        if let running = inFlight { return try await Self.join(running).accessToken }
        guard !creds.refreshToken.isEmpty else {
            throw .notAuthorized("account '\(creds.account)' has no refresh token; run `gphotosfs auth login`")
        }
        let (oauth, rt, id, secret) = (self.oauth, creds.refreshToken, creds.clientId, creds.clientSecret)
        // The task applies the answer before it completes, so every caller joining it sees the new token.
        let task = Task { () async throws -> TokenResponse in
            let r = try await oauth.refresh(refreshToken: rt, clientId: id, clientSecret: secret)
            self.apply(r)
            return r
        }
        inFlight = task
        refreshCount += 1
        logger.debug("refreshing access token", metadata: ["account": "\(creds.account)"])
        defer { inFlight = nil }
        do throws(PhotosAPIError) {
            return try await Self.join(task).accessToken
        } catch {
            logger.warning("token refresh failed", metadata: ["account": "\(creds.account)", "error": "\(error)"])
            throw error
        }
    }

    private static func join(_ t: Task<TokenResponse, any Error>) async throws(PhotosAPIError) -> TokenResponse {
        do { return try await t.value } catch let e as PhotosAPIError { throw e } catch { throw .io("\(error)") }
    }

    private func apply(_ r: TokenResponse) {
        creds.accessToken = r.accessToken
        creds.expiry = clock.now().addingTimeInterval(r.expiresIn)
        if let rt = r.refreshToken, !rt.isEmpty { creds.refreshToken = rt }
        if let s = r.scopes { creds.scopes = s }
        creds.tokenType = r.tokenType
        do { try store?.save(creds) } catch {
            logger.error("could not persist refreshed token", metadata: ["account": "\(creds.account)", "error": "\(error)"])
        }
    }
}
