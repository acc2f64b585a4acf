// OAuth 2.0 endpoints as Google serves them to installed apps: authorize (loopback + PKCE), token, revoke, device code.
import Crypto
import Foundation
import GRDB
import Hummingbird

/// An OAuth-protocol failure, rendered as `{"error":..., "error_description":...}` (not the Google API envelope).
struct OAuthFailure: Error, Sendable {
    /// HTTP status.
    let http: Int
    /// RFC 6749 error code, e.g. invalid_grant.
    let error: String
    /// Google's error_description text.
    let description: String

    /// The JSON response.
    var response: Response {
        HTTPOut.json(.object(["error": .string(error), "error_description": .string(description)]), status: http)
    }
}

extension Emulator {
    /// OAuth routes (Google's accounts.google.com and oauth2.googleapis.com paths, on this one port), plus
    /// control calls for what a human does in a browser:
    ///
    /// - `POST /emulator/v1/consent {"deny":[scope...]}` simulates the user unticking those scopes on the consent
    ///   screen (granular consent): every later authorization grants the requested scopes minus these.
    ///   `{"deny":[]}` or `DELETE /emulator/v1/consent` restores full consent. Stored with the state.
    /// - `POST /emulator/v1/device:approve {"userCode":..., "userId"?:..., "deny"?:bool}` simulates the user entering
    ///   a device-flow code at google.com/device.
    static let oauthRoutes: [Route] = [
        Route(method: "GET", pattern: "/o/oauth2/v2/auth", endpoint: "oauth.authorize", kind: .oauth) { call in
            call.emulator.authorize(call)
        },
        Route(method: "GET", pattern: "/o/oauth2/auth", endpoint: "oauth.authorize", kind: .oauth) { call in
            call.emulator.authorize(call)
        },
        Route(method: "POST", pattern: "/token", endpoint: "oauth.token", kind: .oauth) { call in
            call.emulator.oauthJSON { () throws(OAuthFailure) -> JSONValue in try call.emulator.token(call) }
        },
        Route(method: "POST", pattern: "/revoke", endpoint: "oauth.revoke", kind: .oauth) { call in
            call.emulator.oauthJSON { () throws(OAuthFailure) -> JSONValue in try call.emulator.revoke(call) }
        },
        Route(method: "POST", pattern: "/device/code", endpoint: "oauth.device", kind: .oauth) { call in
            call.emulator.oauthJSON { () throws(OAuthFailure) -> JSONValue in try call.emulator.deviceCode(call) }
        },
        Route(method: "GET", pattern: "/emulator/v1/consent", endpoint: "control.consent", kind: .control) { call in
            HTTPOut.json(.object(["deny": .array(try call.emulator.deniedScopes().sorted().map { .string($0) })]))
        },
        Route(method: "POST", pattern: "/emulator/v1/consent", endpoint: "control.consent.set", kind: .control) { call in
            let o = try call.jsonObject()
            try call.onlyFields(o, ["deny"])
            guard let arr = o["deny"]?.array, arr.allSatisfy({ $0.string != nil }) else {
                throw APIError.invalid("expected {\"deny\":[scope, ...]}")
            }
            let deny = Set(arr.compactMap(\.string))
            try call.emulator.store.setMeta("consent_deny", Scope.join(deny))
            return HTTPOut.json(.object(["deny": .array(deny.sorted().map { .string($0) })]))
        },
        Route(method: "DELETE", pattern: "/emulator/v1/consent", endpoint: "control.consent.clear", kind: .control) { call in
            try call.emulator.store.setMeta("consent_deny", "")
            return HTTPOut.empty
        },
        Route(method: "POST", pattern: "/emulator/v1/device:approve", endpoint: "control.device.approve", kind: .control) { call in
            let o = try call.jsonObject()
            try call.onlyFields(o, ["userCode", "userId", "deny"])
            guard let code = o["userCode"]?.string else { throw APIError.invalid("userCode is required") }
            let user = o["userId"]?.string ?? Emulator.defaultUser
            let status = (o["deny"]?.bool ?? false) ? "denied" : "approved"
            let changed = try call.emulator.store.db.write { db -> Int in
                guard try Int.fetchOne(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [user]) != nil else {
                    throw APIError.invalid("unknown user '\(user)'")
                }
                try db.execute(sql: "UPDATE device_codes SET status = ?, user_id = ? WHERE user_code = ? AND status = 'pending'",
                               arguments: [status, user, code])
                return db.changesCount
            }
            guard changed == 1 else { throw APIError.notFound("no pending device code '\(code)'") }
            return HTTPOut.json(.object(["status": .string(status)]))
        },
    ]

