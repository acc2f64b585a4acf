// Read side: the tree, names, sizes, reads, refreshes, base-URL expiry, download faults, xattrs, the content cache.
import APITestSupport
import Foundation
import Harness
import PhotosAPI
@testable import PhotosFS
import Testing

/// The app the test accounts belong to (seeded items must be created by it to be visible).
let testClientId = "client-a.apps.googleusercontent.com"

/// Seeds items (filename, RFC 3339 capture time) and albums (title, item indexes) for the test app; returns the
/// item ids in order and the album ids in order.
@discardableResult
func seed(_ emu: EmulatorProcess, items: [(String, String)], albums: [(String, [Int])] = []) async throws -> (items: [String], albums: [String]) {
    let itemSpecs: [[String: Any]] = items.enumerated().map { i, it in
        ["ref": "r\(i)", "clientId": testClientId, "filename": it.0, "creationTime": it.1]
    }
    let albumSpecs: [[String: Any]] = albums.map { a in
        ["title": a.0, "clientId": testClientId, "items": a.1.map { "r\($0)" }]
    }
    let (status, o) = try await emu.control("POST", "seed", ["mediaItems": itemSpecs, "albums": albumSpecs])
    guard status == 200 else { throw TestFailure("seed failed: \(status) \(o)") }
    let ids = (o["mediaItems"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    let albumIds = (o["albums"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
    return (ids, albumIds)
}


/// Polls `condition` every 50 ms for at most `seconds`.
func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async throws -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    return try await condition()
}

@Suite(.serialized)
struct ReadTests {
    @Test("the tree: album titles nest, duplicates get {ID}, media/ by date (UTC, only days with items), modes", arguments: FSMode.allCases)
    func tree(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            let s = try await seed(emu, items: [
                ("a.jpg", "2023-05-01T10:00:00Z"), ("a.jpg", "2023-05-02T23:30:00Z"), ("b.jpg", "2024-01-15T00:00:01Z"),
                ("c.jpg", "2024-01-15T12:00:00Z"),
            ], albums: [
                ("Trips/2024/Rome", [0, 1]), ("Trips/2024/Paris", [2]), ("Solo", [3]), ("Dup", [2]), ("Dup", [3]),
                ("Slash/", [0]),
            ])
            #expect(try await fs.list("") == ["album", "media", "upload"])
            #expect(try await fs.list("album") == ["Dup {\(s.albums[3])}", "Dup {\(s.albums[4])}", "Slash", "Solo", "Trips"].sorted())
            #expect(try await fs.list("album/Trips") == ["2024"])
            #expect(try await fs.list("album/Trips/2024") == ["Paris", "Rome"])
            #expect(try await fs.list("album/Trips/2024/Rome") == ["a {\(s.items[0])}.jpg", "a {\(s.items[1])}.jpg"].sorted())
            #expect(try await fs.list("album/Solo") == ["c.jpg"])
            #expect(try await fs.list("media") == ["all", "by-day", "by-month", "by-year"])
            #expect(try await fs.list("media/all").count == 4)
            #expect(try await fs.list("media/by-year") == ["2023", "2024"])
            #expect(try await fs.list("media/by-year/2024") == ["b.jpg", "c.jpg"])
            #expect(try await fs.list("media/by-month/2023") == ["2023-05"])
            #expect(try await fs.list("media/by-month/2023/2023-05").count == 2)
            #expect(try await fs.list("media/by-day/2023") == ["2023-05-01", "2023-05-02"])
            #expect(try await fs.list("media/by-day/2024") == ["2024-01-15"])
            #expect(try await fs.list("media/by-day/2024/2024-01-15") == ["b.jpg", "c.jpg"])
            await expectErrno(ENOENT, "a day without items") { _ = try await fs.list("media/by-day/2024/2024-01-16") }
            await expectErrno(ENOENT, "missing album") { _ = try await fs.stat("album/Nope") }
            // Modes and times.
            #expect(try await fs.stat("").permissions == 0o555)
            #expect(try await fs.stat("media/all").permissions == 0o555)
            #expect(try await fs.stat("album").permissions == 0o755)
            let solo = try await fs.stat("album/Solo")
            #expect(solo.isDirectory && solo.permissions == 0o755)
            #expect(solo.mtime == Date(timeIntervalSince1970: 1_705_320_000))   // newest item: 2024-01-15T12:00:00Z
            let c = try await fs.stat("album/Solo/c.jpg")
            #expect(!c.isDirectory && c.permissions == 0o644 && c.mtime == Date(timeIntervalSince1970: 1_705_320_000))
            #expect(try await fs.stat("media/all/c.jpg").ino == c.ino, "one inode per item")
        }
    }

    @Test("st_size equals the bytes read, which equal the bytes the emulator serves for =d", arguments: FSMode.allCases)
    func sizesMatchBytes(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            let s = try await seed(emu, items: [("x.jpg", "2022-02-02T02:02:02Z")], albums: [("Bytes", [0])])
            let st = try await fs.stat("album/Bytes/x.jpg")
            let data = try await fs.read("album/Bytes/x.jpg")
            let client = try await TestAccount(emu).client()
            let item = try await client.getMediaItem(s.items[0])
            let served = try await client.downloadData(baseUrl: item.baseUrl, parameters: "d")
            #expect(data == served)
            #expect(st.size == Int64(served.count))
            #expect(try await fs.stat("media/all/x.jpg").size == Int64(served.count))
            #expect(try await fs.read("media/all/x.jpg") == served, "second read from the content cache")
        }
    }

    @Test("listing costs no HEAD; the first stat one; the second none", arguments: FSMode.allCases)
    func headOnlyAtFirstStat(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await seed(emu, items: [("h1.jpg", "2021-01-01T00:00:00Z"), ("h2.jpg", "2021-01-02T00:00:00Z")], albums: [("Heads", [0, 1])])
            _ = try await fs.list("album/Heads")
            _ = try await fs.list("media/all")
            #expect(try await emu.requestCounts()["media", default: 0] == 0)
            _ = try await fs.stat("album/Heads/h1.jpg")
            #expect(try await emu.requestCounts()["media", default: 0] == 1)
            _ = try await fs.stat("album/Heads/h1.jpg")
            _ = try await fs.stat("media/all/h1.jpg")
            #expect(try await emu.requestCounts()["media", default: 0] == 1)
        }
    }

    @Test("-o size=lazy: size 0 until a download learns it, no HEAD", arguments: FSMode.allCases)
    func lazySize(mode: FSMode) async throws {
        try await withFS(mode, options: testOptions { $0.size = .lazy }) { fs, emu in
            try await seed(emu, items: [("l.jpg", "2021-01-01T00:00:00Z")], albums: [("Lazy", [0])])
            #expect(try await fs.stat("album/Lazy/l.jpg").size == 0)
            let data = try await fs.read("album/Lazy/l.jpg")
            #expect(!data.isEmpty)
            #expect(try await fs.stat("album/Lazy/l.jpg").size == Int64(data.count))
            #expect(try await emu.requestCounts()["media", default: 0] == 1, "one GET, no HEAD")
        }
    }

    @Test("a remount lists from SQLite with no API request until the TTL passes")
    func remountWithoutAPI() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            try await seed(emu, items: [("r.jpg", "2020-06-01T00:00:00Z")], albums: [("Nested/Remount", [0])])
            let fs1 = try makeCore(account: account, cacheDir: cache.path, options: testOptions())
            let first = CoreFS(fs: fs1)
            let expected = try await (first.list("album"), first.list("album/Nested/Remount"), first.list("media/all"),
                                      first.list("media/by-day/2020"), first.stat("album/Nested/Remount/r.jpg").size)
            _ = await fs1.shutdown(grace: 0)
            let before = try await emu.requestCounts().values.reduce(0, +)
            let fs2 = CoreFS(fs: try makeCore(account: account, cacheDir: cache.path, options: testOptions()))
            let again = try await (fs2.list("album"), fs2.list("album/Nested/Remount"), fs2.list("media/all"),
                                   fs2.list("media/by-day/2020"), fs2.stat("album/Nested/Remount/r.jpg").size)
            #expect(again == expected)
            #expect(try await emu.requestCounts().values.reduce(0, +) == before, "0 API requests after a remount")
            _ = await fs2.fs.shutdown(grace: 0)
        }
    }

    @Test("after -o dir_cache_time a stale listing is served and refreshed in the background (ManualClock)")
    func ttlRefresh() async throws {
        try await withClockedCore(options: testOptions { $0.dirCacheTime = 60 }) { _, fs, clock, emu in
            try await seed(emu, items: [("t.jpg", "2020-06-01T00:00:00Z")], albums: [("Before", [0])])
            #expect(try await fs.list("album") == ["Before"])
            let remote = try await TestAccount(emu).client()
            _ = try await remote.createAlbum(title: "After")
            #expect(try await fs.list("album") == ["Before"], "fresh: served from SQLite")
            let lists = try await emu.requestCounts()["albums.list", default: 0]
            clock.advance(61)
            #expect(try await eventually { try await fs.list("album") == ["After", "Before"] })
            #expect(try await emu.requestCounts()["albums.list", default: 0] == lists + 1, "one background refresh")
        }
    }

    @Test("setxattr user.gphotos.refresh forces a refresh: new albums, new and removed album items", arguments: FSMode.allCases)
    func forcedRefresh(mode: FSMode) async throws {
        try await withFS(mode, options: testOptions { $0.dirCacheTime = 3600 }) { fs, emu in
            let s = try await seed(emu, items: [("f1.jpg", "2020-01-01T00:00:00Z"), ("f2.jpg", "2020-01-02T00:00:00Z")],
                                   albums: [("Forced", [0, 1])])
            #expect(try await fs.list("album") == ["Forced"])
            #expect(try await fs.list("album/Forced") == ["f1.jpg", "f2.jpg"])
            let remote = try await TestAccount(emu).client()
            _ = try await remote.createAlbum(title: "Remote/Made")
            try await remote.batchRemoveMediaItems(albumId: s.albums[0], mediaItemIds: [s.items[0]])
            #expect(try await fs.list("album") == ["Forced"])
            try await fs.setxattr("album", "user.gphotos.refresh", Data("1".utf8))
            #expect(try await fs.list("album") == ["Forced", "Remote"])
            #expect(try await fs.list("album/Remote") == ["Made"])
            #expect(try await fs.list("album/Forced") == ["f1.jpg", "f2.jpg"], "album/ refresh leaves album contents alone")
            try await fs.setxattr("album/Forced", "user.gphotos.refresh", Data())
            #expect(try await fs.list("album/Forced") == ["f2.jpg"])
            await expectErrno(ENOENT, "removed from the album") { _ = try await fs.stat("album/Forced/f1.jpg") }
            #expect(try await fs.list("media/all") == ["f1.jpg", "f2.jpg"], "still in the library")
            await expectErrno(ENOTSUP, "other xattrs") { try await fs.setxattr("album", "user.other", Data()) }
            await expectErrno(EPERM, "read-only gphotos xattrs") { try await fs.setxattr("album/Forced/f2.jpg", "user.gphotos.id", Data()) }
        }
    }

    @Test("a refresh whose answer left Google before a local change does not undo it (unlink, album rename)",
          arguments: FSMode.allCases)
    func refreshOvertakenByLocalChange(mode: FSMode) async throws {
        try await withFS(mode, options: testOptions { $0.dirCacheTime = 3600 }) { fs, emu in
            try await seed(emu, items: [("x.jpg", "2020-01-01T00:00:00Z"), ("y.jpg", "2020-01-02T00:00:00Z")], albums: [("Race", [0, 1])])
            #expect(try await fs.list("album/Race") == ["x.jpg", "y.jpg"])
            /// Runs `change` while a forced refresh holds an answer of `endpoint` from before the change: the
            /// answer is computed at once and delivered 3 s later; the change starts 1 s in (the request log only
            /// records a request once answered, so the margin is time). The refresh is the root's (it covers every
            /// album): the kernel holds a directory's lock during setxattr on it, so through the mount a change inside
            /// the refreshed directory itself would wait for the refresh instead of racing it.
            func race(_ endpoint: String, _ change: () async throws -> Void) async throws {
                try await emu.faults(["\(endpoint):late:count=1:delay=3000"])
                let t0 = Date()
                let refresh = Task { try await fs.setxattr("", "user.gphotos.refresh", Data("1".utf8)) }
                try await Task.sleep(nanoseconds: 1_000_000_000)
                try await change()
                #expect(Date().timeIntervalSince(t0) < 3, "the change happened while the old answer was on its way")
                try await refresh.value
            }
            try await race("mediaItems.search") { try await fs.unlink("album/Race/x.jpg") }
            #expect(try await fs.list("album/Race") == ["y.jpg"])
            await expectErrno(ENOENT, "unlinked during the refresh") { _ = try await fs.stat("album/Race/x.jpg") }
            try await race("albums.list") { try await fs.rename("album/Race", "album/Renamed") }
            #expect(try await fs.list("album") == ["Renamed"])
            #expect(try await fs.list("album/Renamed") == ["y.jpg"])
        }
    }

    /// Found by the property test: an album refresh that started first wrote its page (with its older start) between
    /// the pages of a library refresh, which then took the item for gone: `ls` of the album was empty until the next
    /// refresh.
    @Test("an album refresh and a library refresh running together: the album keeps its item, media/all every item")
    func overlappingRefreshes() async throws {
        try await withClockedCore(options: testOptions { $0.dirCacheTime = 60 }) { core, fs, clock, emu in
            // keep.jpg is the newest: on the library's first page of 100.
            let items = [("keep.jpg", "2024-01-01T00:00:00Z")] + (0..<100).map { (String(format: "old%03d.jpg", $0), "2020-01-01T00:00:00Z") }
            try await seed(emu, items: items, albums: [("Both", [0])])
            #expect(try await fs.list("album/Both") == ["keep.jpg"])
            #expect(try await fs.list("media/all").count == 101)
            clock.advance(61)
            // The album's answer reaches us at 2.0 s, between the library's first page (1.2 s) and its second (2.4 s).
            try await emu.faults(["mediaItems.search:late:count=1:delay=2000", "mediaItems.list:late:count=2:delay=1200"])
            let t0 = Date()
            #expect(try await fs.list("album/Both") == ["keep.jpg"], "stale: served while the album refresh runs")
            #expect(try await fs.list("media/all").count == 101, "stale: served while the library refresh runs")
            #expect(try await eventually(20) { core.tree.state.withLock { $0.refreshing.isEmpty } })
            #expect(Date().timeIntervalSince(t0) >= 2.4, "both refreshes waited for their late answers")
            #expect(try await fs.list("album/Both") == ["keep.jpg"])
            #expect(try await fs.list("media/all").count == 101)
            #expect(try await fs.read("album/Both/keep.jpg").count > 0)
        }
    }

    @Test("an item added elsewhere while an album refresh and a library refresh run: the album and media/all show it")
    func albumPageAfterLibraryListed() async throws {
        try await withClockedCore(options: testOptions { $0.dirCacheTime = 60 }) { core, fs, clock, emu in
            let items = (0..<101).map { (String(format: "old%03d.jpg", $0), "2020-01-01T00:00:00Z") }
            let s = try await seed(emu, items: items, albums: [("Grow", [0])])
            #expect(try await fs.list("album/Grow") == ["old000.jpg"])
            #expect(try await fs.list("media/all").count == 101)
            clock.advance(61)
            // The library's pages are computed at 0 s (before new.jpg, the newest, which would be on it) and 1.5 s, and
            // arrive at 1.5 s and 3 s; the album's answer, computed at 2 s, holds new.jpg, added at about 0.5 s.
            try await emu.faults(["mediaItems.search:slow:count=1:delay=2000", "mediaItems.list:late:count=2:delay=1500"])
            let t0 = Date()
            _ = try await fs.list("album/Grow")   // stale: the album refresh starts first
            _ = try await fs.list("media/all")    // then the library refresh
            try await Task.sleep(nanoseconds: 500_000_000)
            let remote = try await TestAccount(emu).client()
            let cache = TempDir()
            let token = try await remote.upload(file: writeFile(cache, "new.jpg", makeJPEG()), mimeType: "image/jpeg", fileName: "new.jpg")
            let made = try await remote.batchCreate([NewMediaItem(uploadToken: token, fileName: "new.jpg")], albumId: s.albums[0])
            #expect(made.first?.mediaItem != nil)
            #expect(Date().timeIntervalSince(t0) < 1.8, "added before the album's answer was computed")
            #expect(try await eventually(20) { core.tree.state.withLock { $0.refreshing.isEmpty } })
            #expect(Date().timeIntervalSince(t0) >= 3, "both refreshes waited for their answers")
            #expect(try await fs.list("album/Grow") == ["new.jpg", "old000.jpg"])
            #expect(try await fs.list("media/all").contains("new.jpg"))
            #expect(try await fs.read("album/Grow/new.jpg").count > 0)
        }
    }

    @Test("a base URL the server refuses (60 min expiry) is renewed once and the read succeeds", arguments: FSMode.allCases)
    func baseURLExpiry(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await seed(emu, items: [("e.jpg", "2020-01-01T00:00:00Z")], albums: [("Expiry", [0])])
            _ = try await fs.list("album/Expiry")
            try await emu.advanceClock(61 * 60)
            try await emu.control("DELETE", "requests")
            let data = try await fs.read("album/Expiry/e.jpg")
            #expect(!data.isEmpty)
            #expect(try await fs.stat("album/Expiry/e.jpg").size == Int64(data.count))
            let recent = (try await emu.control("GET", "requests?limit=100").1["recent"] as? [[String: Any]]) ?? []
            let renewals = recent.filter { ($0["endpoint"] as? String) == "mediaItems.batchGet" && ($0["status"] as? Int) == 200 }
            #expect(renewals.count == 1, "one base-URL renewal (a 401 retry of it is the token's expiry, not ours)")
        }
    }

    @Test("a download that fails after retries: EIO, nothing cached; the next open downloads again", arguments: FSMode.allCases)
    func downloadFault(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await seed(emu, items: [("d.jpg", "2020-01-01T00:00:00Z")], albums: [("Faulty", [0])])
            let size = try await fs.stat("album/Faulty/d.jpg").size
            try await emu.faults(["media:500:count=20"])
            await expectErrno(EIO, "download fails") { _ = try await fs.read("album/Faulty/d.jpg") }
            try await emu.control("DELETE", "faults")
            let data = try await fs.read("album/Faulty/d.jpg")
            #expect(Int64(data.count) == size)
        }
    }

    @Test("a failed download leaves no file in the content cache")
    func downloadFaultLeavesNothing() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let core = try makeCore(account: account, cacheDir: cache.path, options: testOptions())
            let fs = CoreFS(fs: core)
            try await seed(emu, items: [("d.jpg", "2020-01-01T00:00:00Z")], albums: [("Faulty", [0])])
            _ = try await fs.stat("album/Faulty/d.jpg")
            try await emu.faults(["media:reset:count=20:after=10"])
            await expectErrno(EIO, "download fails") { _ = try await fs.read("album/Faulty/d.jpg") }
            #expect(try FileManager.default.contentsOfDirectory(atPath: core.paths.content).isEmpty)
            #expect(try core.store.contentBytes() == 0)
            _ = await core.shutdown(grace: 0)
        }
    }

    @Test("the content cache evicts least recently used files above -o cache_max_size, never an open one")
    func eviction() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            try await seed(emu, items: (0..<4).map { ("e\($0).jpg", "2020-01-0\($0 + 1)T00:00:00Z") }, albums: [("Evict", [0, 1, 2, 3])])
            let probe = try makeCore(account: account, cacheDir: TempDir().path, options: testOptions())
            let one = try await CoreFS(fs: probe).stat("album/Evict/e0.jpg").size
            _ = await probe.shutdown(grace: 0)
            let core = try makeCore(account: account, cacheDir: cache.path, options: testOptions { $0.cacheMaxSize = one * 2 + one / 2 })
            let fs = CoreFS(fs: core)
            for i in 0..<4 { #expect(try await fs.read("album/Evict/e\(i).jpg").count == Int(one)) }
            #expect(try await eventually { try core.store.contentBytes() <= core.options.cacheMaxSize })
            let files = try FileManager.default.contentsOfDirectory(atPath: core.paths.content)
            #expect(files.count == 2, "the two most recent stay: \(files)")
            #expect(try await fs.read("album/Evict/e0.jpg").count == Int(one), "an evicted item downloads again")
            _ = await core.shutdown(grace: 0)
        }
    }

    @Test("xattrs of items, albums and the root", arguments: FSMode.allCases)
    func xattrs(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            let s = try await seed(emu, items: [("x.jpg", "2019-03-04T05:06:07Z")], albums: [("Attrs", [0])])
            func text(_ p: String, _ n: String) async throws -> String? { try await fs.getxattr(p, n).map { String(decoding: $0, as: UTF8.self) } }
            #expect(try await text("album/Attrs/x.jpg", "user.gphotos.id") == s.items[0])
            #expect(try await text("album/Attrs/x.jpg", "user.gphotos.mime_type") == "image/jpeg")
            #expect(try await text("album/Attrs/x.jpg", "user.gphotos.state") == "committed")
            #expect(try await text("album/Attrs/x.jpg", "user.gphotos.creation_time") == "2019-03-04T05:06:07Z")
            #expect(try await text("album/Attrs/x.jpg", "user.gphotos.width") == "640")
            #expect(try await text("album/Attrs/x.jpg", "user.gphotos.url")?.isEmpty == false)
            #expect(try await text("album/Attrs/x.jpg", "user.gphotos.original_sha256") == nil)
            #expect(try await text("album/Attrs", "user.gphotos.id") == s.albums[0])
            #expect(try await text("media/all", "user.gphotos.id") == nil)
            #expect(try await fs.getxattr("", "user.gphotos.status") != nil)
            #expect(try await text("album/Attrs/x.jpg", "user.other") == nil, "a user.* name that is not there: ENODATA")
            // Other namespaces are not supported at all (ls -l then stops asking security.selinux of every entry).
            await expectErrno(ENOTSUP, "security.selinux") { _ = try await fs.getxattr("album/Attrs/x.jpg", "security.selinux") }
            await expectErrno(ENOTSUP, "trusted.* of a directory") { _ = try await fs.getxattr("album/Attrs", "trusted.x") }
        }
    }

    @Test("the kernel keeps its copy of a directory's entries only while the listing is the one it cached")
    func kernelDirectoryCache() async throws {
        try await withClockedCore(options: testOptions { $0.dirCacheTime = 60; $0.writeback = 600 }) { core, fs, clock, emu in
            try await seed(emu, items: [("k.jpg", "2020-06-01T00:00:00Z")], albums: [("Kept", [0])])
            let album = try await fs.ino("album/Kept")
            _ = try await fs.stat("album/Kept/k.jpg")   // learns the size (a copy filled while sizes were unknown is never kept)
            func open() async throws -> (cache: Bool, keep: Bool) {
                let h = try await core.opendir(album)
                defer { core.releasedir(h) }
                return core.dirCaching(album, handle: h)
            }
            #expect(try await open() == (true, false), "first open: cache it, nothing to keep yet")
            #expect(try await open() == (true, true), "same listing: the kernel serves its copy")
            clock.advance(55)
            #expect(try await open() == (true, false), "the dentries of the fill are about to expire: fill again")
            #expect(try await open() == (true, true))
            try await fs.write("album/Kept/new.jpg", makeJPEG(tag: "kept"))   // pending for the write-back delay
            #expect(try await open() == (false, false), "pending files are never cached by the kernel")
            #expect(try await fs.list("album/Kept") == ["k.jpg", "new.jpg"])
            try await fs.unlink("album/Kept/new.jpg")
            #expect(try await open() == (true, false), "after the change: a new listing, the old copy dropped")
            #expect(try await fs.list("album/Kept") == ["k.jpg"])
        }
    }

    @Test("a 3,000-item album (the debug emulator pages at ~0.8 s per 100): a remount lists it from SQLite fast, with no API call")
    func bigAlbum() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let options = testOptions { $0.dirCacheTime = 3600 }
            let t = Date()
            let (s, o) = try await emu.control("POST", "seed", ["generate": ["count": 3_000, "clientId": testClientId, "albumTitle": "Big"]])
            #expect(s == 200, "\(o)")
            let seeded = Date().timeIntervalSince(t)
            let fs1 = try makeCore(account: account, cacheDir: cache.path, options: options)
            #expect(try await CoreFS(fs: fs1).list("album/Big").count == 3_000)
            print("bigAlbum: seed \(seeded) s, first listing (30 search pages) \(Date().timeIntervalSince(t) - seeded) s")
            _ = await fs1.shutdown(grace: 0)
            let before = try await emu.requestCounts().values.reduce(0, +)
            let fs2 = try makeCore(account: account, cacheDir: cache.path, options: options)
            let t0 = Date()
            #expect(try await CoreFS(fs: fs2).list("album/Big").count == 3_000)
            let cold = Date().timeIntervalSince(t0)
            let t1 = Date()
            #expect(try await CoreFS(fs: fs2).list("album/Big").count == 3_000)
            let warm = Date().timeIntervalSince(t1)
            #expect(try await emu.requestCounts().values.reduce(0, +) == before)
            print("bigAlbum: remount listing \(cold) s, warm \(warm) s")
            #expect(cold < 2 && warm < 0.5, "cold \(cold) s, warm \(warm) s (debug build)")
            _ = await fs2.shutdown(grace: 0)
        }
    }
}
