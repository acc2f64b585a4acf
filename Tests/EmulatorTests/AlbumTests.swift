// Conformance of the emulator's albums methods over HTTP: create, get, list (paging), patch, batchAdd/Remove, enrichments, removed sharing.
import Foundation
import Testing

/// Helpers shared by the Library API suites (albums, mediaItems, scopes, bad input).
enum Lib {
    static let clientA = "client-a.apps.googleusercontent.com"
    static let clientB = "client-b.apps.googleusercontent.com"

    /// What the seed call created.
    struct Seeded {
        /// Item ids in seed order.
        var items: [String] = []
        /// Item ids by `ref`.
        var byRef: [String: String] = [:]
        /// Album ids in seed order.
        var albums: [String] = []
    }

    /// Seeds through POST /emulator/v1/seed and fails the test on a non-200.
    @discardableResult
    static func seed(_ emu: EmulatorProcess, _ body: [String: Any]) throws -> Seeded {
        let r = try emu.control("POST", "seed", body)
        guard r.status == 200 else { throw TestFailure("seed failed: \(r.status) \(r.text)") }
        var s = Seeded()
        for m in r.object["mediaItems"] as? [[String: Any]] ?? [] {
            let id = m["id"] as? String ?? ""
            s.items.append(id)
            if let ref = m["ref"] as? String { s.byRef[ref] = id }
        }
        s.albums = (r.object["albums"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        return s
    }

    /// Sets knobs at run time.
    static func knobs(_ emu: EmulatorProcess, _ k: [String: Any]) throws {
        let r = try emu.control("PATCH", "knobs", k)
        guard r.status == 200 else { throw TestFailure("knobs failed: \(r.text)") }
    }

    /// Creates an album through the API and returns its id.
    static func createAlbum(_ c: APIClient, _ title: String) throws -> String {
        let r = try c.post("/v1/albums", ["album": ["title": title]])
        guard r.status == 200, let id = r.object["id"] as? String else { throw TestFailure("create failed: \(r.status) \(r.text)") }
        return id
    }

    /// One page of a listing: the ids it held and its next token.
    struct PageSeen { let ids: [String]; let next: String? }

    /// Follows nextPageToken from the first page until it is absent (at most `maxPages` pages).
    static func walk(maxPages: Int = 200, _ fetch: (String?) throws -> HTTPResult, key: String) throws -> [PageSeen] {
        var pages: [PageSeen] = []
        var token: String?
        for _ in 0..<maxPages {
            let r = try fetch(token)
            guard r.status == 200 else { throw TestFailure("page failed: \(r.status) \(r.text)") }
            let ids = (r.object[key] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            token = r.object["nextPageToken"] as? String
            pages.append(PageSeen(ids: ids, next: token))
            if token == nil { return pages }
        }
        throw TestFailure("listing did not end within \(maxPages) pages")
    }

    /// The ids of an album's items, in album order (via mediaItems.search).
    static func albumItems(_ c: APIClient, _ albumID: String) throws -> [String] {
        try walk({ t in
            var b: [String: Any] = ["albumId": albumID, "pageSize": 100]
            if let t { b["pageToken"] = t }
            return try c.post("/v1/mediaItems:search", b)
        }, key: "mediaItems").flatMap(\.ids)
    }

    /// Percent-encodes a query value.
    static func q(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? s }

    /// Whether the server still answers its health check.
    static func healthy(_ emu: EmulatorProcess) -> Bool {
        (try? RawHTTP.request("GET", emu.baseURL + "/emulator/v1/health").status) == 200
    }
}

@Suite("Library API: albums")
struct AlbumTests {
    @Test("albums.create returns a proto3 Album that get and list agree with")
    func createGetList() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let r = try a.post("/v1/albums", ["album": ["title": "Holiday 2024"]])
            #expect(r.status == 200)
            let o = r.object
            let id = try #require(o["id"] as? String)
            #expect(id.count >= 40)
            #expect(id.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
            #expect(o["title"] as? String == "Holiday 2024")
            #expect((o["productUrl"] as? String)?.hasPrefix("https://photos.google.com/lr/album/") == true)
            #expect(o["isWriteable"] as? Bool == true)
            #expect(o["mediaItemsCount"] == nil, "a count of 0 is omitted")
            #expect(o["coverPhotoBaseUrl"] == nil)

            let g = try a.get("/v1/albums/\(id)")
            #expect(g.status == 200)
            #expect(g.object["id"] as? String == id)
            #expect(g.object["title"] as? String == "Holiday 2024")

            let l = try a.get("/v1/albums")
            #expect(l.status == 200)
            let albums = l.object["albums"] as? [[String: Any]] ?? []
            #expect(albums.map { $0["id"] as? String } == [id])
            #expect(l.object["nextPageToken"] == nil)
        }
    }

    @Test("albums.create validates the title and rejects unknown members")
    func createValidation() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let missing = try a.post("/v1/albums", ["album": [String: Any]()])
            #expect(missing.status == 400)
            #expect(missing.errorStatus == "INVALID_ARGUMENT")
            #expect(try a.post("/v1/albums", [String: Any]()).status == 400)
            let long = try a.post("/v1/albums", ["album": ["title": String(repeating: "x", count: 501)]])
            #expect(long.status == 400)
            #expect(try a.post("/v1/albums", ["album": ["title": String(repeating: "é", count: 500)]]).status == 200)
            let unknown = try a.post("/v1/albums", ["album": ["title": "t", "colour": "red"]])
            #expect(unknown.status == 400)
            #expect(unknown.errorMessage?.contains("Unknown name \"colour\"") == true)
            let unknownTop = try a.post("/v1/albums", ["album": ["title": "t"], "extra": 1])
            #expect(unknownTop.status == 400)
            #expect(unknownTop.errorMessage?.hasPrefix("Invalid JSON payload received. Unknown name \"extra\"") == true)
            let wrongType = try a.post("/v1/albums", ["album": ["title": 5]])
            #expect(wrongType.status == 400)
            #expect(wrongType.errorMessage?.contains("album.title") == true)
            // Known Album members other than title are ignored, as Google reads only the title.
            let ignored = try a.post("/v1/albums", ["album": ["title": "t", "id": "chosen-by-client", "isWriteable": false]])
            #expect(ignored.status == 200)
            #expect(ignored.object["id"] as? String != "chosen-by-client")
            #expect(ignored.object["isWriteable"] as? Bool == true)
        }
    }

    @Test("maxAlbumsPerUser caps albums.create")
    func albumLimit() async throws {
        try await withEmulator(["--knob", "maxAlbumsPerUser=2"]) { emu in
            let a = try APIClient(emu)
            _ = try Lib.createAlbum(a, "one")
            _ = try Lib.createAlbum(a, "two")
            let third = try a.post("/v1/albums", ["album": ["title": "three"]])
            #expect(third.status == 400)
            #expect(third.errorStatus == "INVALID_ARGUMENT")
            #expect((try a.get("/v1/albums").object["albums"] as? [Any])?.count == 2)
        }
    }

    @Test("albums.list pages 120 albums exactly once each, in creation order; pageSize limits")
    func listPaging() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let seeded = try Lib.seed(emu, ["albums": (0..<120).map { ["title": String(format: "A%03d", $0), "clientId": Lib.clientA] }])
            #expect(seeded.albums.count == 120)
            let first = try a.get("/v1/albums")
            #expect((first.object["albums"] as? [Any])?.count == 20, "default page size is 20")
            let big = try a.get("/v1/albums?pageSize=60")
            #expect(big.status == 200)
            #expect((big.object["albums"] as? [Any])?.count == 50, "pageSize 60 is coerced to 50")
            let pages = try Lib.walk({ t in try a.get("/v1/albums?pageSize=50" + (t.map { "&pageToken=\(Lib.q($0))" } ?? "")) }, key: "albums")
            #expect(pages.map(\.ids.count) == [50, 50, 20])
            let all = pages.flatMap(\.ids)
            #expect(all == seeded.albums, "every album once, in creation order")
            #expect(try a.get("/v1/albums?pageSize=-1").status == 400)
            #expect(try a.get("/v1/albums?pageToken=garbage!").status == 400)

            try Lib.knobs(emu, ["oversizedPageSize": "reject"])
            let rejected = try a.get("/v1/albums?pageSize=60")
            #expect(rejected.status == 400)
            #expect(rejected.errorStatus == "INVALID_ARGUMENT")
            #expect(try a.get("/v1/albums?pageSize=50").status == 200)
        }
    }

    @Test("shortPageEvery gives short or empty pages that keep nextPageToken, and the union stays complete")
    func shortPages() async throws {
        try await withEmulator(["--knob", "shortPageEvery=2"]) { emu in
            let a = try APIClient(emu)
            let seeded = try Lib.seed(emu, ["albums": (0..<120).map { ["title": "S\($0)", "clientId": Lib.clientA] }])
            let pages = try Lib.walk({ t in try a.get("/v1/albums?pageSize=20" + (t.map { "&pageToken=\(Lib.q($0))" } ?? "")) }, key: "albums")
            let short = pages.dropLast().filter { $0.ids.count < 20 }
            #expect(!short.isEmpty)
            #expect(short.allSatisfy { $0.next != nil })
            #expect(pages.contains { $0.ids.isEmpty && $0.next != nil }, "an empty page that still carries a token")
            let all = pages.flatMap(\.ids)
            #expect(all == seeded.albums)
            #expect(Set(all).count == 120)
        }
    }

    @Test("albums.get of foreign, unknown or malformed ids is NOT_FOUND, or INVALID_ARGUMENT by knob")
    func getForeign() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, ["albums": [["title": "B's", "clientId": Lib.clientB], ["title": "user's"]]])
            for id in s.albums + ["ALvcUnknownAlbumIdThatDoesNotExist000000000000000000000"] {
                let r = try a.get("/v1/albums/\(id)")
                #expect(r.status == 404)
                #expect(r.errorStatus == "NOT_FOUND")
            }
            try Lib.knobs(emu, ["foreignIdError": "invalid-argument"])
            let r = try a.get("/v1/albums/\(s.albums[0])")
            #expect(r.status == 400)
            #expect(r.errorStatus == "INVALID_ARGUMENT")
        }
    }

    @Test("albums.patch changes title and cover through updateMask only")
    func patch() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, ["mediaItems": [["ref": "x", "clientId": Lib.clientA], ["ref": "y", "clientId": Lib.clientA],
                                                      ["ref": "z", "clientId": Lib.clientA]],
                                       "albums": [["title": "Old", "clientId": Lib.clientA, "items": ["x", "y"]]]])
            let album = s.albums[0]
            let t = try a.patch("/v1/albums/\(album)?updateMask=title", ["title": "New"])
            #expect(t.status == 200)
            #expect(t.object["title"] as? String == "New")
            #expect(t.object["mediaItemsCount"] as? String == "2")
            #expect(t.object["coverPhotoMediaItemId"] as? String == s.byRef["x"], "default cover is the first item")
            #expect(try a.get("/v1/albums/\(album)").object["title"] as? String == "New")

            let c = try a.patch("/v1/albums/\(album)?updateMask=coverPhotoMediaItemId", ["coverPhotoMediaItemId": s.byRef["y"]!])
            #expect(c.status == 200)
            #expect(c.object["coverPhotoMediaItemId"] as? String == s.byRef["y"])
            #expect(c.object["coverPhotoBaseUrl"] is String)
            let snake = try a.patch("/v1/albums/\(album)?updateMask=title,cover_photo_media_item_id",
                                    ["title": "Both", "coverPhotoMediaItemId": s.byRef["x"]!])
            #expect(snake.status == 200)
            #expect(snake.object["title"] as? String == "Both")
            #expect(snake.object["coverPhotoMediaItemId"] as? String == s.byRef["x"])

            let notMember = try a.patch("/v1/albums/\(album)?updateMask=coverPhotoMediaItemId", ["coverPhotoMediaItemId": s.byRef["z"]!])
            #expect(notMember.status == 400)
            let noMask = try a.patch("/v1/albums/\(album)", ["title": "X"])
            #expect(noMask.status == 400)
            #expect(noMask.errorStatus == "INVALID_ARGUMENT")
            #expect(try a.patch("/v1/albums/\(album)?updateMask=id", ["id": "x"]).status == 400)
            #expect(try a.patch("/v1/albums/\(album)?updateMask=title,isWriteable", ["title": "x"]).status == 400)
            #expect(try a.patch("/v1/albums/\(album)?updateMask=title", ["title": ""]).status == 400)
            #expect(try a.patch("/v1/albums/\(album)?updateMask=title", ["title": String(repeating: "t", count: 501)]).status == 400)
            #expect(try a.get("/v1/albums/\(album)").object["title"] as? String == "Both", "failed patches change nothing")
            let b = try APIClient(emu, clientID: Lib.clientB)
            #expect(try b.patch("/v1/albums/\(album)?updateMask=title", ["title": "Stolen"]).status == 404)
        }
    }

    @Test("batchAddMediaItems appends in order, all or nothing, only the caller's own items into its own albums")
    func batchAdd() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, ["mediaItems": (0..<5).map { ["ref": "a\($0)", "clientId": Lib.clientA] }
                                        + [["ref": "b0", "clientId": Lib.clientB], ["ref": "u0"]],
                                       "albums": [["title": "B album", "clientId": Lib.clientB]]])
            let mine = (0..<5).map { s.byRef["a\($0)"]! }
            let album = try Lib.createAlbum(a, "Mine")
            let path = "/v1/albums/\(album):batchAddMediaItems"
            let ok = try a.post(path, ["mediaItemIds": [mine[2], mine[0]]])
            #expect(ok.status == 200)
            #expect(ok.text == "{}")
            #expect(try a.post(path, ["mediaItemIds": [mine[1], mine[0]]]).status == 200, "re-adding keeps the first place")
            #expect(try Lib.albumItems(a, album) == [mine[2], mine[0], mine[1]])
            #expect(try a.get("/v1/albums/\(album)").object["mediaItemsCount"] as? String == "3")

            for bad in [s.byRef["b0"]!, s.byRef["u0"]!, "ALvcNoSuchItem00000000000000000000000000000"] {
                let r = try a.post(path, ["mediaItemIds": [mine[3], bad]])
                #expect(r.status == 400)
                #expect(r.errorStatus == "INVALID_ARGUMENT")
                #expect(r.errorMessage == "Request contains an invalid media item id.")
            }
            #expect(try Lib.albumItems(a, album) == [mine[2], mine[0], mine[1]], "no partial success")

            let foreign = try a.post("/v1/albums/\(s.albums[0]):batchAddMediaItems", ["mediaItemIds": [mine[0]]])
            #expect(foreign.status == 400)
            #expect(foreign.errorMessage == "No permission to add media items to this album.")
            let empty = try a.post(path, ["mediaItemIds": [String]()])
            #expect(empty.status == 400)
            let tooMany = try a.post(path, ["mediaItemIds": Array(repeating: mine[0], count: 51)])
            #expect(tooMany.status == 400)
            #expect(try a.post("/v1/albums/ALvcNoSuchAlbum0000000000000000000000000:batchAddMediaItems",
                               ["mediaItemIds": [mine[0]]]).status == 404)

            try Lib.knobs(emu, ["maxAlbumItems": 4])
            let full = try a.post(path, ["mediaItemIds": [mine[3], mine[4]]])
            #expect(full.status == 400)
            #expect(full.errorStatus == "INVALID_ARGUMENT")
            #expect(try a.post(path, ["mediaItemIds": [mine[3]]]).status == 200)
            #expect(try Lib.albumItems(a, album).count == 4)
        }
    }

    @Test("batchRemoveMediaItems removes membership only, all or nothing, no duplicates")
    func batchRemove() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, ["mediaItems": (0..<4).map { ["ref": "a\($0)", "clientId": Lib.clientA] } + [["ref": "u"]],
                                       "albums": [["title": "Mine", "clientId": Lib.clientA, "items": ["a0", "a1", "a2", "u"]],
                                                  ["title": "B's", "clientId": Lib.clientB, "items": ["a3"]]]])
            let album = s.albums[0]
            let ids = (0..<4).map { s.byRef["a\($0)"]! }
            let path = "/v1/albums/\(album):batchRemoveMediaItems"
            #expect(try a.post(path, ["mediaItemIds": [ids[0], ids[0]]]).status == 400, "duplicates")
            #expect(try a.post(path, ["mediaItemIds": [String]()]).status == 400)
            #expect(try a.post(path, ["mediaItemIds": (0..<51).map { "id\($0)" }]).status == 400)
            let notMember = try a.post(path, ["mediaItemIds": [ids[1], ids[3]]])
            #expect(notMember.status == 400)
            #expect(notMember.errorMessage == "Request contains an invalid media item id.")
            let userItem = try a.post(path, ["mediaItemIds": [ids[1], s.byRef["u"]!]])
            #expect(userItem.status == 400, "a user-library item is not app-created")
            #expect(try Lib.albumItems(a, album) == [ids[0], ids[1], ids[2], s.byRef["u"]!], "nothing removed")

            let ok = try a.post(path, ["mediaItemIds": [ids[1], ids[0]]])
            #expect(ok.status == 200)
            #expect(ok.text == "{}")
            #expect(try Lib.albumItems(a, album) == [ids[2], s.byRef["u"]!])
            let listed = (try a.get("/v1/mediaItems?pageSize=100").object["mediaItems"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(Set(listed).isSuperset(of: [ids[0], ids[1]]), "removed items stay in the library")
            let foreign = try a.post("/v1/albums/\(s.albums[1]):batchRemoveMediaItems", ["mediaItemIds": [ids[3]]])
            #expect(foreign.status == 400)
            #expect(foreign.errorStatus == "INVALID_ARGUMENT")
        }
    }

    @Test("addEnrichment takes exactly one enrichment, returns an id, and never shows in listings")
    func enrichment() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, ["mediaItems": [["ref": "x", "clientId": Lib.clientA]],
                                       "albums": [["title": "Trip", "clientId": Lib.clientA, "items": ["x"]],
                                                  ["title": "B's", "clientId": Lib.clientB]]])
            let path = "/v1/albums/\(s.albums[0]):addEnrichment"
            let text = try a.post(path, ["newEnrichmentItem": ["textEnrichment": ["text": "Day one"]],
                                         "albumPosition": ["position": "FIRST_IN_ALBUM"]])
            #expect(text.status == 200)
            let eid = try #require((text.object["enrichmentItem"] as? [String: Any])?["id"] as? String)
            #expect(!eid.isEmpty)
            let loc = try a.post(path, ["newEnrichmentItem": ["locationEnrichment": ["location": ["locationName": "Oslo",
                                                                                                  "latlng": ["latitude": 59.9, "longitude": 10.7]]]],
                                        "albumPosition": ["position": "AFTER_MEDIA_ITEM", "relativeMediaItemId": s.byRef["x"]!]])
            #expect(loc.status == 200)
            let map = try a.post(path, ["newEnrichmentItem": ["mapEnrichment": ["origin": ["locationName": "A"], "destination": ["locationName": "B"]]],
                                        "albumPosition": ["position": "AFTER_ENRICHMENT_ITEM", "relativeEnrichmentItemId": eid]])
            #expect(map.status == 200)

            let two = try a.post(path, ["newEnrichmentItem": ["textEnrichment": ["text": "a"], "mapEnrichment": ["origin": [String: Any](), "destination": [String: Any]()]],
                                        "albumPosition": ["position": "LAST_IN_ALBUM"]])
            #expect(two.status == 400)
            #expect(try a.post(path, ["newEnrichmentItem": [String: Any](), "albumPosition": ["position": "LAST_IN_ALBUM"]]).status == 400)
            #expect(try a.post(path, ["newEnrichmentItem": ["textEnrichment": ["text": "a"]]]).status == 400, "albumPosition required")
            #expect(try a.post(path, ["newEnrichmentItem": ["textEnrichment": ["text": "a"]],
                                      "albumPosition": ["position": "SIDEWAYS"]]).status == 400)
            #expect(try a.post(path, ["newEnrichmentItem": ["textEnrichment": ["text": "a"]],
                                      "albumPosition": ["position": "AFTER_MEDIA_ITEM", "relativeMediaItemId": "nope"]]).status == 400)
            #expect(try a.post(path, ["newEnrichmentItem": ["locationEnrichment": ["location": ["latlng": ["latitude": 91, "longitude": 0]]]],
                                      "albumPosition": ["position": "LAST_IN_ALBUM"]]).status == 400)
            let foreign = try a.post("/v1/albums/\(s.albums[1]):addEnrichment",
                                     ["newEnrichmentItem": ["textEnrichment": ["text": "x"]], "albumPosition": ["position": "LAST_IN_ALBUM"]])
            #expect(foreign.status == 400)

            #expect(try Lib.albumItems(a, s.albums[0]) == [s.byRef["x"]!], "enrichments never appear in search")
            #expect(try a.get("/v1/albums/\(s.albums[0])").object["mediaItemsCount"] as? String == "1")
        }
    }

    @Test("removed sharing methods answer 403 PERMISSION_DENIED; there is no DELETE")
    func removedAndDelete() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let album = try Lib.createAlbum(a, "Keep")
            let calls: [(String, String)] = [("POST", "/v1/albums/\(album):share"), ("POST", "/v1/albums/\(album):unshare"),
                                              ("GET", "/v1/sharedAlbums"), ("GET", "/v1/sharedAlbums/sometoken"),
                                              ("POST", "/v1/sharedAlbums:join"), ("POST", "/v1/sharedAlbums:leave")]
            for (method, path) in calls {
                let r = method == "GET" ? try a.get(path) : try a.post(path, ["sharedAlbumOptions": ["isCollaborative": true]])
                #expect(r.status == 403, "\(method) \(path)")
                #expect(r.errorStatus == "PERMISSION_DENIED", "\(method) \(path)")
            }
            let anon = try RawHTTP.request("GET", emu.baseURL + "/v1/sharedAlbums")
            #expect(anon.status == 401, "removed methods still authenticate first")
            for path in ["/v1/albums/\(album)", "/v1/mediaItems/\(album)"] {
                let d = try RawHTTP.request("DELETE", emu.baseURL + path, headers: [("Authorization", "Bearer \(a.accessToken)")])
                #expect(d.status == 404)
                #expect(d.header("content-type")?.hasPrefix("text/html") == true)
            }
            #expect(try a.get("/v1/albums/\(album)").status == 200, "the album is still there")
        }
    }
}
