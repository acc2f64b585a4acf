// Tokens and `gphotosfs auth` end to end: refresh single-flight, revocation, the loopback login, import, verify, log hygiene.
import Commands
import Foundation
import Logging
import PhotosAPI
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("PhotosAPI tokens and gphotosfs auth")
struct AuthTests {
    @Test("an access token that expires mid-run refreshes exactly once with 10 concurrent calls")
    func refreshOnceOn401() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            _ = try await c.listAlbums()
            try await emu.advanceClock(3600)
            try await withThrowingTaskGroup(of: Void.self) { g in
                for _ in 0..<10 { g.addTask { _ = try await c.listAlbums() } }
                try await g.waitForAll()
            }
            #expect(await c.tokens.refreshCount == 1)
            #expect(try await emu.requestCounts()["oauth.token"] == 1)
            // The refreshed token was persisted.
            let stored = try acct.store.load("default")
            #expect(stored?.accessToken != acct.token.accessToken)
        }
    }

    @Test("proactive refresh ~60 s before expiry, single-flight across 20 callers (injected clock)")
    func proactiveRefresh() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let clock = ManualClock(start: Date())
            let c = acct.client(testConfig(clock: clock))
            _ = try await c.listAlbums()
            #expect(await c.tokens.refreshCount == 0)
            clock.advance(acct.token.expiresIn - 30)
            try await withThrowingTaskGroup(of: String.self) { g in
                for _ in 0..<20 { g.addTask { try await c.tokens.accessToken() } }
                var tokens = Set<String>()
                for try await t in g { tokens.insert(t) }
                #expect(tokens.count == 1)
            }
            #expect(await c.tokens.refreshCount == 1)
            #expect(try await emu.requestCounts()["oauth.token"] == 1)
        }
    }

    @Test("a revoked token yields invalid_grant with a re-authorize message")
    func revoked() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let oauth = OAuthClient(endpoints: .emulator(emu.baseURL), transport: CurlTransport())
            try await oauth.revoke(token: acct.token.refreshToken ?? "")
            let c = acct.client()
            try await emu.advanceClock(3600)
            do throws(PhotosAPIError) {
                _ = try await c.listAlbums()
                Issue.record("expected invalidGrant")
            } catch let e {
                guard case .invalidGrant = e else { Issue.record("got \(e)"); return }
                #expect(e.needsReauthorization)
                #expect(e.description.contains("gphotosfs auth login"))
            }
        }
    }

    @Test("insufficient scopes is typed and asks for re-consent")
    func insufficientScopes() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu, scopes: [PhotosScopes.appendOnly])
            do throws(PhotosAPIError) {
                _ = try await acct.client().listAlbums()
                Issue.record("expected insufficientScopes")
            } catch let e {
                guard case .insufficientScopes(_, let m) = e else { Issue.record("got \(e)"); return }
                #expect(m == "Request had insufficient authentication scopes.")
            }
        }
    }

    @Test("auth login end to end: the printed URL → emulator authorize → 302 → local listener → stored token")
    func loginEndToEnd() async throws {
        try await withEmulator { emu in
            let dir = TempDir()
            let child = try CommandProcess(["auth", "login", "--client-id", "login-client.apps.googleusercontent.com", "--emulator", emu.baseURL,
                                            "--browser-flow", "--no-browser", "--account", "e2e", "--accounts-dir", dir.path, "--timeout", "180"],
                                           environment: ["GPHOTOSFS_CLIENT_SECRET": "test-secret-value"])
            var url = ""
            for _ in 0..<5 {
                let line = child.line()
                if line.hasPrefix("http") { url = line; break }
            }
            #expect(url.contains("/o/oauth2/v2/auth?") && url.contains("code_challenge_method=S256"))
            #expect(url.contains("photoslibrary.appendonly") && url.contains("readonly.appcreateddata") && url.contains("edit.appcreateddata"))
            // The "browser": fetch the consent URL, follow the 302 to the loopback listener.
            let t = CurlTransport()
            let consent = try await t.send(HTTPRequest(method: "GET", url: url), endpoint: "browser")
            #expect(consent.status == 302)
            let location = consent.header("location") ?? ""
            #expect(location.hasPrefix("http://127.0.0.1:") && location.contains("code=") && location.contains("state="))
            let landing = try await t.send(HTTPRequest(method: "GET", url: location), endpoint: "browser")
            #expect(landing.status == 200)
            #expect(child.wait() == 0)
            let rest = child.rest()
            #expect(rest.contains("All requested scopes were granted."))
            let creds = try TokenFileStore(directory: dir.url).load("e2e")
            #expect(creds?.clientId == "login-client.apps.googleusercontent.com")
            #expect(creds?.clientSecret == "test-secret-value")
            #expect(creds?.refreshToken.isEmpty == false)
            #expect(Set(creds?.scopes ?? []) == Set(PhotosScopes.library))
            let mode = (try FileManager.default.attributesOfItem(atPath: dir.file("e2e.json"))[.posixPermissions] as? NSNumber)?.intValue
            #expect(mode == 0o600)
            // The stored token works.
            let c = PhotosClient(credentials: creds!, configuration: testConfig())
            _ = try await c.listAlbums()
        }
    }

    @Test("auth login with scopes unticked on the consent screen says plainly what is missing")
    func loginPartialConsent() async throws {
        try await withEmulator { emu in
            let (st, o) = try await emu.control("POST", "consent", ["deny": [PhotosScopes.editAppCreated]])
            #expect(st == 200, "\(o)")
            let dir = TempDir()
            let child = try CommandProcess(["auth", "login", "--client-id", "partial.apps.googleusercontent.com", "--emulator", emu.baseURL,
                                            "--browser-flow", "--no-browser", "--accounts-dir", dir.path, "--timeout", "180"],
                                           environment: [:])
            var url = ""
            for _ in 0..<5 { let l = child.line(); if l.hasPrefix("http") { url = l; break } }
            let t = CurlTransport()
            let consent = try await t.send(HTTPRequest(method: "GET", url: url), endpoint: "browser")
            _ = try await t.send(HTTPRequest(method: "GET", url: consent.header("location") ?? ""), endpoint: "browser")
            #expect(child.wait() == 0)
            let out = child.rest()
            #expect(out.contains("NOT granted: photoslibrary.edit.appcreateddata."))
            #expect(out.contains("cannot rename albums or remove items"))
            let creds = try TokenFileStore(directory: dir.url).load("default")
            #expect(creds?.scopes?.contains(PhotosScopes.editAppCreated) == false)
            #expect(creds?.missingLibraryScopes == [PhotosScopes.editAppCreated])
        }
    }

    @Test("two named accounts side by side: separate files, separate clients, each sees only its own albums")
    func twoAccounts() async throws {
        try await withEmulator { emu in
            let dir = TempDir()
            let store = TokenFileStore(directory: dir.url)
            for (name, client) in [("home", "home.apps.googleusercontent.com"), ("work", "work.apps.googleusercontent.com")] {
                try await GPhotosFSCommand.runInProcess(["auth", "login", "--emulator", emu.baseURL, "--client-id", client,
                                                         "--account", name, "--accounts-dir", dir.path])
            }
            #expect(try store.accounts() == ["home", "work"])
            let home = try PhotosClient(account: Account(name: "home", store: store), configuration: testConfig())
            let work = try PhotosClient(account: Account(name: "work", store: store), configuration: testConfig())
            _ = try await home.createAlbum(title: "Home album")
            _ = try await work.createAlbum(title: "Work album")
            #expect(try await home.albums().collect().map(\.title) == ["Home album"])
            #expect(try await work.albums().collect().map(\.title) == ["Work album"])
            #expect(throws: PhotosAPIError.self) { _ = try Account(name: "missing", store: store).credentials() }
        }
    }

    @Test("a wrong state in the redirect is refused")
    func stateMismatch() async throws {
        let listener = try LoopbackListener(port: 0)
        let port = listener.port
        let waiter = Task { try await listener.waitForRedirect(timeout: 10) }
        let t = CurlTransport()
        let r = try await t.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(port)/?code=abc&state=forged"), endpoint: "browser")
        #expect(r.status == 200)
        let q = try await waiter.value
        #expect(q["state"] == "forged")
    }

    @Test("import from an rclone.conf, then verify it against the emulator")
    func importRclone() async throws {
        try await withEmulator { emu in
            let dir = TempDir()
            let tok = try await emu.mint(clientId: "rclone-client.apps.googleusercontent.com", scopes: PhotosScopes.library)
            let conf = """
            [gphotos]
            type = google photos
            client_id = rclone-client.apps.googleusercontent.com
            client_secret = GOCSPX-rclone
            token = {"access_token":"\(tok.accessToken)","token_type":"Bearer","refresh_token":"\(tok.refreshToken ?? "")","expiry":"2025-06-01T10:00:00.123456789Z"}
            """
            let confPath = writeFile(dir, "rclone.conf", Data(conf.utf8))
            try await GPhotosFSCommand.runInProcess(["auth", "import", "--rclone-config", confPath, "--remote", "gphotos",
                                                        "--emulator", emu.baseURL, "--accounts-dir", dir.file("acc"), "--account", "migrated"])
            let store = TokenFileStore(directory: URL(fileURLWithPath: dir.file("acc")))
            let c = try store.load("migrated")
            #expect(c?.clientSecret == "GOCSPX-rclone" && c?.source == "import-rclone" && c?.refreshToken == tok.refreshToken)
            let rep = await AuthVerification.run(account: Account(name: "migrated", store: store))
            #expect(rep.ok, "\(rep.text)")
            #expect(rep.text.contains("granted scopes: photoslibrary.appendonly"))
        }
    }

    @Test("auth authorize prints a token JSON that auth import stores (headless NAS path)")
    func authorizeThenImport() async throws {
        try await withEmulator { emu in
            let dir = TempDir()
            let child = try CommandProcess(["auth", "authorize", "--emulator", emu.baseURL, "--client-id", "nas.apps.googleusercontent.com"],
                                           environment: [:])
            let json = child.line()
            #expect(child.wait() == 0)
            let obj = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
            #expect(obj?["refresh_token"] as? String != nil && obj?["client_id"] as? String == "nas.apps.googleusercontent.com")
            #expect(obj?["client_secret"] == nil, "the secret is not printed")
            let file = writeFile(dir, "token.json", Data(json.utf8))
            try await GPhotosFSCommand.runInProcess(["auth", "import", "--file", file, "--accounts-dir", dir.file("acc"), "--account", "nas"])
            let store = TokenFileStore(directory: URL(fileURLWithPath: dir.file("acc")))
            let c = try store.load("nas")
            #expect(c?.endpoints == .emulator(emu.baseURL) && c?.source == "import-json")
            #expect(Set(c?.scopes ?? []) == Set(PhotosScopes.library))
            let rep = await AuthVerification.run(account: Account(name: "nas", store: store))
            #expect(rep.ok, "\(rep.text)")
        }
    }

    @Test("verify: good token, expired Testing-mode token, old-scope token")
    func verify() async throws {
        try await withEmulator { emu in
            let good = try await TestAccount(emu)
            let g = await AuthVerification.run(account: Account(name: "default", store: good.store))
            #expect(g.ok && g.warnings.isEmpty, "\(g.text)")
            #expect(g.text.contains("albums.list: ok"))

            let (s, o) = try await emu.control("POST", "clients", ["clientId": "testing.apps.googleusercontent.com", "testingMode": true])
            #expect(s == 200, "\(o)")
            let testing = try await TestAccount(emu, clientId: "testing.apps.googleusercontent.com", testingMode: true)
            let t1 = await AuthVerification.run(account: Account(name: "default", store: testing.store))
            #expect(t1.ok)
            #expect(t1.warnings.contains { $0.contains("Testing mode") })
            try await emu.advanceClock(7 * 86_400 + 60)
            let t2 = await AuthVerification.run(account: Account(name: "default", store: testing.store))
            #expect(!t2.ok)
            guard case .invalidGrant? = t2.error else { Issue.record("got \(String(describing: t2.error))"); return }
            #expect(t2.warnings.contains { $0.contains("7 days") && $0.contains("gphotosfs auth login") })

            let old = try await TestAccount(emu, clientId: "old.apps.googleusercontent.com", scopes: PhotosScopes.removed)
            let o1 = await AuthVerification.run(account: Account(name: "default", store: old.store))
            #expect(!o1.ok)
            #expect(o1.warnings.contains { $0.contains("removed") && $0.contains("re-authorize with gphotosfs auth login") })
            guard case .insufficientScopes? = o1.error else { Issue.record("got \(String(describing: o1.error))"); return }
        }
    }

    @Test("logout revokes at the revoke endpoint and deletes the file")
    func logout() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            try await GPhotosFSCommand.runInProcess(["auth", "status", "--accounts-dir", acct.store.directory.path])
            try await GPhotosFSCommand.runInProcess(["auth", "logout", "--accounts-dir", acct.store.directory.path])
            #expect(try acct.store.load("default") == nil)
            #expect(try await emu.requestCounts()["oauth.revoke"] == 1)
            let oauth = OAuthClient(endpoints: .emulator(emu.baseURL), transport: CurlTransport())
            await #expect(throws: PhotosAPIError.self) {
                _ = try await oauth.refresh(refreshToken: acct.token.refreshToken ?? "", clientId: acct.credentials.clientId, clientSecret: nil)
            }
        }
    }

    @Test("no token or secret appears in any log line of a whole run")
    func logsAreClean() async throws {
        try await withEmulator { emu in
            let sink = CapturingLogHandler.Sink()
            var logger = Logger(label: "test.capture") { _ in CapturingLogHandler(sink: sink) }
            logger.logLevel = .trace
            let acct = try await TestAccount(emu)
            var creds = acct.credentials
            creds.clientSecret = "GOCSPX-super-secret-value"
            let c = PhotosClient(credentials: creds, store: acct.store, transport: CurlTransport(logger: logger), configuration: testConfig(logger: logger))
            try await emu.faults(["albums.list:503:count=1", "albums.get:reset:count=1"])
            let a = try await c.createAlbum(title: "Log test")
            _ = try await c.listAlbums()
            _ = try await c.getAlbum(a.id)
            try await emu.advanceClock(3600)
            _ = try await c.listAlbums()
            try await OAuthClient(endpoints: .emulator(emu.baseURL), transport: CurlTransport(logger: logger), logger: logger)
                .revoke(token: acct.token.refreshToken ?? "")
            try await emu.advanceClock(3600)
            _ = try? await c.listAlbums()
            let fresh = await c.tokens.credentials
            let all = sink.all
            #expect(!all.isEmpty)
            for secret in [acct.token.accessToken, acct.token.refreshToken ?? "", fresh.accessToken ?? "", "GOCSPX-super-secret-value"] where !secret.isEmpty {
                #expect(!all.contains(secret))
            }
        }
    }
}
