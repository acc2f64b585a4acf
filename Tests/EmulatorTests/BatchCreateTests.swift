// Conformance: mediaItems.batchCreate (limits, per-item failures, names, EXIF dates, dedupe, albums and positions).
import Foundation
import Testing

@Suite("BatchCreate")
struct BatchCreateTests {
    private func results(_ r: HTTPResult) -> [[String: Any]] { r.object["newMediaItemResults"] as? [[String: Any]] ?? [] }
    private func status(_ r: [String: Any]) -> [String: Any] { r["status"] as? [String: Any] ?? [:] }
    private func item(_ r: [String: Any]) -> [String: Any] { r["mediaItem"] as? [String: Any] ?? [:] }
    private func meta(_ i: [String: Any]) -> [String: Any] { i["mediaMetadata"] as? [String: Any] ?? [:] }

    @Test("more than 50 items is 400 \"Request must have less than 50 items.\"; 50 is fine; none is 400")
    func itemLimits() async throws {
        try await withEmulator { emu in
            let api = try APIClient(emu)
            let token = try api.uploadToken(TestMedia.jpeg())
            let many = try api.batchCreate(Array(repeating: (token: token, fileName: String?.none), count: 51))
            #expect(many.status == 400)
            #expect(many.errorStatus == "INVALID_ARGUMENT")
            #expect(many.errorMessage == "Request must have less than 50 items.")
            let fifty = try api.batchCreate(Array(repeating: (token: token, fileName: String?.none), count: 50))
            #expect(fifty.status == 200)
            #expect(results(fifty).count == 50)
            #expect(try api.post("/v1/mediaItems:batchCreate", ["newMediaItems": [Any]()]).status == 400)
        }
    }

    @Test("per-item failures inside a 200: garbage token and non-media bytes get code 3, others succeed in order")
    func perItemFailures() async throws {
        try await withEmulator { emu in
            let api = try APIClient(emu)
            let good1 = try api.uploadToken(TestMedia.jpeg(), name: "a.jpg")
            let text = try api.uploadToken(Data("this is a text file, not a photo\n".utf8), name: "notes.jpg")
            let good2 = try api.uploadToken(TestMedia.png(), name: "b.png")
            let r = try api.batchCreate([(good1, nil), ("garbage-token", nil), (text, nil), (good2, nil)])
            #expect(r.status == 200)
            let res = results(r)
            #expect(res.count == 4)
            #expect(res.map { $0["uploadToken"] as? String } == [good1, "garbage-token", text, good2])
            #expect(status(res[0])["code"] == nil)
            #expect(status(res[0])["message"] as? String == "Success")
            for bad in [res[1], res[2]] {
                #expect(status(bad)["code"] as? Int == 3)
                #expect(status(bad)["message"] as? String == "Failed: There was an error while trying to create this media item.")
                #expect(bad["mediaItem"] == nil)
            }
            #expect(item(res[3])["mimeType"] as? String == "image/png")
            #expect(item(res[0])["mimeType"] as? String == "image/jpeg")
            #expect(item(res[0])["baseUrl"] == nil)
        }
    }

    @Test("fileName overrides the upload header name; the header name is used otherwise; description kept")
    func fileNames() async throws {
        try await withEmulator { emu in
            let api = try APIClient(emu)
            let t1 = try api.uploadToken(TestMedia.jpeg(), name: "header name.jpg")
            let t2 = try api.uploadToken(TestMedia.jpeg(), name: "header2.jpg")
            let r = try api.batchCreate([(t1, "override.jpg"), (t2, nil)], descriptions: ["A caption", ""])
            let res = results(r)
            #expect(item(res[0])["filename"] as? String == "override.jpg")
            #expect(item(res[0])["description"] as? String == "A caption")
            #expect(item(res[1])["filename"] as? String == "header2.jpg")
            #expect(item(res[1])["description"] == nil)
            let long = try api.batchCreate([(t1, String(repeating: "x", count: 256))])
            #expect(long.status == 400)
            let longDesc = try api.batchCreate([(t1, nil)], descriptions: [String(repeating: "d", count: 1001)])
            #expect(longDesc.status == 400)
        }
    }

    @Test("EXIF DateTimeOriginal (with or without OffsetTimeOriginal, both byte orders) sets creationTime; Make/Model; sizes as strings")
    func exifDates() async throws {
        try await withEmulator { emu in
            let api = try APIClient(emu)
            let withOffset = try api.create(TestMedia.jpeg(width: 4032, height: 3024, exif: TestExif(
                dateTimeOriginal: "2019:07:04 12:30:00", offsetTimeOriginal: "+02:00", make: "Canon", model: "EOS 5D", gps: true)))
            #expect(meta(withOffset)["creationTime"] as? String == "2019-07-04T10:30:00Z")
            #expect(meta(withOffset)["width"] as? String == "4032")
            #expect(meta(withOffset)["height"] as? String == "3024")
            let photo = meta(withOffset)["photo"] as? [String: Any]
            #expect(photo?["cameraMake"] as? String == "Canon")
            #expect(photo?["cameraModel"] as? String == "EOS 5D")
            let utc = try api.create(TestMedia.jpeg(exif: TestExif(dateTimeOriginal: "2001:02:03 04:05:06", littleEndian: true)))
            #expect(meta(utc)["creationTime"] as? String == "2001-02-03T04:05:06Z")
        }
    }