    /// How long an authorization code can be exchanged (Google: about 10 minutes).
    static let authCodeTTL: Double = 600
    /// How long a device code is valid, and the polling interval Google asks for.
    static let deviceCodeTTL: Double = 1800
    static let deviceInterval = 5
    /// Scopes the device flow accepts (Google's documented allowlist); the picker scope joins them by knob.
    static let deviceFlowScopes: Set<String> = [
        "openid", "email", "profile", Scope.prefix + "userinfo.email", Scope.prefix + "userinfo.profile",
        Scope.prefix + "drive.appdata", Scope.prefix + "drive.file", Scope.prefix + "youtube", Scope.prefix + "youtube.readonly",
    ]

    /// Runs an OAuth JSON endpoint, turning its failure into Google's OAuth error JSON.
    func oauthJSON(_ body: () throws(OAuthFailure) -> JSONValue) -> Response {
        do { return HTTPOut.json(try body()) } catch { return error.response }
    }

    /// Scopes the simulated user currently refuses on the consent screen.
    func deniedScopes() throws -> Set<String> { Scope.parse(try store.meta("consent_deny") ?? "") }

    // MARK: Authorization endpoint

    /// Google's consent-screen error page: the browser shows it; nothing is sent to the app.
    static func authErrorPage(_ error: String, _ why: String, status: Int = 400) -> Response {
        let safe = why.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        let html = """
        <!DOCTYPE html>
        <html lang=en><meta charset=utf-8><title>Error \(status): \(error)</title>
        <h1>Access blocked: Authorization Error</h1>
        <p>\(safe)</p>
        <p>Error \(status): \(error)</p>

        """
        return HTTPOut.bytes(Data(html.utf8), status: status, contentType: "text/html; charset=UTF-8")
    }

    /// Whether a redirect URI is a loopback address Google allows for desktop clients.
    static func isLoopbackRedirect(_ uri: String) -> Bool {
        guard uri.count <= 2048, let c = URLComponents(string: uri), c.scheme?.lowercased() == "http",
              c.user == nil, c.password == nil, c.fragment == nil, var host = c.host?.lowercased() else { return false }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return ["127.0.0.1", "::1", "localhost"].contains(host)
    }

