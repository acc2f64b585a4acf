// Conformance: the OAuth endpoints (authorize with loopback + PKCE, token, refresh, revoke, device code).
import Crypto
import Foundation
import Testing

/// Drives the emulator's OAuth endpoints the way an installed app and its browser would.
enum OAuthFlow {
    static let redirect = "http://127.0.0.1:53682/"

    /// A fresh PKCE verifier and its S256 challenge.
    static func pkce() -> (verifier: String, challenge: String) {
        let verifier = (0..<64).map { _ in "abcdefghijklmnopqrstuvwxyz0123456789-._~".randomElement()! }.map(String.init).joined()
        let digest = Data(SHA256.hash(data: Data(verifier.utf8)))
        let challenge = digest.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return (verifier, challenge)
    }

    /// Percent-encodes a query or form value.
    static func enc(_ s: String) -> String {
        s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")) ?? s
    }

    /// GET /o/oauth2/v2/auth with the given parameters (nil values are left out).
    static func authorize(_ emu: EmulatorProcess, _ params: [String: String?]) throws -> HTTPResult {
        let q = params.compactMap { k, v in v.map { "\(k)=\(enc($0))" } }.sorted().joined(separator: "&")
        return try RawHTTP.request("GET", emu.baseURL + "/o/oauth2/v2/auth?" + q)
    }

    /// The standard authorize parameters for a desktop app.
    static func params(client: String, scopes: [String], challenge: String?, redirect: String = redirect,
                       state: String = "st-123", offline: Bool = true) -> [String: String?] {
        ["client_id": client, "redirect_uri": redirect, "response_type": "code", "scope": scopes.joined(separator: " "),
         "access_type": offline ? "offline" : nil, "code_challenge": challenge,
         "code_challenge_method": challenge == nil ? nil : "S256", "state": state]
    }

    /// The query parameters of a 302's Location.
    static func locationParams(_ r: HTTPResult) -> [String: String] {
        guard let loc = r.header("location"), let c = URLComponents(string: loc) else { return [:] }
        var out: [String: String] = [:]
        for item in c.queryItems ?? [] { out[item.name] = item.value ?? "" }
        return out
    }

    /// POST a form to an OAuth endpoint.
    static func form(_ emu: EmulatorProcess, _ path: String, _ fields: [String: String],
                     headers: [(String, String)] = []) throws -> HTTPResult {
        let body = fields.map { "\($0.key)=\(enc($0.value))" }.sorted().joined(separator: "&")
        return try RawHTTP.request("POST", emu.baseURL + path,
                                   headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers, body: Data(body.utf8))
    }

    /// Authorizes and exchanges the code; returns the token response.
    static func login(_ emu: EmulatorProcess, client: String, scopes: [String], secret: String? = nil) throws -> HTTPResult {
        let (verifier, challenge) = pkce()
        let a = try authorize(emu, params(client: client, scopes: scopes, challenge: challenge))
        guard a.status == 302, let code = locationParams(a)["code"] else { throw TestFailure("authorize: \(a.status) \(a.text)") }
        var f = ["grant_type": "authorization_code", "code": code, "client_id": client, "redirect_uri": redirect,
                 "code_verifier": verifier]
        if let secret { f["client_secret"] = secret }
        return try form(emu, "/token", f)
    }

    /// A picker sessions.create call with a bearer token.
    static func createSession(_ emu: EmulatorProcess, token: String) throws -> HTTPResult {
        try RawHTTP.request("POST", emu.baseURL + "/picker/v1/sessions",
                            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")], body: Data("{}".utf8))
    }
}

@Suite("OAuth endpoints")
struct OAuthTests {
    let client = "123-desktop.apps.googleusercontent.com"

