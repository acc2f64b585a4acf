// `gphotosfs auth verify`, `status` and `logout`, and the verification report behind verify.
import ArgumentParser
import Foundation
import Logging
import PhotosAPI

/// The checks behind `gphotosfs auth verify`: refresh, a one-album listing, scope and Testing-mode warnings.
public enum AuthVerification {
    /// The outcome of a verification.
    public struct Report: Sendable {
        /// True when the token refreshed and the listing worked.
        public var ok = false
        /// Facts, one per line.
        public var lines: [String] = []
        /// Warnings, one per line.
        public var warnings: [String] = []
        /// The error that stopped the check, if any.
        public var error: PhotosAPIError?
        /// Everything as printable text.
        public var text: String { (lines + warnings.map { "warning: " + $0 }).joined(separator: "\n") }
    }

    /// Seven days: the life of a refresh token issued while the consent screen is in Testing.
    static let testingLifetime: Double = 7 * 86_400

    /// Verifies `account`'s credentials against its endpoints.
    public static func run(account: Account, transport: any HTTPTransport = CurlTransport(), now: Date = Date(),
                           logger: Logger = Logger(label: "gphotosfs.auth")) async -> Report {
        var rep = Report()
        let creds: StoredCredentials
        do throws(PhotosAPIError) { creds = try account.credentials() } catch { rep.error = error; rep.lines.append(error.description); return rep }
        rep.lines.append("account: \(creds.account)")
        rep.lines.append("client id: \(creds.clientId)")
        rep.lines.append("library endpoint: \(creds.endpoints.library)")
        if let s = creds.source { rep.lines.append("source: \(s)") }
        if let a = creds.authorizedAt { rep.lines.append("authorized at: \(a.formatted(.iso8601))") }

        // Testing-mode heuristics: an explicit flag, else a hint based on the authorization date.
        if creds.testingMode == true {
            if let a = creds.authorizedAt {
                let end = a.addingTimeInterval(testingLifetime)
                rep.warnings.append(end < now
                    ? "consent screen in Testing mode: this refresh token expired at \(end.formatted(.iso8601)) (7 days after authorization)."
                    : "consent screen in Testing mode: this refresh token expires at \(end.formatted(.iso8601)) (7 days after authorization); publish the app to avoid weekly logins.")
            } else {
                rep.warnings.append("consent screen in Testing mode: refresh tokens expire 7 days after authorization.")
            }
        } else if creds.testingMode == nil, let a = creds.authorizedAt {
            // Unknown publishing status: say what would happen in Testing mode; warn once the token is old enough to matter.
            let end = a.addingTimeInterval(testingLifetime)
            let text = "if the OAuth consent screen is in Testing mode, this refresh token stops working at \(end.formatted(.iso8601)) (7 days after authorization); log in with --testing-mode to record it, or publish the app."
            if now.timeIntervalSince(a) > 5 * 86_400 { rep.warnings.append(text) } else { rep.lines.append("note: " + text) }
        }
        let removedStored = creds.removedScopes
        if !removedStored.isEmpty {
            rep.warnings.append("token issued with scopes Google removed on 31 March 2025 (\(removedStored.map(PhotosScopes.shortName).joined(separator: ", "))): re-authorize with gphotosfs auth login.")
        }

        var config = PhotosClientConfiguration()
        config.logger = logger
        config.retry.maxAttempts = 2
        config.retry.baseDelay = 0.5
        let client = PhotosClient(credentials: creds, store: account.store, transport: transport, configuration: config)
        do throws(PhotosAPIError) {
            try await client.tokens.refresh()
        } catch {
            rep.error = error
            rep.lines.append("token refresh: FAILED: \(error)")
            if case .invalidGrant = error {
                if creds.testingMode != false {
                    rep.warnings.append("if your OAuth consent screen is in \"Testing\", Google expires refresh tokens 7 days after authorization: publish it (\"In production\"), then re-authorize with gphotosfs auth login.")
                } else {
                    rep.warnings.append("the refresh token was revoked or expired: re-authorize with gphotosfs auth login.")
                }
            }
            return rep
        }
        let fresh = await client.tokens.credentials
        rep.lines.append("token refresh: ok")
        rep.lines.append("access token expires: \(fresh.expiry.map { $0.formatted(.iso8601) } ?? "unknown")")
        let granted = fresh.scopes
        rep.lines.append("granted scopes: \(granted.map { $0.map(PhotosScopes.shortName).joined(separator: " ") } ?? "unknown")")
        if let granted {
            let missing = PhotosScopes.library.filter { !granted.contains($0) }
            if !missing.isEmpty {
                rep.warnings.append("missing scopes \(missing.map(PhotosScopes.shortName).joined(separator: ", ")): re-authorize with gphotosfs auth login and keep every box ticked.")
            }
            let removed = granted.filter { PhotosScopes.removed.contains($0) }
            if !removed.isEmpty && removedStored.isEmpty {
                rep.warnings.append("token carries scopes Google removed on 31 March 2025 (\(removed.map(PhotosScopes.shortName).joined(separator: ", "))): re-authorize with gphotosfs auth login.")
            }
        }
        do throws(PhotosAPIError) {
            let page = try await client.listAlbums(pageSize: 1)
            rep.lines.append("albums.list: ok (\(page.items.count) album\(page.items.count == 1 ? "" : "s") on the first page of 1)")
            rep.ok = true
        } catch {
            rep.error = error
            rep.lines.append("albums.list: FAILED: \(error)")
            if case .insufficientScopes = error {
                rep.warnings.append("the token cannot read app-created albums: re-authorize with gphotosfs auth login.")
            }
        }
        return rep
    }
}

