// Conformance: the Picker API (sessions, picking, picked media items) as Google documents it.
import Foundation
import Testing

@Suite("Picker API")
struct PickerTests {
    /// A client holding only the picker scope.
    static func picker(_ emu: EmulatorProcess, client: String = "picker-app", user: String? = nil) throws -> APIClient {
        try APIClient(emu, clientID: client, scopes: [Scopes.picker], userID: user)
    }

    /// Creates a session and returns its JSON.
    static func create(_ c: APIClient, _ body: [String: Any] = [:], query: String = "") throws -> [String: Any] {
        let r = try c.post("/picker/v1/sessions" + query, body)
        guard r.status == 200 else { throw TestFailure("create: \(r.status) \(r.text)") }
        return r.object
    }

    /// Plays the user picking.
    @discardableResult
    static func pick(_ emu: EmulatorProcess, _ id: String, _ body: [String: Any]) throws -> HTTPResult {
        try emu.control("POST", "picker/sessions/\(id):pick", body)
    }

    @Test("create returns id, pickerUri, pollingConfig, expireTime and the default pickingConfig")
    func createShape() async throws {
        try await withEmulator { emu in
            let c = try Self.picker(emu)
            let s = try Self.create(c)
            let id = try #require(s["id"] as? String)
            #expect(id.count >= 30)
            #expect(UUID(uuidString: id) == nil, "ids are opaque, not UUIDs")
            #expect(s["pickerUri"] as? String == "https://photos.google.com/picker/\(id)")
            let polling = try #require(s["pollingConfig"] as? [String: Any])
            #expect(polling["pollInterval"] as? String == "5s")
            #expect(polling["timeoutIn"] as? String == "1800s")
            #expect((s["pickingConfig"] as? [String: Any])?["maxItemCount"] as? String == "2000")
            #expect(s["mediaItemsSet"] == nil, "proto3: false is omitted")
            let expire = try #require(s["expireTime"] as? String)
            #expect(expire.hasSuffix("Z"))
            let now = try QuotaTests.now(emu)
            let exp = try #require(QuotaTests.time(expire))
            #expect(abs(exp - now - 7 * 86_400) < 5)

            let small = try Self.create(c, ["pickingConfig": ["maxItemCount": "50"]])
            #expect((small["pickingConfig"] as? [String: Any])?["maxItemCount"] as? String == "50")
            let tooMany = try c.post("/picker/v1/sessions", ["pickingConfig": ["maxItemCount": "5000"]])
            #expect(tooMany.status == 400)
            #expect(tooMany.errorStatus == "INVALID_ARGUMENT")
            let unknownField = try c.post("/picker/v1/sessions", ["colour": "blue"])
            #expect(unknownField.status == 400)
            #expect(unknownField.errorMessage?.contains("colour") == true)
        }
    }

    @Test("requestId makes create idempotent and must be a UUID")
    func requestID() async throws {
        try await withEmulator { emu in
            let c = try Self.picker(emu)
            let rid = UUID().uuidString.lowercased()
            let a = try Self.create(c, query: "?requestId=\(rid)")
            let b = try Self.create(c, query: "?requestId=\(rid)")
            #expect(a["id"] as? String == b["id"] as? String)
            let other = try Self.create(c, query: "?requestId=\(UUID().uuidString.lowercased())")
            #expect(other["id"] as? String != a["id"] as? String)
            #expect(try c.post("/picker/v1/sessions?requestId=not-a-uuid").status == 400)
        }
    }

    @Test("get: own session; 404 for unknown, another app's, another user's or deleted; 403 after expireTime")
    func getRules() async throws {
        try await withEmulator { emu in
            let c = try Self.picker(emu)
            let id = try #require(try Self.create(c)["id"] as? String)
            let g = try c.get("/picker/v1/sessions/\(id)")
            #expect(g.status == 200)
            #expect(g.object["id"] as? String == id)
            #expect(g.object["pollingConfig"] != nil)

            let unknown = try c.get("/picker/v1/sessions/doesNotExist123")
            #expect(unknown.status == 404)
            #expect(unknown.errorStatus == "NOT_FOUND")
            let otherApp = try Self.picker(emu, client: "other-app")
            #expect(try otherApp.get("/picker/v1/sessions/\(id)").status == 404)
            _ = try emu.control("POST", "users", ["userId": "someone@example.com"])
            let otherUser = try Self.picker(emu, user: "someone@example.com")
            #expect(try otherUser.get("/picker/v1/sessions/\(id)").status == 404)
            #expect(try otherUser.send("DELETE", "/picker/v1/sessions/\(id)", [String: Any]()).status == 404)

            let id2 = try #require(try Self.create(c)["id"] as? String)
            let d = try c.send("DELETE", "/picker/v1/sessions/\(id2)", [String: Any]())
            #expect(d.status == 200)
            #expect(d.text == "{}")
            #expect(try c.get("/picker/v1/sessions/\(id2)").status == 404)
            #expect(try c.send("DELETE", "/picker/v1/sessions/\(id2)", [String: Any]()).status == 404)

            try emu.advanceClock(7 * 86_400 + 1)
            // Keep the token valid: mint a new one for the same app and user.
            let later = try Self.picker(emu)
            let expired = try later.get("/picker/v1/sessions/\(id)")
            #expect(expired.status == 403)
            #expect(expired.errorStatus == "PERMISSION_DENIED")
            let list = try later.get("/picker/v1/mediaItems?sessionId=\(id)")
            #expect(list.status == 403)
        }
    }