    @Test("authorize → token (PKCE S256) → refresh → revoke → invalid_grant")
    func fullFlow() async throws {
        try await withEmulator { emu in
            let (verifier, challenge) = OAuthFlow.pkce()
            let scopes = Scopes.library + [Scopes.picker]
            let a = try OAuthFlow.authorize(emu, OAuthFlow.params(client: client, scopes: scopes, challenge: challenge))
            #expect(a.status == 302)
            let loc = try #require(a.header("location"))
            #expect(loc.hasPrefix(OAuthFlow.redirect + "?"))
            let p = OAuthFlow.locationParams(a)
            #expect(p["state"] == "st-123")
            #expect(Set((p["scope"] ?? "").split(separator: " ").map(String.init)) == Set(scopes))
            let code = try #require(p["code"])

            let t = try OAuthFlow.form(emu, "/token", ["grant_type": "authorization_code", "code": code, "client_id": client,
                                                       "redirect_uri": OAuthFlow.redirect, "code_verifier": verifier])
            #expect(t.status == 200)
            #expect(t.object["token_type"] as? String == "Bearer")
            #expect(t.object["expires_in"] as? Int == 3599)
            #expect(Set((t.object["scope"] as? String ?? "").split(separator: " ").map(String.init)) == Set(scopes))
            let access = try #require(t.object["access_token"] as? String)
            let refresh = try #require(t.object["refresh_token"] as? String)
            #expect(try OAuthFlow.createSession(emu, token: access).status == 200)

            let r = try OAuthFlow.form(emu, "/token", ["grant_type": "refresh_token", "refresh_token": refresh, "client_id": client])
            #expect(r.status == 200)
            #expect(r.object["refresh_token"] == nil, "refresh tokens are not rotated")
            #expect(r.object["expires_in"] as? Int == 3599)
            let access2 = try #require(r.object["access_token"] as? String)
            #expect(access2 != access)
            #expect(try OAuthFlow.createSession(emu, token: access2).status == 200)

            let v = try OAuthFlow.form(emu, "/revoke", ["token": refresh])
            #expect(v.status == 200)
            #expect(v.text == "{}")
            let again = try OAuthFlow.form(emu, "/token", ["grant_type": "refresh_token", "refresh_token": refresh, "client_id": client])
            #expect(again.status == 400)
            #expect(again.object["error"] as? String == "invalid_grant")
            #expect(again.object["error_description"] as? String == "Token has been expired or revoked.")
            // Every access token issued under the revoked grant stops working.
            for tok in [access, access2] {
                let c = try OAuthFlow.createSession(emu, token: tok)
                #expect(c.status == 401)
                #expect(c.errorStatus == "UNAUTHENTICATED")
            }
            let unknown = try RawHTTP.request("POST", emu.baseURL + "/revoke?token=nonsense")
            #expect(unknown.status == 400)
            #expect(unknown.object["error"] as? String == "invalid_token")
        }
    }

    @Test("revoking an access token (query form) ends it and its grant")
    func revokeAccessToken() async throws {
        try await withEmulator { emu in
            let t = try OAuthFlow.login(emu, client: client, scopes: [Scopes.picker])
            let access = try #require(t.object["access_token"] as? String)
            let refresh = try #require(t.object["refresh_token"] as? String)
            #expect(try RawHTTP.request("POST", emu.baseURL + "/revoke?token=\(OAuthFlow.enc(access))").status == 200)
            #expect(try OAuthFlow.createSession(emu, token: access).status == 401)
            let r = try OAuthFlow.form(emu, "/token", ["grant_type": "refresh_token", "refresh_token": refresh, "client_id": client])
            #expect(r.object["error"] as? String == "invalid_grant")
        }
    }

