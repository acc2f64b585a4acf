// `gphotosfs auth login` (store a token) and `gphotosfs auth authorize` (print one for a headless machine).
import ArgumentParser
import Foundation
import PhotosAPI

/// Obtains a token: the loopback browser flow, or the emulator's control API. Shared by login and authorize.
struct TokenAcquisition {
    var clientId: String
    var clientSecret: String?
    var endpoints: PhotosEndpoints
    var scopes: [String]
    var port: Int
    var noBrowser: Bool
    var browserFlowOnEmulator: Bool
    var timeout: Double

    /// Runs the flow; progress text goes to standard error, the consent URL to `urlSink`.
    func run(urlSink: @escaping @Sendable (String) -> Void) async throws -> (TokenResponse, String) {
        let transport = CurlTransport(logger: AuthSupport.logger)
        if endpoints.emulatorBase != nil && !browserFlowOnEmulator {
            let r = try await OAuthClient(endpoints: endpoints, transport: transport, logger: AuthSupport.logger)
                .emulatorToken(clientId: clientId, scopes: scopes)
            return (r, "emulator")
        }
        let login = LoopbackLogin(endpoints: endpoints, transport: transport, logger: AuthSupport.logger)
        let noBrowser = self.noBrowser
        let r = try await login.run(clientId: clientId, clientSecret: clientSecret, scopes: scopes, port: port, timeout: timeout) { url in
            let opened = !noBrowser && AuthSupport.openBrowser(url)
            urlSink(opened ? "Your browser was opened. If it did not show the consent screen, open this URL:\n\(url)"
                           : "Open this URL in a browser on this machine (or through an SSH port forward):\n\(url)")
        }
        return (r, "login")
    }
}

/// Options common to login and authorize.
struct LoginOptions: ParsableArguments {
    @Option(name: .long, help: "Loopback port for the redirect (default: random). Use a fixed one with an SSH port forward.")
    var port: Int = 0

    @Flag(name: .long, help: "Never start a browser; print the URL.")
    var noBrowser = false

    @Flag(name: .long, help: "Also request the Picker scope (photospicker.mediaitems.readonly).")
    var picker = false

    @Flag(name: .long, help: "With --emulator: run the real browser flow against the emulator instead of minting a token.")
    var browserFlow = false

    @Option(name: .long, help: "Seconds to wait for the redirect.")
    var timeout: Double = 300

    @Flag(name: .long, inversion: .prefixedNo, help: "The OAuth consent screen is in Testing mode (refresh tokens expire after 7 days).")
    var testingMode: Bool?

    var scopes: [String] { PhotosScopes.library + (picker ? [PhotosScopes.picker] : []) }

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535.") }
    }
}

/// `gphotosfs auth login`.
struct AuthLogin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Authorize gphotosfs in a browser (loopback redirect with PKCE) and store the token.",
        discussion: """
        Starts a one-shot listener on 127.0.0.1, opens the consent screen (xdg-open when DISPLAY or WAYLAND_DISPLAY \
        is set, otherwise prints the URL) and stores the token for --account.

        The client secret may come from --client-secret, --client-secret-file or the GPHOTOSFS_CLIENT_SECRET \
        environment variable (preferred: it keeps the secret out of the process list).

        Headless machine over SSH: on your desktop run `ssh -L 53682:127.0.0.1:53682 nas`, then on the NAS \
        `gphotosfs auth login --client-id ID --port 53682 --no-browser` and open the printed URL on the desktop.
        """)

    @OptionGroup var client: ClientOptions
    @OptionGroup var accountOptions: AccountOptions
    @OptionGroup var endpointOptions: EndpointOptions
    @OptionGroup var login: LoginOptions

    func run() async throws {
        let endpoints = try endpointOptions.endpoints
        guard let clientId = client.resolvedClientId() ?? (endpoints.emulatorBase != nil ? "gphotosfs-emulator.apps.googleusercontent.com" : nil) else {
            throw ValidationError("--client-id is required (your own Desktop OAuth client).")
        }
        let secret = try client.resolvedSecret()
        let flow = TokenAcquisition(clientId: clientId, clientSecret: secret, endpoints: endpoints, scopes: login.scopes, port: login.port,
                                    noBrowser: login.noBrowser, browserFlowOnEmulator: login.browserFlow, timeout: login.timeout)
        let (r, source) = try await flow.run { text in AuthSupport.say(text) }
        guard let rt = r.refreshToken, !rt.isEmpty else {
            throw PhotosAPIError.oauth(error: "no_refresh_token", description:
                "Google returned no refresh token. Remove gphotosfs at https://myaccount.google.com/permissions and log in again.")
        }
        let creds = AuthSupport.credentials(account: accountOptions.account, clientId: clientId, clientSecret: secret, response: r,
                                            endpoints: endpoints, now: Date(), testingMode: login.testingMode, source: source)
        try accountOptions.store.save(creds)
        AuthSupport.say("Stored credentials for account '\(creds.account)' in \(accountOptions.store.fileURL(creds.account).path).")
        for line in AuthSupport.scopeReport(requested: login.scopes, granted: r.scopes) { AuthSupport.say(line) }
        if login.testingMode == true {
            AuthSupport.say("Testing-mode consent screen: this refresh token stops working after 7 days. Publish the app (\"In production\") to avoid weekly logins.")
        }
    }
}

/// `gphotosfs auth authorize`: run the browser flow here and print a token JSON for `gphotosfs auth import` elsewhere.
struct AuthAuthorize: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "authorize",
        abstract: "Authorize in a browser on this machine and print a token JSON for `gphotosfs auth import` on another.",
        discussion: """
        Example: `gphotosfs auth authorize --client-id ID > token.json` on a desktop, copy token.json to the NAS, then \
        `GPHOTOSFS_CLIENT_SECRET=… gphotosfs auth import --file token.json`. The JSON holds the refresh token: treat it \
        like a password and delete it after the import. The client secret is not included.
        """)

    @OptionGroup var client: ClientOptions
    @OptionGroup var endpointOptions: EndpointOptions
    @OptionGroup var login: LoginOptions

    func run() async throws {
        let endpoints = try endpointOptions.endpoints
        guard let clientId = client.resolvedClientId() ?? (endpoints.emulatorBase != nil ? "gphotosfs-emulator.apps.googleusercontent.com" : nil) else {
            throw ValidationError("--client-id is required.")
        }
        let secret = try client.resolvedSecret()
        let flow = TokenAcquisition(clientId: clientId, clientSecret: secret, endpoints: endpoints, scopes: login.scopes, port: login.port,
                                    noBrowser: login.noBrowser, browserFlowOnEmulator: login.browserFlow, timeout: login.timeout)
        let (r, _) = try await flow.run { text in AuthSupport.note(text) }
        let now = Date()
        var obj: [String: Any] = [
            "client_id": clientId, "access_token": r.accessToken, "refresh_token": r.refreshToken ?? "",
            "token_type": r.tokenType, "expiry": now.addingTimeInterval(r.expiresIn).formatted(.iso8601),
            "authorized_at": now.formatted(.iso8601),
        ]
        if let s = r.scope { obj["scope"] = s }
        if endpoints != .google, let data = try? JSONEncoder().encode(endpoints),
           let e = try? JSONSerialization.jsonObject(with: data) { obj["endpoints"] = e }
        let data = try JSONSerialization.data(withJSONObject: obj, options: [.sortedKeys, .withoutEscapingSlashes])
        AuthSupport.say(String(decoding: data, as: UTF8.self))
        for line in AuthSupport.scopeReport(requested: login.scopes, granted: r.scopes) { AuthSupport.note(line) }
    }
}