    @Test("picking sets mediaItemsSet and removes pollingConfig; list before picking is FAILED_PRECONDITION")
    func pickingLifecycle() async throws {
        try await withEmulator { emu in
            _ = try emu.control("POST", "seed", ["generate": ["count": 5]])
            let c = try Self.picker(emu)
            let id = try #require(try Self.create(c)["id"] as? String)
            let early = try c.get("/picker/v1/mediaItems?sessionId=\(id)")
            #expect(early.status == 400)
            #expect(early.errorStatus == "FAILED_PRECONDITION")
            let p = try Self.pick(emu, id, ["count": 3])
            #expect(p.status == 200)
            #expect((p.object["mediaItemIds"] as? [Any])?.count == 3)
            let g = try c.get("/picker/v1/sessions/\(id)")
            #expect(g.object["mediaItemsSet"] as? Bool == true)
            #expect(g.object["pollingConfig"] == nil)
            let l = try c.get("/picker/v1/mediaItems?sessionId=\(id)")
            #expect(l.status == 200)
            #expect((l.object["mediaItems"] as? [Any])?.count == 3)
            #expect(l.object["nextPageToken"] == nil)
            // The user cannot pick again in a finished session.
            #expect(try Self.pick(emu, id, ["count": 1]).status == 400)
            #expect(try c.get("/picker/v1/mediaItems").status == 400)
        }
    }

    @Test("picked items use the Picker shape, newest first, including items no app created")
    func pickedItemShape() async throws {
        try await withEmulator { emu in
            let seed = try emu.control("POST", "seed", ["mediaItems": [
                ["ref": "old", "filename": "old.jpg", "creationTime": "2020-01-01T10:00:00Z", "width": 4032, "height": 3024,
                 "cameraMake": "Google", "cameraModel": "Pixel 8"],
                ["ref": "vid", "filename": "clip.mp4", "mimeType": "video/mp4", "creationTime": "2023-06-01T10:00:00Z",
                 "clientId": "some-other-app"],
                ["ref": "new", "filename": "new.jpg", "creationTime": "2024-05-01T10:00:00Z", "clientId": "picker-app"],
            ]])
            #expect(seed.status == 200)
            let c = try Self.picker(emu)
            let id = try #require(try Self.create(c)["id"] as? String)
            try Self.pick(emu, id, ["count": 10])
            let l = try c.get("/picker/v1/mediaItems?sessionId=\(id)")
            let items = try #require(l.object["mediaItems"] as? [[String: Any]])
            #expect(items.count == 3)
            let names = items.map { ($0["mediaFile"] as? [String: Any])?["filename"] as? String }
            #expect(names == ["new.jpg", "clip.mp4", "old.jpg"])

            let old = items[2]
            #expect(old["createTime"] as? String == "2020-01-01T10:00:00Z")
            #expect(old["type"] as? String == "PHOTO")
            #expect(old["creationTime"] == nil && old["filename"] == nil && old["mediaMetadata"] == nil, "not the Library shape")
            let file = try #require(old["mediaFile"] as? [String: Any])
            #expect(file["mimeType"] as? String == "image/jpeg")
            #expect((file["baseUrl"] as? String)?.hasPrefix(emu.baseURL + "/pk/") == true)
            let meta = try #require(file["mediaFileMetadata"] as? [String: Any])
            #expect(meta["width"] as? Int == 4032, "width is a JSON integer in the Picker API")
            #expect(meta["height"] as? Int == 3024)
            #expect(meta["cameraMake"] as? String == "Google")
            #expect(meta["cameraModel"] as? String == "Pixel 8")
            #expect(meta["photoMetadata"] is [String: Any])
            // The integer must be on the wire as a number, not a string.
            #expect(l.text.contains("\"width\":4032"))

            let video = items[1]
            #expect(video["type"] as? String == "VIDEO")
            let vmeta = try #require((video["mediaFile"] as? [String: Any])?["mediaFileMetadata"] as? [String: Any])
            #expect(["PROCESSING", "READY"].contains((vmeta["videoMetadata"] as? [String: Any])?["processingStatus"] as? String ?? ""))
            #expect(vmeta["photoMetadata"] == nil)
        }
    }