    @Test("PKCE: missing or wrong verifier is invalid_grant; a code works once; redirect_uri must match")
    func pkceAndCodeRules() async throws {
        try await withEmulator { emu in
            let (verifier, challenge) = OAuthFlow.pkce()
            let a = try OAuthFlow.authorize(emu, OAuthFlow.params(client: client, scopes: Scopes.library, challenge: challenge))
            let code = try #require(OAuthFlow.locationParams(a)["code"])
            let base = ["grant_type": "authorization_code", "code": code, "client_id": client, "redirect_uri": OAuthFlow.redirect]

            let missing = try OAuthFlow.form(emu, "/token", base)
            #expect(missing.status == 400)
            #expect(missing.object["error"] as? String == "invalid_grant")
            var wrong = base
            wrong["code_verifier"] = String(verifier.reversed())
            let w = try OAuthFlow.form(emu, "/token", wrong)
            #expect(w.status == 400)
            #expect(w.object["error"] as? String == "invalid_grant")
            var otherRedirect = base
            otherRedirect["code_verifier"] = verifier
            otherRedirect["redirect_uri"] = "http://127.0.0.1:9999/"
            let m = try OAuthFlow.form(emu, "/token", otherRedirect)
            #expect(m.status == 400)
            #expect(m.object["error"] as? String == "redirect_uri_mismatch")

            var good = base
            good["code_verifier"] = verifier
            #expect(try OAuthFlow.form(emu, "/token", good).status == 200)
            let reused = try OAuthFlow.form(emu, "/token", good)
            #expect(reused.status == 400)
            #expect(reused.object["error"] as? String == "invalid_grant")
        }
    }

    @Test("a code expires after 10 minutes on the emulator clock")
    func codeExpires() async throws {
        try await withEmulator { emu in
            let (verifier, challenge) = OAuthFlow.pkce()
            let a = try OAuthFlow.authorize(emu, OAuthFlow.params(client: client, scopes: Scopes.library, challenge: challenge))
            let code = try #require(OAuthFlow.locationParams(a)["code"])
            try emu.advanceClock(601)
            let r = try OAuthFlow.form(emu, "/token", ["grant_type": "authorization_code", "code": code, "client_id": client,
                                                       "redirect_uri": OAuthFlow.redirect, "code_verifier": verifier])
            #expect(r.status == 400)
            #expect(r.object["error"] as? String == "invalid_grant")
        }
    }

    @Test("only loopback redirect URIs; OOB and other hosts get an error page, never a redirect")
    func loopbackOnly() async throws {
        try await withEmulator { emu in
            for bad in ["https://app.example.com/cb", "urn:ietf:wg:oauth:2.0:oob", "http://127.0.0.1.evil.example:80/",
                        "http://localhost@evil.example/", "com.googleusercontent.apps.123:/oauth2redirect"] {
                let r = try OAuthFlow.authorize(emu, OAuthFlow.params(client: client, scopes: Scopes.library, challenge: nil, redirect: bad))
                #expect(r.status == 400, "\(bad)")
                #expect(r.header("location") == nil, "\(bad)")
                #expect(r.text.contains("invalid_request"), "\(bad)")
            }
            let oob = try OAuthFlow.authorize(emu, OAuthFlow.params(client: client, scopes: Scopes.library, challenge: nil,
                                                                     redirect: "urn:ietf:wg:oauth:2.0:oob"))
            #expect(oob.text.contains("out-of-band"))
            for good in ["http://[::1]:41000/cb", "http://localhost:41000/", "http://127.0.0.1:41000/callback?x=1"] {
                let r = try OAuthFlow.authorize(emu, OAuthFlow.params(client: client, scopes: Scopes.library, challenge: nil, redirect: good))
                #expect(r.status == 302, "\(good)")
                #expect(r.header("location")?.hasPrefix(good) == true, "\(good)")
            }
        }
    }

    @Test("scope errors: unknown scope redirects invalid_scope; Photos mixed with Drive is a 400 page")
    func scopeErrors() async throws {
        try await withEmulator { emu in
            let r = try OAuthFlow.authorize(emu, OAuthFlow.params(client: client, scopes: [Scopes.append, "https://example.com/auth/x"],
                                                                   challenge: nil))
            #expect(r.status == 302)
            #expect(OAuthFlow.locationParams(r)["error"] == "invalid_scope")
            #expect(OAuthFlow.locationParams(r)["state"] == "st-123")
            #expect(OAuthFlow.locationParams(r)["code"] == nil)
            let mixed = try OAuthFlow.authorize(emu, OAuthFlow.params(
                client: client, scopes: [Scopes.append, "https://www.googleapis.com/auth/drive"], challenge: nil))
            #expect(mixed.status == 400)
            #expect(mixed.header("location") == nil)
            #expect(mixed.text.contains("invalid_request"))
            #expect(mixed.text.contains("scopes that cannot be requested together"))
        }
    }

