// Conformance of the emulator's mediaItems methods over HTTP: get, batchGet, list, search (filters, order, paging) and patch.
import Foundation
import Testing

@Suite("Library API: mediaItems")
struct MediaItemTests {
    /// A small library: app A's photos and a video with and without capture time, an archived one, B's and the user's items.
    static var library: [String: Any] { ["mediaItems": [
        ["ref": "p1", "clientId": Lib.clientA, "filename": "p1.jpg", "creationTime": "2020-01-15T10:00:00Z",
         "categories": ["LANDSCAPES"], "favorite": true],
        ["ref": "p2", "clientId": Lib.clientA, "filename": "p2.jpg", "creationTime": "2021-06-20T10:00:00Z", "categories": ["PETS"]],
        ["ref": "v1", "clientId": Lib.clientA, "filename": "v1.mp4", "mimeType": "video/mp4", "creationTime": "2021-06-25T10:00:00Z"],
        ["ref": "p3", "clientId": Lib.clientA, "filename": "p3.jpg", "creationTime": "2019-12-31T10:00:00Z", "archived": true],
        ["ref": "n1", "clientId": Lib.clientA, "filename": "n1.jpg"],
        ["ref": "b1", "clientId": Lib.clientB, "filename": "b1.jpg", "creationTime": "2020-01-15T10:00:00Z"],
        ["ref": "u1", "filename": "u1.jpg", "creationTime": "2020-01-15T10:00:00Z"],
    ]] }