    @Test("without EXIF the creation time is the upload time on the emulator clock")
    func noExifUsesUploadTime() async throws {
        try await withEmulator { emu in
            try emu.advanceClock(400 * 86_400)
            let api = try APIClient(emu)
            let now = try emu.clockNow()
            let it = try api.create(TestMedia.jpeg())
            let t = try #require(parseRFC3339(meta(it)["creationTime"] as? String ?? ""))
            #expect(abs(t - now) < 60)
            let png = try api.create(TestMedia.png(width: 33, height: 44), name: "p.png")
            #expect(meta(png)["width"] as? String == "33")
            #expect(meta(png)["height"] as? String == "44")
        }
    }

    @Test("same bytes twice: the same media item id, the first filename kept, no duplicate")
    func dedupe() async throws {
        try await withEmulator { emu in
            let api = try APIClient(emu)
            let bytes = TestMedia.jpeg()
            let first = try api.create(bytes, name: "first.jpg")
            let second = try api.create(bytes, name: "second.jpg")
            #expect(first["id"] as? String != nil)
            #expect(second["id"] as? String == first["id"] as? String)
            #expect(second["filename"] as? String == "first.jpg")
            let t1 = try api.uploadToken(bytes, name: "x.jpg"), t2 = try api.uploadToken(bytes, name: "y.jpg")
            let both = results(try api.batchCreate([(t1, "z.jpg"), (t2, nil)]))
            #expect(both.map { item($0)["id"] as? String } == [first["id"] as? String, first["id"] as? String])
        }
    }

    @Test("dedupe against a user-library item: batchCreate with albumId succeeds and adds it to the album")
    func dedupeForeign() async throws {
        try await withEmulator { emu in
            let api = try APIClient(emu)
            let bytes = TestMedia.jpeg()
            let seeded = try emu.control("POST", "seed", ["mediaItems": [["filename": "phone.jpg", "bytesBase64": bytes.base64EncodedString()]]])
            let seededID = try #require((seeded.object["mediaItems"] as? [[String: Any]])?.first?["id"] as? String)
            let album = try emu.seedAlbum(title: "App album", clientId: api.clientID)
            let it = try api.create(bytes, name: "mine.jpg", albumId: album)
            #expect(it["id"] as? String == seededID)
            #expect(it["filename"] as? String == "phone.jpg")
            #expect(try emu.albumItems(album) == [seededID])
        }
    }

    @Test("albums: foreign album 400 \"No permission…\", albumPosition without albumId 400, album item limit 400")
    func albumRules() async throws {
        try await withEmulator(["--knob", "maxAlbumItems=2"]) { emu in
            let api = try APIClient(emu)
            let token = try api.uploadToken(TestMedia.jpeg())
            let foreign = try emu.seedAlbum(title: "Other app", clientId: "client-b.apps.googleusercontent.com")
            let userAlbum = try emu.seedAlbum(title: "User's own", clientId: nil)
            for a in [foreign, userAlbum, "no-such-album"] {
                let r = try api.batchCreate([(token, nil)], albumId: a)
                #expect(r.status == 400)
                #expect(r.errorStatus == "INVALID_ARGUMENT")
                #expect(r.errorMessage == "No permission to add media items to this album.")
            }
            let noAlbum = try api.batchCreate([(token, nil)], position: ["position": "FIRST_IN_ALBUM"])
            #expect(noAlbum.status == 400)
            #expect(noAlbum.errorStatus == "INVALID_ARGUMENT")
            let mine = try emu.seedAlbum(title: "Mine", clientId: api.clientID)
            let t2 = try api.uploadToken(TestMedia.jpeg()), t3 = try api.uploadToken(TestMedia.jpeg())
            #expect(try api.batchCreate([(token, nil), (t2, nil)], albumId: mine).status == 200)
            let over = try api.batchCreate([(t3, nil)], albumId: mine)
            #expect(over.status == 400)
            #expect(over.errorStatus == "INVALID_ARGUMENT")
            #expect(try emu.albumItems(mine).count == 2)
        }
    }

