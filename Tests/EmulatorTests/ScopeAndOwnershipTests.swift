// Scope enforcement per method family and per-client (app-created-only) visibility and write rights, over HTTP.
import Foundation
import Testing

@Suite("Library API: scopes and ownership")
struct ScopeAndOwnershipTests {
    static let denied = "Request had insufficient authentication scopes."

    /// One call of each albums/mediaItems method, against an album and item the caller owns.
    static func calls(album: String, item: String) -> [(name: String, method: String, path: String, body: [String: Any]?)] {
        [
            ("albums.create", "POST", "/v1/albums", ["album": ["title": "t"]]),
            ("albums.list", "GET", "/v1/albums", nil),
            ("albums.get", "GET", "/v1/albums/\(album)", nil),
            ("albums.patch", "PATCH", "/v1/albums/\(album)?updateMask=title", ["title": "t2"]),
            ("albums.batchAddMediaItems", "POST", "/v1/albums/\(album):batchAddMediaItems", ["mediaItemIds": [item]]),
            ("albums.batchRemoveMediaItems", "POST", "/v1/albums/\(album):batchRemoveMediaItems", ["mediaItemIds": [item]]),
            ("albums.addEnrichment", "POST", "/v1/albums/\(album):addEnrichment",
             ["newEnrichmentItem": ["textEnrichment": ["text": "x"]], "albumPosition": ["position": "LAST_IN_ALBUM"]]),
            ("mediaItems.list", "GET", "/v1/mediaItems", nil),
            ("mediaItems.get", "GET", "/v1/mediaItems/\(item)", nil),
            ("mediaItems.batchGet", "GET", "/v1/mediaItems:batchGet?mediaItemIds=\(item)", nil),
            ("mediaItems.search", "POST", "/v1/mediaItems:search", [String: Any]()),
            ("mediaItems.patch", "PATCH", "/v1/mediaItems/\(item)?updateMask=description", ["description": "d"]),
        ]
    }

    /// Which methods each kept scope grants (reference §2.1).
    static let grants: [String: Set<String>] = [
        Scopes.append: ["albums.create", "albums.batchAddMediaItems", "albums.addEnrichment"],
        Scopes.read: ["albums.list", "albums.get", "mediaItems.list", "mediaItems.get", "mediaItems.batchGet", "mediaItems.search"],
        Scopes.edit: ["albums.patch", "albums.batchAddMediaItems", "albums.batchRemoveMediaItems", "albums.addEnrichment", "mediaItems.patch"],
    ]

    static func run(_ c: APIClient, _ call: (name: String, method: String, path: String, body: [String: Any]?)) throws -> HTTPResult {
        call.method == "GET" ? try c.get(call.path) : try c.send(call.method, call.path, call.body ?? [:])
    }

    @Test("each kept scope opens exactly its methods; the others get 403 insufficient scopes")
    func perScope() async throws {
        try await withEmulator { emu in
            let s = try Lib.seed(emu, ["mediaItems": [["ref": "i", "clientId": Lib.clientA]],
                                       "albums": [["title": "A", "clientId": Lib.clientA, "items": ["i"]]]])
            let item = s.byRef["i"]!
            for (scope, allowed) in ScopeAndOwnershipTests.grants {
                let c = try APIClient(emu, scopes: [scope, "openid", "profile"])
                for call in ScopeAndOwnershipTests.calls(album: s.albums[0], item: item) {
                    let r = try ScopeAndOwnershipTests.run(c, call)
                    if allowed.contains(call.name) {
                        #expect(r.status == 200, "\(scope) should allow \(call.name): \(r.status) \(r.text)")
                        if call.name == "albums.batchRemoveMediaItems" {
                            // Put the item back so later calls find it.
                            _ = try APIClient(emu, scopes: Scopes.library).post("/v1/albums/\(s.albums[0]):batchAddMediaItems", ["mediaItemIds": [item]])
                        }
                    } else {
                        #expect(r.status == 403, "\(scope) should not allow \(call.name)")
                        #expect(r.errorStatus == "PERMISSION_DENIED")
                        #expect(r.errorMessage == ScopeAndOwnershipTests.denied)
                    }
                }
            }
        }
    }

    @Test("the brief's cases: read-only can't create, appendonly-only can't list")
    func namedCases() async throws {
        try await withEmulator { emu in
            let ro = try APIClient(emu, scopes: [Scopes.read])
            let create = try ro.post("/v1/albums", ["album": ["title": "x"]])
            #expect(create.status == 403)
            #expect(create.errorMessage == ScopeAndOwnershipTests.denied)
            let ao = try APIClient(emu, scopes: [Scopes.append])
            let list = try ao.get("/v1/albums")
            #expect(list.status == 403)
            #expect(list.errorMessage == ScopeAndOwnershipTests.denied)
            let album = try Lib.createAlbum(ao, "made with appendonly")
            #expect(try ao.get("/v1/albums/\(album)").status == 403)
            #expect(try ro.get("/v1/albums/\(album)").status == 200, "same client, read scope")
        }
    }