    /// Ids of a search result, failing on non-200.
    static func search(_ c: APIClient, _ body: [String: Any]) throws -> [String] {
        let r = try c.post("/v1/mediaItems:search", body)
        guard r.status == 200 else { throw TestFailure("search failed: \(r.status) \(r.text)") }
        return (r.object["mediaItems"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    }

    @Test("mediaItems.get returns the proto3 MediaItem shape; foreign, user-library and unknown ids are NOT_FOUND")
    func get() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, MediaItemTests.library)
            let r = try a.get("/v1/mediaItems/\(s.byRef["p1"]!)")
            #expect(r.status == 200)
            let o = r.object
            #expect(o["id"] as? String == s.byRef["p1"])
            #expect(o["filename"] as? String == "p1.jpg")
            #expect(o["mimeType"] as? String == "image/jpeg")
            #expect(o["description"] == nil, "empty description is omitted")
            #expect((o["baseUrl"] as? String)?.hasPrefix("http://127.0.0.1:") == true)
            #expect((o["productUrl"] as? String)?.hasPrefix("https://photos.google.com/lr/photo/") == true)
            let meta = try #require(o["mediaMetadata"] as? [String: Any])
            #expect(meta["creationTime"] as? String == "2020-01-15T10:00:00Z")
            #expect(meta["width"] as? String == "640", "int64 is a string")
            #expect(meta["height"] as? String == "480")
            #expect(meta["photo"] is [String: Any])
            #expect(meta["video"] == nil)
            let v = try a.get("/v1/mediaItems/\(s.byRef["v1"]!)")
            #expect(((v.object["mediaMetadata"] as? [String: Any])?["video"] as? [String: Any])?["status"] as? String == "PROCESSING")

            for ref in ["b1", "u1"] {
                let f = try a.get("/v1/mediaItems/\(s.byRef[ref]!)")
                #expect(f.status == 404, "\(ref)")
                #expect(f.errorStatus == "NOT_FOUND")
            }
            #expect(try a.get("/v1/mediaItems/ALvcNoSuchItem0000000000000000000000000000").status == 404)
            try Lib.knobs(emu, ["foreignIdError": "invalid-argument"])
            #expect(try a.get("/v1/mediaItems/\(s.byRef["b1"]!)").status == 400)
        }
    }

    @Test("mediaItems.batchGet answers in request order with per-item statuses; 1..50 distinct ids")
    func batchGet() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, MediaItemTests.library)
            let ids = [s.byRef["p2"]!, s.byRef["b1"]!, "ALvcNoSuchItem0000000000000000000000000000", s.byRef["u1"]!, s.byRef["p1"]!]
            let r = try a.get("/v1/mediaItems:batchGet?" + ids.map { "mediaItemIds=\($0)" }.joined(separator: "&"))
            #expect(r.status == 200)
            let results = try #require(r.object["mediaItemResults"] as? [[String: Any]])
            #expect(results.count == 5)
            #expect((results[0]["mediaItem"] as? [String: Any])?["id"] as? String == s.byRef["p2"])
            #expect((results[4]["mediaItem"] as? [String: Any])?["id"] as? String == s.byRef["p1"])
            for i in 1...3 {
                #expect(results[i]["mediaItem"] == nil)
                #expect((results[i]["status"] as? [String: Any])?["code"] as? Int == 5)
            }
            try Lib.knobs(emu, ["foreignIdError": "invalid-argument"])
            let r3 = try a.get("/v1/mediaItems:batchGet?mediaItemIds=\(s.byRef["b1"]!)")
            #expect(((r3.object["mediaItemResults"] as? [[String: Any]])?.first?["status"] as? [String: Any])?["code"] as? Int == 3)

            #expect(try a.get("/v1/mediaItems:batchGet").status == 400, "no ids")
            let dup = try a.get("/v1/mediaItems:batchGet?mediaItemIds=\(ids[0])&mediaItemIds=\(ids[0])")
            #expect(dup.status == 400)
            #expect(dup.errorStatus == "INVALID_ARGUMENT")
            let many = (0..<51).map { "mediaItemIds=id\($0)" }.joined(separator: "&")
            #expect(try a.get("/v1/mediaItems:batchGet?" + many).status == 400)
            let fifty = (0..<50).map { "mediaItemIds=id\($0)" }.joined(separator: "&")
            #expect(try a.get("/v1/mediaItems:batchGet?" + fifty).status == 200)
        }
    }

    @Test("mediaItems.list: only the caller's items, newest first, archived left out")
    func list() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, MediaItemTests.library)
            let r = try a.get("/v1/mediaItems")
            #expect(r.status == 200)
            let ids = (r.object["mediaItems"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(ids == ["n1", "v1", "p2", "p1"].map { s.byRef[$0]! })
            #expect(r.object["nextPageToken"] == nil)
            #expect(try MediaItemTests.search(a, [:]) == ids, "search without filters agrees with list")
            let b = try APIClient(emu, clientID: Lib.clientB)
            #expect((try b.get("/v1/mediaItems").object["mediaItems"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [s.byRef["b1"]!])
            let c = try APIClient(emu, clientID: "client-c.apps.googleusercontent.com")
            let empty = try c.get("/v1/mediaItems")
            #expect(empty.status == 200)
            #expect(empty.text == "{}", "no items: an empty object, no error")
        }
    }

    @Test("list and search walk 120 items exactly once; page sizes; short pages keep tokens")
    func paging() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, ["generate": ["count": 120, "clientId": Lib.clientA, "albumTitle": "Big"]])
            #expect(s.items.count == 120)
            let pages = try Lib.walk({ t in try a.get("/v1/mediaItems" + (t.map { "?pageToken=\(Lib.q($0))" } ?? "")) }, key: "mediaItems")
            #expect(pages.map(\.ids.count) == [25, 25, 25, 25, 20], "default page size 25")
            let listed = pages.flatMap(\.ids)
            #expect(Set(listed) == Set(s.items))
            #expect(listed.count == 120)
            #expect((try a.get("/v1/mediaItems?pageSize=101").object["mediaItems"] as? [Any])?.count == 100, "coerced to 100")
            #expect((try a.post("/v1/mediaItems:search", ["pageSize": 500]).object["mediaItems"] as? [Any])?.count == 100)
            let searched = try Lib.walk({ t in
                var b: [String: Any] = ["pageSize": 50]
                if let t { b["pageToken"] = t }
                return try a.post("/v1/mediaItems:search", b)
            }, key: "mediaItems")
            #expect(searched.map(\.ids.count) == [50, 50, 20])
            #expect(searched.flatMap(\.ids) == listed, "same order as list")
            #expect(try Lib.albumItems(a, s.albums[0]) == s.items, "album search in album order")

            try Lib.knobs(emu, ["oversizedPageSize": "reject"])
            #expect(try a.get("/v1/mediaItems?pageSize=101").status == 400)
            #expect(try a.post("/v1/mediaItems:search", ["pageSize": 101]).status == 400)
            #expect(try a.get("/v1/mediaItems?pageSize=100").status == 200)

            try Lib.knobs(emu, ["shortPageEvery": 2])
            let short = try Lib.walk({ t in try a.get("/v1/mediaItems?pageSize=20" + (t.map { "&pageToken=\(Lib.q($0))" } ?? "")) },
                                     key: "mediaItems")
            #expect(short.dropLast().contains { $0.ids.count < 20 && $0.next != nil })
            #expect(short.contains { $0.ids.isEmpty && $0.next != nil })
            #expect(short.flatMap(\.ids) == listed, "the union is complete and in order")
        }
    }

    @Test("album search: album order, album-scoped productUrl, tokens bound to the album, own albums only")
    func albumSearch() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, ["mediaItems": (0..<30).map { ["ref": "i\($0)", "clientId": Lib.clientA] },
                                       "albums": [["title": "X", "clientId": Lib.clientA, "items": (0..<30).reversed().map { "i\($0)" }],
                                                  ["title": "Y", "clientId": Lib.clientA, "items": ["i0"]],
                                                  ["title": "B", "clientId": Lib.clientB, "items": ["i1"]]]])
            let x = s.albums[0], y = s.albums[1]
            let first = try a.post("/v1/mediaItems:search", ["albumId": x, "pageSize": 10])
            #expect(first.status == 200)
            let items = first.object["mediaItems"] as? [[String: Any]] ?? []
            #expect(items.compactMap { $0["id"] as? String } == (20..<30).reversed().map { s.byRef["i\($0)"]! })
            #expect((items.first?["productUrl"] as? String)?.contains("/album/\(x)/") == true)
            let token = try #require(first.object["nextPageToken"] as? String)
            let rebound = try a.post("/v1/mediaItems:search", ["albumId": y, "pageSize": 10, "pageToken": token])
            #expect(rebound.status == 400)
            #expect(rebound.errorStatus == "INVALID_ARGUMENT")
            #expect(try a.post("/v1/mediaItems:search", ["albumId": x, "pageSize": 10, "pageToken": token]).status == 200)
            try Lib.knobs(emu, ["bindPageTokens": false])
            #expect(try a.post("/v1/mediaItems:search", ["albumId": y, "pageSize": 10, "pageToken": token]).status == 200)

            let both = try a.post("/v1/mediaItems:search", ["albumId": x, "filters": ["includeArchivedMedia": true]])
            #expect(both.status == 400)
            #expect(both.errorStatus == "INVALID_ARGUMENT")
            #expect(try a.post("/v1/mediaItems:search", ["albumId": s.albums[2]]).status == 404)
        }
    }

    @Test("search filters: media type, dates, ranges, wildcards, content, favorites, archived, orderBy")
    func filters() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, MediaItemTests.library)
            func ids(_ refs: [String]) -> [String] { refs.map { s.byRef[$0]! } }
            func f(_ filters: [String: Any], _ extra: [String: Any] = [:]) throws -> [String] {
                try MediaItemTests.search(a, extra.merging(["filters": filters]) { x, _ in x })
            }
            #expect(try f(["mediaTypeFilter": ["mediaTypes": ["PHOTO"]]]) == ids(["n1", "p2", "p1"]))
            #expect(try f(["mediaTypeFilter": ["mediaTypes": ["VIDEO"]]]) == ids(["v1"]))
            #expect(try f(["mediaTypeFilter": ["mediaTypes": ["ALL_MEDIA"]]]) == ids(["n1", "v1", "p2", "p1"]))
            #expect(try f(["dateFilter": ["dates": [["year": 2020]]]]) == ids(["p1"]))
            #expect(try f(["dateFilter": ["dates": [["month": 6, "day": 20]]]]) == ids(["p2"]), "year 0 is a wildcard")
            #expect(try f(["dateFilter": ["dates": [["year": 2021, "month": 6]]]]) == ids(["v1", "p2"]))
            #expect(try f(["dateFilter": ["ranges": [["startDate": ["year": 2021, "month": 6, "day": 1],
                                                      "endDate": ["year": 2021, "month": 6, "day": 21]]]]]) == ids(["p2"]))
            // A range covering today still leaves out n1, which has no capture time.
            let wide: [String: Any] = ["ranges": [["startDate": ["year": 1990], "endDate": ["year": 2999]]]]
            #expect(try f(["dateFilter": wide]) == ids(["v1", "p2", "p1"]))
            #expect(try f(["dateFilter": wide], ["orderBy": "MediaMetadata.creation_time"]) == ids(["p1", "p2", "v1"]))
            #expect(try f(["dateFilter": wide], ["orderBy": "MediaMetadata.creation_time desc"]) == ids(["v1", "p2", "p1"]))
            #expect(try f(["dateFilter": wide, "includeArchivedMedia": true], ["orderBy": "MediaMetadata.creation_time"])
                    == ids(["p3", "p1", "p2", "v1"]))
            #expect(try f(["includeArchivedMedia": true]) == ids(["n1", "v1", "p2", "p1", "p3"]))
            #expect(try f(["contentFilter": ["includedContentCategories": ["PETS"]]]) == ids(["p2"]))
            #expect(try f(["contentFilter": ["excludedContentCategories": ["PETS", "LANDSCAPES"]]]) == ids(["n1", "v1"]))
            #expect(try f(["featureFilter": ["includedFeatures": ["FAVORITES"]]]) == ids(["p1"]))
            #expect(try f(["excludeNonAppCreatedData": true]) == ids(["n1", "v1", "p2", "p1"]))
        }
    }

    @Test("search validation: bad dates, too many dates or categories, media types, enums, orderBy, unknown members")
    func searchValidation() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            _ = try Lib.seed(emu, MediaItemTests.library)
            func status(_ body: [String: Any]) throws -> HTTPResult { try a.post("/v1/mediaItems:search", body) }
            let badDates: [[String: Any]] = [[:], ["year": 0, "month": 0, "day": 0], ["year": 2020, "day": 5], ["month": 3],
                                             ["year": 2020, "month": 13], ["year": 2020, "month": 1, "day": 32], ["year": -1]]
            for d in badDates {
                let r = try status(["filters": ["dateFilter": ["dates": [d]]]])
                #expect(r.status == 400, "\(d)")
                #expect(r.errorStatus == "INVALID_ARGUMENT", "\(d)")
            }
            let sixDates = (1...6).map { ["year": 2000 + $0] }
            #expect(try status(["filters": ["dateFilter": ["dates": sixDates]]]).status == 400)
            #expect(try status(["filters": ["dateFilter": ["dates": Array(sixDates.prefix(5))]]]).status == 200)
            let range: [String: Any] = ["startDate": ["year": 2020], "endDate": ["year": 2021]]
            #expect(try status(["filters": ["dateFilter": ["ranges": Array(repeating: range, count: 6)]]]).status == 400)
            #expect(try status(["filters": ["dateFilter": ["ranges": [["startDate": ["year": 2022], "endDate": ["year": 2021]]]]]]).status == 400)
            #expect(try status(["filters": ["dateFilter": ["ranges": [["startDate": ["year": 2022]]]]]]).status == 400)

            let cats = ["LANDSCAPES", "RECEIPTS", "CITYSCAPES", "LANDMARKS", "SELFIES", "PEOPLE", "PETS", "WEDDINGS", "BIRTHDAYS",
                        "DOCUMENTS", "TRAVEL"]
            #expect(try status(["filters": ["contentFilter": ["includedContentCategories": cats]]]).status == 400)
            #expect(try status(["filters": ["contentFilter": ["excludedContentCategories": cats]]]).status == 400)
            #expect(try status(["filters": ["contentFilter": ["includedContentCategories": Array(cats.prefix(10))]]]).status == 200)
            let badEnum = try status(["filters": ["contentFilter": ["includedContentCategories": ["CATS"]]]])
            #expect(badEnum.status == 400)
            #expect(badEnum.errorMessage?.contains("CATS") == true)
            #expect(try status(["filters": ["contentFilter": ["includedContentCategories": ["PETS"],
                                                              "excludedContentCategories": ["PETS"]]]]).status == 400)
            let twoTypes = try status(["filters": ["mediaTypeFilter": ["mediaTypes": ["PHOTO", "VIDEO"]]]])
            #expect(twoTypes.status == 400)
            #expect(try status(["filters": ["mediaTypeFilter": ["mediaTypes": ["GIF"]]]]).status == 400)
            #expect(try status(["filters": ["featureFilter": ["includedFeatures": ["SHARED"]]]]).status == 400)

            let noDate = try status(["orderBy": "MediaMetadata.creation_time"])
            #expect(noDate.status == 400, "orderBy without a dateFilter is rejected by default")
            let dated: [String: Any] = ["dateFilter": ["dates": [["year": 2021]]]]
            #expect(try status(["filters": dated, "orderBy": "MediaMetadata.filename"]).status == 400)
            #expect(try status(["filters": dated, "orderBy": "MediaMetadata.creation_time sideways"]).status == 400)

            let unknown = try status(["filters": ["dateFilter": ["weekday": 3]]])
            #expect(unknown.status == 400)
            #expect(unknown.errorMessage?.contains("Unknown name \"weekday\"") == true)
            #expect(try status(["albumID": "x"]).status == 400, "member names are case-sensitive")
            #expect(try status(["filters": ["includeArchivedMedia": "yes"]]).status == 400)
            #expect(try status(["pageSize": "ten"]).status == 400)

            try Lib.knobs(emu, ["orderByWithoutDateFilter": "ignore"])
            let ignored = try status(["orderBy": "MediaMetadata.creation_time"])
            #expect(ignored.status == 200)
            let order = (ignored.object["mediaItems"] as? [[String: Any]] ?? []).compactMap { $0["filename"] as? String }
            #expect(order == ["n1.jpg", "v1.mp4", "p2.jpg", "p1.jpg"], "ignored orderBy keeps newest first")
        }
    }

    @Test("mediaItems.patch updates only the description of the caller's own items")
    func patch() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let s = try Lib.seed(emu, MediaItemTests.library)
            let p1 = s.byRef["p1"]!
            let r = try a.patch("/v1/mediaItems/\(p1)?updateMask=description", ["description": "Sunset"])
            #expect(r.status == 200)
            #expect(r.object["description"] as? String == "Sunset")
            #expect(r.object["filename"] as? String == "p1.jpg")
            #expect(try a.get("/v1/mediaItems/\(p1)").object["description"] as? String == "Sunset")
            #expect(try a.patch("/v1/mediaItems/\(p1)?updateMask=description", ["description": String(repeating: "d", count: 1000)]).status == 200)
            #expect(try a.patch("/v1/mediaItems/\(p1)?updateMask=description", ["description": String(repeating: "d", count: 1001)]).status == 400)
            #expect(try a.patch("/v1/mediaItems/\(p1)", ["description": "x"]).status == 400, "mask required")
            #expect(try a.patch("/v1/mediaItems/\(p1)?updateMask=filename", ["filename": "x.jpg"]).status == 400)
            #expect(try a.patch("/v1/mediaItems/\(p1)?updateMask=description,filename", ["description": "x"]).status == 400)
            #expect(try a.patch("/v1/mediaItems/\(p1)?updateMask=description", ["description": "x", "tags": ["a"]]).status == 400)
            let cleared = try a.patch("/v1/mediaItems/\(p1)?updateMask=description", ["description": ""])
            #expect(cleared.status == 200)
            #expect(cleared.object["description"] == nil)
            for ref in ["b1", "u1"] {
                let f = try a.patch("/v1/mediaItems/\(s.byRef[ref]!)?updateMask=description", ["description": "mine now"])
                #expect(f.status == 404, "\(ref)")
            }
            let b = try APIClient(emu, clientID: Lib.clientB)
            #expect(try b.get("/v1/mediaItems/\(s.byRef["b1"]!)").object["description"] == nil, "B's item untouched")
        }
    }
}
