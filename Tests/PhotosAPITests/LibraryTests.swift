// Library API through the emulator: every endpoint's success and error paths, pagination across short/empty pages.
import Foundation
import PhotosAPI
import Synchronization
import Testing

/// Uploads `n` unique small JPEGs and creates them (optionally into an album); returns the created items.
func createItems(_ client: PhotosClient, _ dir: TempDir, count n: Int, albumId: String? = nil) async throws -> [MediaItem] {
    var specs: [NewMediaItem] = []
    for i in 0..<n {
        let path = writeFile(dir, "img\(i)-\(UUID().uuidString.prefix(6)).jpg", makeJPEG())
        let token = try await client.upload(file: path, mimeType: "image/jpeg", fileName: "IMG_\(i).jpg")
        specs.append(NewMediaItem(uploadToken: token, fileName: "IMG_\(i).jpg"))
    }
    var out: [MediaItem] = []
    var start = 0
    while start < specs.count {
        let batch = Array(specs[start..<min(start + 50, specs.count)])
        let results = try await client.batchCreate(batch, albumId: albumId)
        for r in results {
            guard let m = r.mediaItem, r.succeeded else { throw TestFailure("create failed: \(r.status)") }
            out.append(m)
        }
        start += 50
    }
    return out
}

@Suite("PhotosAPI library endpoints against the emulator")
struct LibraryTests {
    @Test("albums: create, get, list, patch; get of an unknown id is NOT_FOUND")
    func albums() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            let a = try await c.createAlbum(title: "Trip 2025")
            #expect(!a.id.isEmpty && a.title == "Trip 2025" && a.isWriteable)
            let g = try await c.getAlbum(a.id)
            #expect(g.id == a.id && g.title == "Trip 2025")
            let all = try await c.albums().collect()
            #expect(all.map(\.id).contains(a.id))
            let p = try await c.patchAlbum(a.id, title: "Trip 2025 (edited)")
            #expect(p.title == "Trip 2025 (edited)")
            do throws(PhotosAPIError) {
                _ = try await c.getAlbum("ALvc__doesnotexist" + String(repeating: "x", count: 60))
                Issue.record("expected an error")
            } catch let e {
                guard case .api(_, let h, let s) = e else { Issue.record("got \(e)"); return }
                #expect(h == 404 || h == 400)
                #expect(!s.status.isEmpty)
            }
            do throws(PhotosAPIError) {
                _ = try await c.createAlbum(title: String(repeating: "t", count: 501))
                Issue.record("expected INVALID_ARGUMENT")
            } catch let e {
                guard case .api(_, 400, let s) = e else { Issue.record("got \(e)"); return }
                #expect(s.status == "INVALID_ARGUMENT")
            }
        }
    }

    @Test("media items: upload, batchCreate into an album, search, list, get, batchGet, patch, add/remove")
    func mediaItems() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            let album = try await c.createAlbum(title: "Items")
            let items = try await createItems(c, acct.dir, count: 3, albumId: album.id)
            #expect(items.count == 3)
            #expect(items[0].filename == "IMG_0.jpg")
            let inAlbum = try await c.mediaItems(inAlbum: album.id).collect()
            #expect(Set(inAlbum.map(\.id)) == Set(items.map(\.id)))
            let listed = try await c.mediaItems().collect()
            #expect(Set(items.map(\.id)).isSubset(of: Set(listed.map(\.id))))
            let one = try await c.getMediaItem(items[1].id)
            #expect(one.id == items[1].id && !one.baseUrl.isEmpty && one.mimeType == "image/jpeg")
            let batch = try await c.batchGetMediaItems([items[0].id, "bogus-id"])
            #expect(batch.count == 2)
            #expect(batch[0].mediaItem?.id == items[0].id)
            #expect(batch[1].mediaItem == nil && (batch[1].status?.code ?? 0) != 0)
            let patched = try await c.patchMediaItem(items[2].id, description: "a caption")
            #expect(patched.description == "a caption")
            try await c.batchRemoveMediaItems(albumId: album.id, mediaItemIds: [items[0].id])
            #expect(try await c.mediaItems(inAlbum: album.id).collect().count == 2)
            try await c.batchAddMediaItems(albumId: album.id, mediaItemIds: [items[0].id])
            #expect(try await c.mediaItems(inAlbum: album.id).collect().count == 3)
            // Search with both albumId and filters: Google answers 400.
            do throws(PhotosAPIError) {
                _ = try await c.searchMediaItems(albumId: album.id, filters: SearchFilters())
                var f = SearchFilters(); f.mediaType = "PHOTO"
                _ = try await c.searchMediaItems(albumId: album.id, filters: f)
                Issue.record("expected 400")
            } catch let e {
                guard case .api(_, 400, _) = e else { Issue.record("got \(e)"); return }
            }
            // Adding an unknown item: 400 "Request contains an invalid media item id."
            do throws(PhotosAPIError) {
                try await c.batchAddMediaItems(albumId: album.id, mediaItemIds: ["nope"])
                Issue.record("expected 400")
            } catch let e {
                guard case .api(_, 400, let s) = e else { Issue.record("got \(e)"); return }
                #expect(s.message.contains("invalid media item id"))
            }
        }
    }

    @Test("batchCreate reports per-item failures for garbage tokens and non-media bytes")
    func batchCreateItemFailures() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            let txt = writeFile(acct.dir, "notes.txt", Data("just text, not an image".utf8))
            let t = try await c.upload(file: txt, mimeType: "text/plain", fileName: "notes.txt")
            let good = try await c.upload(file: writeFile(acct.dir, "ok.jpg", makeJPEG()), mimeType: "image/jpeg")
            let r = try await c.batchCreate([NewMediaItem(uploadToken: "garbage-token"), NewMediaItem(uploadToken: t), NewMediaItem(uploadToken: good)])
            #expect(r.count == 3)
            #expect(!r[0].succeeded && r[0].status.code == 3)
            #expect(!r[1].succeeded && r[1].status.code == 3)
            #expect(r[2].succeeded)
            #expect(r[2].uploadToken == good)
            // More than 50 items: 400.
            do throws(PhotosAPIError) {
                _ = try await c.batchCreate((0..<51).map { NewMediaItem(uploadToken: "t\($0)") })
                Issue.record("expected 400")
            } catch let e {
                guard case .api(_, 400, let s) = e else { Issue.record("got \(e)"); return }
                #expect(s.status == "INVALID_ARGUMENT")
            }
        }
    }

    @Test("pagination follows nextPageToken across short and empty pages")
    func shortPages() async throws {
        try await withEmulator(["--knob", "shortPageEvery=2"]) { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            let album = try await c.createAlbum(title: "Pages")
            let items = try await createItems(c, acct.dir, count: 12, albumId: album.id)
            for i in 0..<7 { _ = try await c.createAlbum(title: "A\(i)") }
            var pages: [Int] = []
            var token: String? = nil
            var seen: [String] = []
            for _ in 0..<50 {
                let p = try await c.searchMediaItems(albumId: album.id, pageSize: 4, pageToken: token)
                pages.append(p.items.count); seen += p.items.map(\.id)
                token = p.nextPageToken
                if token == nil { break }
            }
            #expect(Set(seen) == Set(items.map(\.id)))
            #expect(seen.count == 12, "no duplicates across pages")
            #expect(pages.contains { $0 < 4 } && pages.count > 3, "the knob made some pages short: \(pages)")
            let viaSequence = try await c.mediaItems(inAlbum: album.id, pageSize: 4).collect()
            #expect(viaSequence.map(\.id) == seen)
            let albums = try await c.albums(pageSize: 2).collect()
            #expect(albums.count == 8)
            let listed = try await c.mediaItems(pageSize: 5).collect()
            #expect(listed.count == 12)
        }
    }

    @Test("downloads: =d into a file, Range, a callback, HEAD size; an expired base URL is typed")
    func downloads() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            let item = try await createItems(c, acct.dir, count: 1)[0]
            let fresh = try await c.getMediaItem(item.id)
            let target = acct.dir.file("out.jpg")
            let n = try await c.download(baseUrl: fresh.baseUrl, parameters: "d", to: target)
            let bytes = try Data(contentsOf: URL(fileURLWithPath: target))
            #expect(n == Int64(bytes.count) && bytes.count > 0)
            #expect(bytes.prefix(2) == Data([0xFF, 0xD8]))
            let size = try await c.mediaSize(baseUrl: fresh.baseUrl)
            #expect(size == Int64(bytes.count))
            let part = try await c.downloadData(baseUrl: fresh.baseUrl, range: ByteRange(start: 2, end: 9))
            #expect(part == bytes[2...9])
            let collected = Collector()
            let streamed = try await c.download(baseUrl: fresh.baseUrl, parameters: "d") { chunk in collected.add(Data(chunk)) }
            #expect(streamed == Int64(bytes.count) && collected.data == bytes)
            try await emu.advanceClock(3700)
            do throws(PhotosAPIError) {
                _ = try await c.download(baseUrl: fresh.baseUrl, parameters: "d", to: target)
                Issue.record("expected baseURLExpired")
            } catch let e {
                guard case .baseURLExpired = e else { Issue.record("got \(e)"); return }
            }
        }
    }
}