/// `gphotosfs auth verify`.
struct AuthVerify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Refresh the token, list one album, and report scopes, expiry and problems.",
        discussion: """
        Warns about consent screens in Testing mode (Google expires their refresh tokens after 7 days; known when \
        the account was stored with --testing-mode, guessed when a refresh fails with invalid_grant) and about \
        tokens issued with the scopes Google removed on 31 March 2025.
        """)

    @OptionGroup var accountOptions: AccountOptions

    func run() async throws {
        let rep = await AuthVerification.run(account: Account(name: accountOptions.account, store: accountOptions.store))
        AuthSupport.say(rep.text)
        if !rep.ok { throw ExitCode(1) }
    }
}

/// `gphotosfs auth status`: what is stored, without network access.
struct AuthStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Show stored accounts (no network).")

    @Option(name: .long, help: "Only this account.")
    var account: String?

    @Option(name: .long, help: "Directory of the account token files.")
    var accountsDir: String?

    func run() async throws {
        let store = accountsDir.map { TokenFileStore(directory: URL(fileURLWithPath: $0, isDirectory: true)) }
            ?? TokenFileStore(directory: TokenFileStore.defaultDirectory())
        let names = try account.map { [$0] } ?? store.accounts()
        if names.isEmpty { AuthSupport.say("No accounts in \(store.directory.path). Run `gphotosfs auth login`."); return }
        for name in names {
            guard let c = try store.load(name) else { AuthSupport.say("\(name): no credentials"); continue }
            AuthSupport.say("\(name): client \(c.clientId), \(c.endpoints == .google ? "Google" : c.endpoints.library)")
            AuthSupport.say("  scopes: \(c.scopes.map { $0.map(PhotosScopes.shortName).joined(separator: " ") } ?? "unknown")")
            AuthSupport.say("  access token expires: \(c.expiry.map { $0.formatted(.iso8601) } ?? "unknown")")
            if let a = c.authorizedAt { AuthSupport.say("  authorized: \(a.formatted(.iso8601))\(c.testingMode == true ? " (Testing mode: 7-day refresh token)" : "")") }
            if !c.removedScopes.isEmpty { AuthSupport.say("  warning: scopes removed by Google in 2025; re-authorize with gphotosfs auth login") }
            AuthSupport.say("  file: \(store.fileURL(name).path)")
        }
    }
}

/// `gphotosfs auth logout`: revoke, then delete the token file.
struct AuthLogout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Revoke the account's token at Google and delete its file.")

    @OptionGroup var accountOptions: AccountOptions

    @Flag(name: .long, help: "Delete the file even when revocation fails.")
    var force = false

    func run() async throws {
        let store = accountOptions.store
        guard let c = try store.load(accountOptions.account) else {
            AuthSupport.say("No credentials for account '\(accountOptions.account)'."); return
        }
        let oauth = OAuthClient(endpoints: c.endpoints, transport: CurlTransport(logger: AuthSupport.logger), logger: AuthSupport.logger)
        do {
            try await oauth.revoke(token: c.refreshToken.isEmpty ? (c.accessToken ?? "") : c.refreshToken)
            AuthSupport.say("Revoked the token of account '\(c.account)'.")
        } catch {
            AuthSupport.say("Revocation failed: \(error)")
            if !force { AuthSupport.say("Kept the file; use --force to delete it anyway."); throw ExitCode(1) }
        }
        try store.delete(c.account)
        AuthSupport.say("Deleted \(store.fileURL(c.account).path).")
    }
}