    @Test("granular consent: denied scopes are left out of the grant and the token")
    func granularConsent() async throws {
        try await withEmulator { emu in
            #expect(try emu.control("POST", "consent", ["deny": [Scopes.edit]]).status == 200)
            let t = try OAuthFlow.login(emu, client: client, scopes: Scopes.library)
            #expect(t.status == 200)
            let granted = Set((t.object["scope"] as? String ?? "").split(separator: " ").map(String.init))
            #expect(granted == [Scopes.append, Scopes.read])
            #expect(try emu.control("DELETE", "consent").status == 200)
            let t2 = try OAuthFlow.login(emu, client: client, scopes: Scopes.library)
            #expect(Set((t2.object["scope"] as? String ?? "").split(separator: " ").map(String.init)) == Set(Scopes.library))
        }
    }

    @Test("token endpoint: form only, grant types, client secrets, unknown clients")
    func tokenEndpointRules() async throws {
        try await withEmulator { emu in
            let json = try RawHTTP.request("POST", emu.baseURL + "/token", headers: [("Content-Type", "application/json")],
                                           body: Data(#"{"grant_type":"refresh_token","refresh_token":"x","client_id":"c"}"#.utf8))
            #expect(json.status == 400)
            #expect(json.object["error"] as? String == "invalid_request")
            let pw = try OAuthFlow.form(emu, "/token", ["grant_type": "password", "client_id": client])
            #expect(pw.status == 400)
            #expect(pw.object["error"] as? String == "unsupported_grant_type")

            let secretClient = "456-secret.apps.googleusercontent.com"
            #expect(try emu.control("POST", "clients", ["clientId": secretClient, "clientSecret": "GOCSPX-right"]).status == 200)
            let bad = try OAuthFlow.login(emu, client: secretClient, scopes: Scopes.library, secret: "GOCSPX-wrong")
            #expect(bad.status == 401)
            #expect(bad.object["error"] as? String == "invalid_client")
            let good = try OAuthFlow.login(emu, client: secretClient, scopes: Scopes.library, secret: "GOCSPX-right")
            #expect(good.status == 200)
            // HTTP Basic client authentication works too.
            let refresh = try #require(good.object["refresh_token"] as? String)
            let basic = Data("\(secretClient):GOCSPX-right".utf8).base64EncodedString()
            let r = try OAuthFlow.form(emu, "/token", ["grant_type": "refresh_token", "refresh_token": refresh],
                                       headers: [("Authorization", "Basic \(basic)")])
            #expect(r.status == 200)

            let unknown = try OAuthFlow.form(emu, "/token", ["grant_type": "refresh_token", "refresh_token": refresh,
                                                             "client_id": "never-seen.apps.googleusercontent.com"])
            #expect(unknown.status == 401)
            #expect(unknown.object["error"] as? String == "invalid_client")

            _ = try emu.control("PATCH", "knobs", ["autoRegisterClients": false])
            let page = try OAuthFlow.authorize(emu, OAuthFlow.params(client: "new-client.apps.googleusercontent.com",
                                                                      scopes: Scopes.library, challenge: nil))
            #expect(page.status == 401)
            #expect(page.text.contains("invalid_client"))
            #expect(page.header("location") == nil)
        }
    }

    @Test("login_hint picks the signed-in user; include_granted_scopes adds earlier grants")
    func loginHintAndIncrementalAuth() async throws {
        try await withEmulator { emu in
            _ = try emu.control("POST", "users", ["userId": "nophotos@example.com", "hasPhotosAccount": false])
            var p = OAuthFlow.params(client: client, scopes: [Scopes.picker], challenge: nil)
            p["login_hint"] = "nophotos@example.com"
            let a = try OAuthFlow.authorize(emu, p)
            let code = try #require(OAuthFlow.locationParams(a)["code"])
            let t = try OAuthFlow.form(emu, "/token", ["grant_type": "authorization_code", "code": code, "client_id": client,
                                                       "redirect_uri": OAuthFlow.redirect])
            let access = try #require(t.object["access_token"] as? String)
            #expect(try OAuthFlow.createSession(emu, token: access).errorStatus == "FAILED_PRECONDITION")
            p["login_hint"] = "stranger@example.com"
            let unknown = try OAuthFlow.authorize(emu, p)
            #expect(unknown.status == 400)
            #expect(unknown.header("location") == nil)

            _ = try OAuthFlow.login(emu, client: client, scopes: [Scopes.append])
            var inc = OAuthFlow.params(client: client, scopes: [Scopes.picker], challenge: nil)
            inc["include_granted_scopes"] = "true"
            let granted = OAuthFlow.locationParams(try OAuthFlow.authorize(emu, inc))["scope"] ?? ""
            #expect(Set(granted.split(separator: " ").map(String.init)) == [Scopes.append, Scopes.picker])
        }
    }

    @Test("garbage at the OAuth endpoints gets an OAuth error, never a crash")
    func garbage() async throws {
        try await withEmulator { emu in
            let bare = try RawHTTP.request("GET", emu.baseURL + "/o/oauth2/v2/auth")
            #expect(bare.status == 400)
            #expect(bare.text.contains("client_id"))
            let binary = try RawHTTP.request("POST", emu.baseURL + "/token", headers: [("Content-Type", "application/x-www-form-urlencoded")],
                                             body: Data([0xFF, 0xFE, 0x00, 0x25, 0x3D, 0x26]))
            #expect(binary.status == 400)
            #expect(binary.object["error"] is String)
            let noGrant = try OAuthFlow.form(emu, "/token", ["code": "x"])
            #expect(noGrant.object["error"] as? String == "unsupported_grant_type")
            let badCode = try OAuthFlow.form(emu, "/token", ["grant_type": "authorization_code", "code": "%%%", "client_id": client,
                                                             "redirect_uri": OAuthFlow.redirect])
            #expect(badCode.status == 400 || badCode.status == 401)
            let noClient = try OAuthFlow.form(emu, "/device/code", ["scope": "openid"])
            #expect(noClient.status == 400)
            #expect(noClient.object["error"] as? String == "invalid_request")
            let noToken = try RawHTTP.request("POST", emu.baseURL + "/revoke")
            #expect(noToken.status == 400)
            var p = OAuthFlow.params(client: client, scopes: Scopes.library, challenge: "short")
            p["code_challenge_method"] = "S256"
            let shortChallenge = try OAuthFlow.authorize(emu, p)
            #expect(OAuthFlow.locationParams(shortChallenge)["error"] == "invalid_request")
            p["code_challenge"] = String(repeating: "a", count: 43)
            p["code_challenge_method"] = "S512"
            #expect(OAuthFlow.locationParams(try OAuthFlow.authorize(emu, p))["error"] == "invalid_request")
            #expect(try emu.control("GET", "health").status == 200)
        }
    }

    @Test("without access_type=offline there is no refresh token")
    func onlineAccess() async throws {
        try await withEmulator { emu in
            let (verifier, challenge) = OAuthFlow.pkce()
            let a = try OAuthFlow.authorize(emu, OAuthFlow.params(client: client, scopes: Scopes.library, challenge: challenge, offline: false))
            let code = try #require(OAuthFlow.locationParams(a)["code"])
            let t = try OAuthFlow.form(emu, "/token", ["grant_type": "authorization_code", "code": code, "client_id": client,
                                                       "redirect_uri": OAuthFlow.redirect, "code_verifier": verifier])
            #expect(t.status == 200)
            #expect(t.object["access_token"] is String)
            #expect(t.object["refresh_token"] == nil)
        }
    }

    @Test("a Testing-mode client's refresh token dies after 7 days; a production one does not")
    func testingModeExpiry() async throws {
        try await withEmulator { emu in
            let testing = "789-testing.apps.googleusercontent.com"
            #expect(try emu.control("POST", "clients", ["clientId": testing, "testingMode": true]).status == 200)
            let tt = try OAuthFlow.login(emu, client: testing, scopes: [Scopes.picker])
            let tp = try OAuthFlow.login(emu, client: client, scopes: [Scopes.picker])
            let rt = try #require(tt.object["refresh_token"] as? String)
            let rp = try #require(tp.object["refresh_token"] as? String)
            func refresh(_ c: String, _ r: String) throws -> HTTPResult {
                try OAuthFlow.form(emu, "/token", ["grant_type": "refresh_token", "refresh_token": r, "client_id": c])
            }
            try emu.advanceClock(7 * 86_400 - 60)
            #expect(try refresh(testing, rt).status == 200)
            try emu.advanceClock(61)
            let dead = try refresh(testing, rt)
            #expect(dead.status == 400)
            #expect(dead.object["error"] as? String == "invalid_grant")
            #expect(dead.object["error_description"] as? String == "Token has been expired or revoked.")
            #expect(try refresh(client, rp).status == 200)
        }
    }

    @Test("a token with only a removed scope gets 403 insufficient scopes on the Picker API")
    func removedScopeToken() async throws {
        try await withEmulator { emu in
            let t = try OAuthFlow.login(emu, client: client, scopes: [Scopes.oldFull])
            #expect(t.status == 200)
            let access = try #require(t.object["access_token"] as? String)
            let r = try OAuthFlow.createSession(emu, token: access)
            #expect(r.status == 403)
            #expect(r.errorStatus == "PERMISSION_DENIED")
            #expect(r.errorMessage == "Request had insufficient authentication scopes.")
        }
    }

    @Test("device flow refuses Photos scopes with invalid_scope; the picker scope only by knob")
    func deviceFlow() async throws {
        try await withEmulator { emu in
            _ = try emu.control("POST", "clients", ["clientId": "tv-client"])
            for scope in [Scopes.append, Scopes.read, Scopes.picker] {
                let r = try OAuthFlow.form(emu, "/device/code", ["client_id": "tv-client", "scope": "openid " + scope])
                #expect(r.status == 400)
                #expect(r.object["error"] as? String == "invalid_scope")
                #expect(r.object["error_description"] as? String == "Invalid device flow scope: \(scope)")
            }
            _ = try emu.control("PATCH", "knobs", ["deviceFlowAllowsPicker": true])
            #expect(try OAuthFlow.form(emu, "/device/code", ["client_id": "tv-client", "scope": Scopes.read]).status == 400)
            let d = try OAuthFlow.form(emu, "/device/code", ["client_id": "tv-client", "scope": Scopes.picker])
            #expect(d.status == 200)
            let deviceCode = try #require(d.object["device_code"] as? String)
            let userCode = try #require(d.object["user_code"] as? String)
            #expect(d.object["verification_url"] as? String == "https://www.google.com/device")
            let poll = ["grant_type": "urn:ietf:params:oauth:grant-type:device_code", "device_code": deviceCode, "client_id": "tv-client"]
            let pending = try OAuthFlow.form(emu, "/token", poll)
            #expect(pending.status == 428)
            #expect(pending.object["error"] as? String == "authorization_pending")
            #expect(try emu.control("POST", "device:approve", ["userCode": userCode]).status == 200)
            let t = try OAuthFlow.form(emu, "/token", poll)
            #expect(t.status == 200)
            let access = try #require(t.object["access_token"] as? String)
            #expect(try OAuthFlow.createSession(emu, token: access).status == 200)
        }
    }
}