    @Test("mediaItems.list pages: 0 means 50, above 100 is coerced to 100, negative is 400")
    func pagination() async throws {
        try await withEmulator { emu in
            _ = try emu.control("POST", "seed", ["generate": ["count": 130]])
            let c = try Self.picker(emu)
            let id = try #require(try Self.create(c)["id"] as? String)
            try Self.pick(emu, id, ["count": 130])
            func page(_ q: String) throws -> HTTPResult { try c.get("/picker/v1/mediaItems?sessionId=\(id)" + q) }
            #expect((try page("").object["mediaItems"] as? [Any])?.count == 50)
            #expect((try page("&pageSize=0").object["mediaItems"] as? [Any])?.count == 50)
            #expect((try page("&pageSize=500").object["mediaItems"] as? [Any])?.count == 100)
            let neg = try page("&pageSize=-1")
            #expect(neg.status == 400)
            #expect(neg.errorStatus == "INVALID_ARGUMENT")
            var seen = Set<String>()
            var token: String?
            for _ in 0..<10 {
                let r = try page("&pageSize=40" + (token.map { "&pageToken=\($0)" } ?? ""))
                #expect(r.status == 200)
                for it in r.object["mediaItems"] as? [[String: Any]] ?? [] { seen.insert(it["id"] as? String ?? "") }
                token = r.object["nextPageToken"] as? String
                if token == nil { break }
            }
            #expect(seen.count == 130)
        }
    }

    @Test("picking honours maxItemCount and explicit ids from the user's library")
    func pickLimits() async throws {
        try await withEmulator { emu in
            let seeded = try emu.control("POST", "seed", ["generate": ["count": 6]])
            let ids = (seeded.object["mediaItems"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            let c = try Self.picker(emu)
            let capped = try #require(try Self.create(c, ["pickingConfig": ["maxItemCount": 2]])["id"] as? String)
            let p = try Self.pick(emu, capped, ["count": 6])
            #expect((p.object["mediaItemIds"] as? [Any])?.count == 2)

            let chosen = try #require(try Self.create(c)["id"] as? String)
            #expect(try Self.pick(emu, chosen, ["mediaItemIds": ["notAnItem"]]).status == 400)
            #expect(try Self.pick(emu, chosen, ["mediaItemIds": [ids[4], ids[1]]]).status == 200)
            let l = try c.get("/picker/v1/mediaItems?sessionId=\(chosen)")
            #expect((l.object["mediaItems"] as? [[String: Any]])?.map { $0["id"] as? String } == [ids[4], ids[1]])
        }
    }

    @Test("a user without a Photos account gets FAILED_PRECONDITION; too many sessions get RESOURCE_EXHAUSTED")
    func createErrors() async throws {
        try await withEmulator(["--knob", "maxPickerSessions=2"]) { emu in
            _ = try emu.control("POST", "users", ["userId": "noaccount@example.com", "hasPhotosAccount": false])
            let none = try Self.picker(emu, user: "noaccount@example.com")
            let r = try none.post("/picker/v1/sessions")
            #expect(r.status == 400)
            #expect(r.errorStatus == "FAILED_PRECONDITION")

            let c = try Self.picker(emu)
            let first = try #require(try Self.create(c)["id"] as? String)
            _ = try Self.create(c)
            let third = try c.post("/picker/v1/sessions")
            #expect(third.status == 429)
            #expect(third.errorStatus == "RESOURCE_EXHAUSTED")
            #expect(try c.send("DELETE", "/picker/v1/sessions/\(first)", [String: Any]()).status == 200)
            #expect(try c.post("/picker/v1/sessions").status == 200)
        }
    }

    @Test("the Picker API needs a token with the picker scope")
    func scopes() async throws {
        try await withEmulator { emu in
            let library = try APIClient(emu, clientID: "picker-app", scopes: Scopes.library)
            let r = try library.post("/picker/v1/sessions")
            #expect(r.status == 403)
            #expect(r.errorMessage == "Request had insufficient authentication scopes.")
            let anon = try RawHTTP.request("POST", emu.baseURL + "/picker/v1/sessions", headers: [("Content-Type", "application/json")],
                                           body: Data("{}".utf8))
            #expect(anon.status == 401)
            #expect(anon.errorStatus == "UNAUTHENTICATED")
        }
    }
}