    @Test("albumPosition: LAST, FIRST_IN_ALBUM and AFTER_MEDIA_ITEM place items between their neighbours")
    func positions() async throws {
        try await withEmulator { emu in
            let api = try APIClient(emu)
            let album = try emu.seedAlbum(title: "Ordered", clientId: api.clientID)
            let tA = try api.uploadToken(TestMedia.jpeg()), tB = try api.uploadToken(TestMedia.jpeg())
            let ab = results(try api.batchCreate([(tA, nil), (tB, nil)], albumId: album)).map { item($0)["id"] as? String ?? "" }
            let c = try api.create(TestMedia.jpeg(), albumId: album, position: ["position": "FIRST_IN_ALBUM"])["id"] as? String ?? ""
            let d = try api.create(TestMedia.jpeg(), albumId: album,
                                   position: ["position": "AFTER_MEDIA_ITEM", "relativeMediaItemId": ab[0]])["id"] as? String ?? ""
            let e = try api.create(TestMedia.jpeg(), albumId: album, position: ["position": "LAST_IN_ALBUM"])["id"] as? String ?? ""
            #expect(try emu.albumItems(album) == [c, ab[0], d, ab[1], e])
            let t = try api.uploadToken(TestMedia.jpeg())
            let bad = try api.batchCreate([(t, nil)], albumId: album, position: ["position": "AFTER_MEDIA_ITEM", "relativeMediaItemId": "nope"])
            #expect(bad.status == 400)
        }
    }

    @Test("uploadTokenSingleUse: a reused token fails per item; by default it still works")
    func singleUse() async throws {
        try await withEmulator { emu in
            let api = try APIClient(emu)
            let token = try api.uploadToken(TestMedia.jpeg())
            #expect(status(results(try api.batchCreate([(token, nil)]))[0])["code"] == nil)
            #expect(status(results(try api.batchCreate([(token, nil)]))[0])["code"] == nil)
            #expect(try emu.control("PATCH", "knobs", ["uploadTokenSingleUse": true]).status == 200)
            let t2 = try api.uploadToken(TestMedia.jpeg())
            #expect(status(results(try api.batchCreate([(t2, nil)]))[0])["code"] == nil)
            #expect(status(results(try api.batchCreate([(t2, nil)]))[0])["code"] as? Int == 3)
        }
    }

    @Test("a token from another OAuth client and a photo over maxPhotoBytes fail per item")
    func foreignTokenAndPhotoSize() async throws {
        try await withEmulator(["--knob", "maxPhotoBytes=300"]) { emu in
            let api = try APIClient(emu)
            let other = try APIClient(emu, clientID: "client-b.apps.googleusercontent.com")
            let small = try other.uploadToken(TestMedia.jpeg(salt: "s"))
            let big = try api.uploadToken(TestMedia.jpeg(salt: String(repeating: "b", count: 400)))
            let mine = try api.uploadToken(TestMedia.jpeg(salt: "m"))
            let res = results(try api.batchCreate([(small, nil), (big, nil), (mine, nil)]))
            #expect(res.map { status($0)["code"] as? Int } == [3, 3, nil])
        }
    }

    @Test("videos start PROCESSING and turn READY after videoProcessingSeconds on the emulator clock")
    func videoStatus() async throws {
        try await withEmulator(["--knob", "videoProcessingSeconds=30"]) { emu in
            let api = try APIClient(emu)
            let bytes = TestMedia.mp4()
            let v = try api.create(bytes, name: "clip.mp4")
            #expect(v["mimeType"] as? String == "video/mp4")
            let video = meta(v)["video"] as? [String: Any]
            #expect(video?["status"] as? String == "PROCESSING")
            #expect(meta(v)["photo"] == nil)
            try emu.advanceClock(31)
            let api2 = try APIClient(emu)
            // The same bytes again: the same item, now READY.
            let again = try api2.create(bytes, name: "again.mp4")
            #expect(again["id"] as? String == v["id"] as? String)
            #expect((meta(again)["video"] as? [String: Any])?["status"] as? String == "READY")
        }
    }

    @Test("malformed media (truncated JPEGs, wild EXIF offsets) never crashes the server")
    func malformedMedia() async throws {
        try await withEmulator(["--knob", "batchCreateReturnsBaseURL=true"]) { emu in
            let api = try APIClient(emu)
            let full = TestMedia.jpeg(exif: TestExif(dateTimeOriginal: "2020:01:01 00:00:00", make: "M", gps: true))
            var tokens: [(token: String, fileName: String?)] = []
            for n in stride(from: 3, to: full.count, by: max(1, full.count / 40)) {
                tokens.append((try api.uploadToken(full.prefix(n)), nil))
            }
            // Every byte of the TIFF block set to 0xFF in turn would be slow; flip whole regions instead.
            var wild = [UInt8](full)
            for i in 20..<min(wild.count - 30, 120) where i % 3 == 0 { wild[i] = 0xFF }
            tokens.append((try api.uploadToken(Data(wild)), nil))
            let r = try api.batchCreate(Array(tokens.prefix(50)))
            #expect(r.status == 200)
            let res = results(r)
            #expect(res.count == min(50, tokens.count))
            for x in res {
                if let base = item(x)["baseUrl"] as? String {
                    #expect([200, 400].contains(try RawHTTP.request("GET", base + "=d").status))
                }
            }
            #expect(try RawHTTP.request("GET", emu.baseURL + "/emulator/v1/health").status == 200)
        }
    }
}