extension LibraryTests {
    @Test("a download broken mid-body resumes with a Range; the resumed part matches a clean download")
    func downloadResume() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            let path = writeFile(acct.dir, "big.jpg", makeJPEG(padding: 600_000))
            let token = try await c.upload(file: path, mimeType: "image/jpeg", fileName: "big.jpg")
            guard let m = try await c.batchCreate([NewMediaItem(uploadToken: token)]).first?.mediaItem else {
                Issue.record("create failed"); return
            }
            let fresh = try await c.getMediaItem(m.id)
            let clean = acct.dir.file("clean")
            let n = try await c.download(baseUrl: fresh.baseUrl, to: clean)
            #expect(n > 500_000)
            try await emu.faults(["media:reset:count=1:after=200000"])
            let before = c.counters.count("media")
            let broken = acct.dir.file("broken")
            let n2 = try await c.download(baseUrl: fresh.baseUrl, to: broken)
            #expect(c.counters.count("media") - before == 2, "one broken transfer, one ranged resume")
            #expect(n2 == n)
            let a = try Data(contentsOf: URL(fileURLWithPath: broken)), b = try Data(contentsOf: URL(fileURLWithPath: clean))
            #expect(a.count == b.count)
            // The emulator's reset fault sends a synthetic filler for the first 200000 bytes (not the media bytes), so only
            // the part fetched by the ranged resume can be compared with a clean download.
            #expect(a.dropFirst(200_000) == b.dropFirst(200_000))
            // The same through a callback: every byte delivered once.
            try await emu.faults(["media:reset:count=1:after=200000"])
            let collected = Collector()
            let n3 = try await c.download(baseUrl: fresh.baseUrl, parameters: "d") { collected.add(Data($0)) }
            #expect(n3 == n && collected.data.count == b.count)
            #expect(collected.data.dropFirst(200_000) == b.dropFirst(200_000))
        }
    }
}