    /// Percent-encodes a query value (RFC 3986 unreserved characters pass).
    static func formEncode(_ s: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return s.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// A 302 to the app's loopback redirect URI with the given parameters.
    static func redirect(_ uri: String, _ params: [(String, String)]) -> Response {
        let q = params.map { "\($0.0)=\(formEncode($0.1))" }.joined(separator: "&")
        var r = Response(status: .found)
        r.set("Location", uri + (uri.contains("?") ? "&" : "?") + q)
        r.set("Content-Type", "text/html; charset=UTF-8")
        return r
    }

    /// GET /o/oauth2/v2/auth: the signed-in test user approves at once and the browser is sent to the redirect URI.
    func authorize(_ call: Call) -> Response {
        let q = call.query
        do {
            return try authorizeChecked(q)
        } catch let page as AuthPage {
            return page.response
        } catch {
            logger.error("authorize failed: \(error)")
            return Emulator.authErrorPage("server_error", "The server had an internal error.", status: 500)
        }
    }

    /// An authorize failure shown to the user as a page.
    struct AuthPage: Error {
        let response: Response
    }

    private func authorizeChecked(_ q: Query) throws -> Response {
        func page(_ e: String, _ why: String, status: Int = 400) -> AuthPage {
            AuthPage(response: Emulator.authErrorPage(e, why, status: status))
        }
        guard let clientID = q.first("client_id"), !clientID.isEmpty, clientID.count <= 256 else {
            throw page("invalid_request", "Missing required parameter: client_id")
        }
        guard let redirectURI = q.first("redirect_uri"), !redirectURI.isEmpty else {
            throw page("invalid_request", "Missing required parameter: redirect_uri")
        }
        if redirectURI.hasPrefix("urn:ietf:wg:oauth:2.0:oob") {
            throw page("invalid_request", "The out-of-band (OOB) flow has been blocked in order to keep users secure. "
                       + "Use a loopback redirect URI (http://127.0.0.1:PORT/).")
        }
        guard Emulator.isLoopbackRedirect(redirectURI) else {
            throw page("invalid_request", "redirect_uri \(redirectURI) is not allowed: desktop clients may only redirect to "
                       + "a loopback address (http://127.0.0.1:PORT/, http://[::1]:PORT/ or http://localhost:PORT/).")
        }
        let known = try store.db.read { db in try Int.fetchOne(db, sql: "SELECT 1 FROM clients WHERE id = ?", arguments: [clientID]) } != nil
        if !known {
            guard config.autoRegisterClients else { throw page("invalid_client", "The OAuth client was not found.", status: 401) }
            try registerClient(id: clientID, secret: nil, project: Emulator.defaultProject, testingMode: false, replace: false)
        }
        guard let scopeText = q.first("scope"), !Scope.parse(scopeText).isEmpty else {
            throw page("invalid_request", "Missing required parameter: scope")
        }
        let requested = Scope.parse(scopeText)
        let photos = requested.filter { $0.hasPrefix(Scope.prefix + "photos") }
        let foreignGoogle = requested.filter { $0.hasPrefix(Scope.prefix) && !Scope.known.contains($0) }
        if !photos.isEmpty && !foreignGoogle.isEmpty {
            throw page("invalid_request", "Some requested scopes cannot be shown: scopes that cannot be requested together: "
                       + foreignGoogle.sorted().joined(separator: " "))
        }
        let state = q.first("state")
        func fail(_ error: String, _ description: String) -> Response {
            var p = [("error", error), ("error_description", description)]
            if let state { p.append(("state", state)) }
            return Emulator.redirect(redirectURI, p)
        }
        guard q.first("response_type") == "code" else {
            return fail("unsupported_response_type", "Only response_type=code is supported.")
        }
        if let bad = requested.sorted().first(where: { !Scope.known.contains($0) }) {
            return fail("invalid_scope", "Some requested scopes were invalid. {invalid=[\(bad)]}")
        }
        let challenge = q.first("code_challenge")
        let method = q.first("code_challenge_method")
        if let challenge {
            guard let method else { return fail("invalid_request", "code_challenge_method is required (S256 or plain).") }
            guard method == "S256" || method == "plain" else {
                return fail("invalid_request", "Invalid code_challenge_method: \(method)")
            }
            guard (43...128).contains(challenge.count),
                  challenge.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._~".contains($0)) }) else {
                return fail("invalid_request", "Invalid code_challenge.")
            }
        } else if method != nil {
            return fail("invalid_request", "Missing required parameter: code_challenge")
        }
        let user = q.first("login_hint") ?? Emulator.defaultUser
        let userKnown = try store.db.read { db in try Int.fetchOne(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [user]) } != nil
        guard userKnown else { throw page("invalid_request", "Account \(user) does not exist on this emulator.") }

        // Granular consent: the user may have unticked some scopes.
        var granted = requested.subtracting(try deniedScopes())
        if q.first("include_granted_scopes") == "true" {
            let earlier = try store.db.read { db in
                try String.fetchAll(db, sql: "SELECT scopes FROM refresh_tokens WHERE client_id = ? AND user_id = ? AND revoked = 0",
                                    arguments: [clientID, user])
            }
            for s in earlier { granted.formUnion(Scope.parse(s)) }
        }
        if granted.isEmpty { return fail("access_denied", "The user denied access.") }
        let code = "4/emu-" + Ids.random(60)
        let offline = q.first("access_type") == "offline"
        try store.db.write { db in
            try db.execute(sql: """
                INSERT INTO auth_codes(code, client_id, user_id, redirect_uri, scopes, code_challenge, challenge_method, created_at, offline)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [code, clientID, user, redirectURI, Scope.join(granted), challenge, challenge.map { _ in method ?? "plain" },
                                 clock.now(), offline ? 1 : 0])
        }
        var p: [(String, String)] = []
        if let state { p.append(("state", state)) }
        p += [("code", code), ("scope", Scope.join(granted)), ("authuser", "0"), ("prompt", "consent")]
        return Emulator.redirect(redirectURI, p)
    }

    // MARK: Token endpoint

    /// The form-encoded body of an OAuth POST; JSON and other types are refused.
    func oauthForm(_ call: Call) throws(OAuthFailure) -> Query {
        let ct = call.request.header("Content-Type")?.lowercased() ?? ""
        if call.body.isEmpty { return call.query }
        guard ct.hasPrefix("application/x-www-form-urlencoded") else {
            throw OAuthFailure(http: 400, error: "invalid_request",
                               description: "Content-Type must be application/x-www-form-urlencoded, not \(ct.isEmpty ? "(none)" : ct).")
        }
        guard let text = String(data: call.body, encoding: .utf8) else {
            throw OAuthFailure(http: 400, error: "invalid_request", description: "The request body is not UTF-8.")
        }
        return Query(text)
    }

    /// A registered OAuth client.
    struct ClientRow: Sendable {
        let id: String
        let secret: String?
        let testingMode: Bool
    }

    /// Authenticates the client from the form (or HTTP Basic), checking its secret when it has one.
    func oauthClient(_ form: Query, _ call: Call) throws(OAuthFailure) -> ClientRow {
        var id = form.first("client_id")
        var secret = form.first("client_secret")
        if let h = call.request.header("Authorization"), h.lowercased().hasPrefix("basic "),
           let d = Data(base64Encoded: String(h.dropFirst(6)).trimmingCharacters(in: .whitespaces)),
           let pair = String(data: d, encoding: .utf8), let colon = pair.firstIndex(of: ":") {
            let dec = { (s: Substring) in s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            id = dec(pair[..<colon]); secret = dec(pair[pair.index(after: colon)...])
        }
        guard let id, !id.isEmpty else {
            throw OAuthFailure(http: 400, error: "invalid_request", description: "Missing required parameter: client_id")
        }
        let row: Row?
        do {
            row = try store.db.read { db in try Row.fetchOne(db, sql: "SELECT secret, testing_mode FROM clients WHERE id = ?", arguments: [id]) }
        } catch { throw OAuthFailure(http: 500, error: "server_error", description: "Internal error.") }
        guard let row else { throw OAuthFailure(http: 401, error: "invalid_client", description: "The OAuth client was not found.") }
        let stored: String? = row["secret"]
        if let stored, !stored.isEmpty, secret != stored {
            throw OAuthFailure(http: 401, error: "invalid_client", description: "Unauthorized")
        }
        return ClientRow(id: id, secret: stored, testingMode: (row["testing_mode"] as Int) != 0)
    }

    /// POST /token: authorization_code (with PKCE), refresh_token (no rotation) and the device-code grant.
    func token(_ call: Call) throws(OAuthFailure) -> JSONValue {
        let form = try oauthForm(call)
        let grant = form.first("grant_type") ?? ""
        guard ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"].contains(grant) else {
            throw OAuthFailure(http: 400, error: "unsupported_grant_type", description: "Invalid grant_type: \(grant)")
        }
        let client = try oauthClient(form, call)
        do {
            switch grant {
            case "authorization_code": return try exchangeCode(form, client: client)
            case "refresh_token": return try refresh(form, client: client)
            default: return try pollDevice(form, client: client)
            }
        } catch let f as OAuthFailure {
            throw f
        } catch {
            logger.error("token failed: \(error)")
            throw OAuthFailure(http: 500, error: "server_error", description: "Internal error.")
        }
    }

    private func exchangeCode(_ form: Query, client: ClientRow) throws -> JSONValue {
        guard let code = form.first("code"), !code.isEmpty else {
            throw OAuthFailure(http: 400, error: "invalid_request", description: "Missing required parameter: code")
        }
        let now = clock.now()
        // Look up and spend the code in one transaction, so it works exactly once.
        let row = try store.db.write { db -> Row in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM auth_codes WHERE code = ?", arguments: [code]) else {
                throw OAuthFailure(http: 400, error: "invalid_grant", description: "Malformed auth code.")
            }
            guard (row["used"] as Int) == 0, now - (row["created_at"] as Double) <= Emulator.authCodeTTL,
                  (row["client_id"] as String) == client.id else {
                throw OAuthFailure(http: 400, error: "invalid_grant", description: "Bad Request")
            }
            guard form.first("redirect_uri") == (row["redirect_uri"] as String) else {
                throw OAuthFailure(http: 400, error: "redirect_uri_mismatch", description: "Bad Request")
            }
            if let challenge: String = row["code_challenge"] {
                guard let verifier = form.first("code_verifier"), !verifier.isEmpty else {
                    throw OAuthFailure(http: 400, error: "invalid_grant", description: "Missing code verifier.")
                }
                let method: String = row["challenge_method"] ?? "plain"
                let expected = method == "S256" ? Emulator.base64url(Data(SHA256.hash(data: Data(verifier.utf8)))) : verifier
                guard (43...128).contains(verifier.count), expected == challenge else {
                    throw OAuthFailure(http: 400, error: "invalid_grant", description: "Invalid code verifier.")
                }
            }
            try db.execute(sql: "UPDATE auth_codes SET used = 1 WHERE code = ?", arguments: [code])
            return row
        }
        return try issueTokens(clientID: client.id, userID: row["user_id"], scopes: Scope.parse(row["scopes"]),
                               withRefresh: (row["offline"] as Int) != 0)
    }

    private func refresh(_ form: Query, client: ClientRow) throws -> JSONValue {
        guard let token = form.first("refresh_token"), !token.isEmpty else {
            throw OAuthFailure(http: 400, error: "invalid_request", description: "Missing required parameter: refresh_token")
        }
        let expired = OAuthFailure(http: 400, error: "invalid_grant", description: "Token has been expired or revoked.")
        guard let row = try store.db.read({ db in
            try Row.fetchOne(db, sql: "SELECT * FROM refresh_tokens WHERE token = ?", arguments: [token])
        }) else { throw expired }
        guard (row["client_id"] as String) == client.id else {
            throw OAuthFailure(http: 400, error: "unauthorized_client", description: "Unauthorized")
        }
        guard (row["revoked"] as Int) == 0 else { throw expired }
        if client.testingMode, clock.now() - (row["issued_at"] as Double) > config.testingRefreshTokenTTL { throw expired }
        var scopes = Scope.parse(row["scopes"])
        if let narrower = form.first("scope").map(Scope.parse), !narrower.isEmpty {
            guard narrower.isSubset(of: scopes) else {
                throw OAuthFailure(http: 400, error: "invalid_scope", description: "Some requested scopes were invalid. "
                                   + "{invalid=[\(narrower.subtracting(scopes).sorted().joined(separator: ", "))]}")
            }
            scopes = narrower
        }
        return try issueTokens(clientID: client.id, userID: row["user_id"], scopes: scopes, withRefresh: false, refreshToken: token)
    }

    private func pollDevice(_ form: Query, client: ClientRow) throws -> JSONValue {
        guard let code = form.first("device_code"), !code.isEmpty else {
            throw OAuthFailure(http: 400, error: "invalid_request", description: "Missing required parameter: device_code")
        }
        let now = clock.now()
        let row = try store.db.write { db -> Row in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM device_codes WHERE device_code = ? AND client_id = ?",
                                             arguments: [code, client.id]) else {
                throw OAuthFailure(http: 400, error: "invalid_grant", description: "Malformed auth code.")
            }
            if now - (row["created_at"] as Double) > Emulator.deviceCodeTTL {
                throw OAuthFailure(http: 400, error: "expired_token", description: "Expired")
            }
            switch row["status"] as String {
            case "pending": throw OAuthFailure(http: 428, error: "authorization_pending", description: "Precondition Required")
            case "denied": throw OAuthFailure(http: 403, error: "access_denied", description: "Forbidden")
            case "used": throw OAuthFailure(http: 400, error: "invalid_grant", description: "Bad Request")
            default: break
            }
            try db.execute(sql: "UPDATE device_codes SET status = 'used' WHERE device_code = ?", arguments: [code])
            return row
        }
        return try issueTokens(clientID: client.id, userID: row["user_id"], scopes: Scope.parse(row["scopes"]), withRefresh: true)
    }

    // MARK: Revocation and device codes

    /// POST /revoke: a refresh token revokes itself and every access token minted from it; an access token revokes
    /// itself and, as Google documents, the refresh token it came from (and so its siblings).
    func revoke(_ call: Call) throws(OAuthFailure) -> JSONValue {
        let form = try oauthForm(call)
        guard let token = form.first("token") ?? call.query.first("token"), !token.isEmpty else {
            throw OAuthFailure(http: 400, error: "invalid_request", description: "Missing required parameter: token")
        }
        let found: Bool
        do {
            found = try store.db.write { db -> Bool in
                var refresh: String?
                if try Int.fetchOne(db, sql: "SELECT revoked FROM refresh_tokens WHERE token = ?", arguments: [token]) == 0 {
                    refresh = token
                } else if let row = try Row.fetchOne(db, sql: "SELECT revoked, refresh_token FROM access_tokens WHERE token = ?",
                                                     arguments: [token]), (row["revoked"] as Int) == 0 {
                    refresh = row["refresh_token"]
                    try db.execute(sql: "UPDATE access_tokens SET revoked = 1 WHERE token = ?", arguments: [token])
                    if refresh == nil { return true }
                } else {
                    return false
                }
                try db.execute(sql: "UPDATE refresh_tokens SET revoked = 1 WHERE token = ?", arguments: [refresh])
                try db.execute(sql: "UPDATE access_tokens SET revoked = 1 WHERE refresh_token = ?", arguments: [refresh])
                return true
            }
        } catch { throw OAuthFailure(http: 500, error: "server_error", description: "Internal error.") }
        guard found else { throw OAuthFailure(http: 400, error: "invalid_token", description: "Token expired or revoked") }
        return .object([:])
    }

    /// POST /device/code: the limited-input device flow, which refuses every Photos Library scope.
    func deviceCode(_ call: Call) throws(OAuthFailure) -> JSONValue {
        let form = try oauthForm(call)
        let client = try oauthClient(form, call)
        let scopes = Scope.parse(form.first("scope") ?? "")
        guard !scopes.isEmpty else {
            throw OAuthFailure(http: 400, error: "invalid_scope", description: "Missing required parameter: scope")
        }
        var allowed = Emulator.deviceFlowScopes
        if config.deviceFlowAllowsPicker { allowed.insert(Scope.picker) }
        if let bad = scopes.sorted().first(where: { !allowed.contains($0) }) {
            throw OAuthFailure(http: 400, error: "invalid_scope", description: "Invalid device flow scope: \(bad)")
        }
        let deviceCode = "AH-emu-" + Ids.random(80)
        let letters = Array("BCDFGHJKLMNPQRSTVWXZ")
        var rng = SystemRandomNumberGenerator()
        let pick = { String((0..<4).map { _ in letters[Int(rng.next(upperBound: UInt64(letters.count)))] }) }
        let userCode = pick() + "-" + pick()
        do {
            try store.db.write { db in
                try db.execute(sql: "INSERT INTO device_codes(device_code, user_code, client_id, scopes, created_at) VALUES (?, ?, ?, ?, ?)",
                               arguments: [deviceCode, userCode, client.id, Scope.join(scopes), clock.now()])
            }
        } catch { throw OAuthFailure(http: 500, error: "server_error", description: "Internal error.") }
        return .object([
            "device_code": .string(deviceCode), "user_code": .string(userCode),
            "expires_in": .int(Int(Emulator.deviceCodeTTL)), "interval": .int(Emulator.deviceInterval),
            "verification_url": .string("https://www.google.com/device"),
        ])
    }
}