    @Test("tokens holding only removed scopes get 403 with Google's exact message on every method")
    func removedScopes() async throws {
        try await withEmulator { emu in
            let s = try Lib.seed(emu, ["mediaItems": [["ref": "i", "clientId": Lib.clientA]],
                                       "albums": [["title": "A", "clientId": Lib.clientA, "items": ["i"]]]])
            for scope in [Scopes.oldFull, Scopes.oldReadonly, Scopes.oldSharing] {
                let c = try APIClient(emu, scopes: [scope])
                for call in ScopeAndOwnershipTests.calls(album: s.albums[0], item: s.byRef["i"]!) {
                    let r = try ScopeAndOwnershipTests.run(c, call)
                    #expect(r.status == 403, "\(scope) \(call.name)")
                    #expect(r.object["error"] as? [String: Any] != nil)
                    #expect(r.errorStatus == "PERMISSION_DENIED")
                    #expect(r.errorMessage == ScopeAndOwnershipTests.denied, "\(scope) \(call.name)")
                    #expect((r.object["error"] as? [String: Any])?["code"] as? Int == 403)
                }
            }
            let all = try APIClient(emu, scopes: [Scopes.oldFull, Scopes.oldReadonly, Scopes.oldSharing])
            #expect(try all.get("/v1/albums").status == 403)
        }
    }

    @Test("albums of client A are invisible to client B, who cannot add to them; A still sees them")
    func clientIdentity() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu, clientID: Lib.clientA)
            let b = try APIClient(emu, clientID: Lib.clientB)
            let s = try Lib.seed(emu, ["mediaItems": [["ref": "ia", "clientId": Lib.clientA], ["ref": "ib", "clientId": Lib.clientB],
                                                      ["ref": "u"]]])
            let album = try Lib.createAlbum(a, "A's album")
            #expect(try a.post("/v1/albums/\(album):batchAddMediaItems", ["mediaItemIds": [s.byRef["ia"]!]]).status == 200)

            let bList = try b.get("/v1/albums")
            #expect(bList.status == 200)
            #expect(bList.object["albums"] == nil, "B sees no albums, and no error")
            #expect(try b.get("/v1/albums/\(album)").status == 404)
            let add = try b.post("/v1/albums/\(album):batchAddMediaItems", ["mediaItemIds": [s.byRef["ib"]!]])
            #expect(add.status == 400)
            #expect(add.errorMessage == "No permission to add media items to this album.")
            #expect(try b.post("/v1/mediaItems:search", ["albumId": album]).status == 404)
            #expect(try b.post("/v1/albums/\(album):batchRemoveMediaItems", ["mediaItemIds": [s.byRef["ia"]!]]).status == 400)

            let aList = try a.get("/v1/albums").object["albums"] as? [[String: Any]] ?? []
            #expect(aList.map { $0["id"] as? String } == [album])
            #expect(aList.first?["isWriteable"] as? Bool == true)
            #expect(aList.first?["mediaItemsCount"] as? String == "1")

            // Items: each client sees only its own; the user's library items are nobody's.
            let bItems = (try b.get("/v1/mediaItems").object["mediaItems"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(bItems == [s.byRef["ib"]!])
            #expect(try b.get("/v1/mediaItems/\(s.byRef["ia"]!)").status == 404)
            #expect(try a.get("/v1/mediaItems/\(s.byRef["u"]!)").status == 404)
            let search = (try a.post("/v1/mediaItems:search", [String: Any]()).object["mediaItems"] as? [[String: Any]] ?? [])
                .compactMap { $0["id"] as? String }
            #expect(search == [s.byRef["ia"]!])
            #expect(try a.post("/v1/albums/\(album):batchAddMediaItems", ["mediaItemIds": [s.byRef["ib"]!]]).status == 400,
                    "A cannot add B's item either")

            // A read-only token of client A sees the album but it is not writeable.
            let aRead = try APIClient(emu, clientID: Lib.clientA, scopes: [Scopes.read])
            let got = try aRead.get("/v1/albums/\(album)")
            #expect(got.status == 200)
            #expect(got.object["isWriteable"] == nil)
        }
    }

    @Test("users are separate: the same client sees nothing of another user's library")
    func userIsolation() async throws {
        try await withEmulator { emu in
            let a1 = try APIClient(emu)
            let a2 = try APIClient(emu, userID: "other@example.com")
            let album = try Lib.createAlbum(a1, "user one")
            #expect(try a2.get("/v1/albums").object["albums"] == nil)
            #expect(try a2.get("/v1/albums/\(album)").status == 404)
            #expect(try a2.post("/v1/albums/\(album):addEnrichment",
                                ["newEnrichmentItem": ["textEnrichment": ["text": "x"]], "albumPosition": ["position": "LAST_IN_ALBUM"]]).status == 404)
        }
    }
}