extension LibraryTests {
    /// The HTTP status and google status of a failed call.
    func failure<T>(_ body: () async throws -> T) async -> (Int, String)? {
        do { _ = try await body(); return nil } catch {
            if case let .api(_, h, s)? = error as? PhotosAPIError { return (h, s.status) }
            return (-1, "\(error)")
        }
    }

    @Test("error paths answer Google's statuses through the typed error")
    func errorPaths() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            let album = try await c.createAlbum(title: "Errors")
            let item = try await createItems(c, acct.dir, count: 1, albumId: album.id)[0]
            let unknown = "ALvc__" + String(repeating: "Q", count: 70)
            #expect(await failure { try await c.getMediaItem(unknown) }?.0 == 404)
            #expect(await failure { try await c.patchAlbum(album.id) }?.0 == 400, "empty updateMask")
            #expect(await failure { try await c.batchGetMediaItems((0..<51).map { "id\($0)" }) }?.0 == 400)
            #expect(await failure { try await c.batchRemoveMediaItems(albumId: album.id, mediaItemIds: [item.id, item.id]) }?.0 == 400)
            #expect(await failure { try await c.batchAddMediaItems(albumId: unknown, mediaItemIds: [item.id]) }.map { $0.0 == 400 || $0.0 == 404 } == true)
            #expect(await failure { try await c.searchMediaItems(orderBy: "MediaMetadata.creation_time") }?.0 == 400)
            var two = SearchFilters(); two.dates = (1...6).map { SearchFilters.DateValue(year: 2000 + $0) }
            #expect(await failure { try await c.searchMediaItems(filters: two) }?.0 == 400, "more than 5 dates")
            let picker = try await TestAccount(emu, scopes: [PhotosScopes.picker]).client()
            #expect(await failure { try await picker.listPickedItems(sessionId: "nope") }.map { $0.0 == 404 || $0.0 == 400 } == true)
            // A client without the edit scope cannot patch.
            let reader = try await TestAccount(emu, scopes: [PhotosScopes.readAppCreated, PhotosScopes.appendOnly])
            do throws(PhotosAPIError) {
                _ = try await reader.client().patchMediaItem(item.id, description: "x")
                Issue.record("expected a refusal")
            } catch {
                guard case .insufficientScopes = error else { Issue.record("got \(error)"); return }
            }
        }
    }
}

/// Collects streamed chunks.
final class Collector: Sendable {
    private let buf = Mutex<Data>(Data())
    func add(_ d: Data) { buf.withLock { $0.append(d) } }
    var data: Data { buf.withLock { $0 } }
}
