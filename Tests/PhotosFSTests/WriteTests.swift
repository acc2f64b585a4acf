// The write side through the public operations: uploads into albums, errnos of every mutation, dedupe, quota, auth,
// faults and restarts, checked against what the emulator holds.
import APITestSupport
import Foundation
import Harness
import PhotosAPI
import Testing
@testable import PhotosFS

/// Modes the write tests run in (the mount joins when the FUSE driver lands: GPHOTOSFS_TEST_MOUNT=1).
let writeTestModes: [FSMode] = FSMode.allCases

/// What the emulator holds for the test account (a second token of the same OAuth client sees the same items).
struct EmulatorView {
    let client: PhotosClient
    init(_ emu: EmulatorProcess) async throws { client = try await TestAccount(emu).client() }
    /// The album's id by title.
    func albumId(_ title: String) async throws -> String? {
        try await client.albums().collect().first { $0.title == title }?.id
    }
    /// File names of an album's items.
    func names(inAlbum title: String) async throws -> [String] {
        guard let id = try await albumId(title) else { return [] }
        return try await client.mediaItems(inAlbum: id).collect().map(\.filename).sorted()
    }
    /// Every item in the library (app-created).
    func library() async throws -> [MediaItem] { try await client.mediaItems().collect() }
}

@Suite(.serialized)
struct WriteTests {
    @Test(arguments: writeTestModes)
    func copyIntoAlbumCommitsExactlyOnce(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await fs.mkdir("album/Trip")
            let jpeg = makeJPEG()
            try await fs.write("album/Trip/a.jpg", jpeg)
            #expect(try await fs.list("album/Trip") == ["a.jpg"])
            #expect(try await fs.read("album/Trip/a.jpg") == jpeg)   // pending: read back from the spool
            try await fs.waitForUploads(timeout: 60)
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "Trip") == ["a.jpg"])
            #expect(try await view.library().count == 1)
            #expect(try await fs.list("album/Trip") == ["a.jpg"])
            #expect(try await fs.getxattr("album/Trip/a.jpg", "user.gphotos.state") == Data("committed".utf8))
        }
    }

    @Test(arguments: writeTestModes)
    func fsyncReturnsAfterCommit(mode: FSMode) async throws {
        try await withFS(mode, options: testOptions { $0.writeback = 3600 }) { fs, emu in
            try await fs.mkdir("album/Now")
            try await fs.writeAndFsync("album/Now/a.jpg", makeJPEG())
            #expect(try await EmulatorView(emu).names(inAlbum: "Now") == ["a.jpg"])
        }
    }

    @Test(arguments: writeTestModes)
    func textFileIsRefusedAtClose(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await fs.mkdir("album/T")
            await expectErrno(EMEDIUMTYPE, "write a text file") { try await fs.write("album/T/notes.txt", Data("hello\n".utf8)) }
            #expect(try await fs.list("album/T") == [])
            try await fs.waitForUploads(timeout: 30)
            #expect(try await EmulatorView(emu).library().isEmpty)
        }
    }

    @Test(arguments: writeTestModes)
    func placeholderThenWrite(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await fs.mkdir("album/P")
            try await fs.write("album/P/x.jpg", Data())   // touch
            #expect(try await fs.stat("album/P/x.jpg").size == 0)
            #expect(try await fs.getxattr("album/P/x.jpg", "user.gphotos.state") == Data("pending".utf8))
            try await fs.waitForUploads(timeout: 30)
            #expect(try await EmulatorView(emu).library().isEmpty)
            let jpeg = makeJPEG()
            try await fs.write("album/P/x.jpg", jpeg)      // cat a.jpg > x.jpg
            #expect(try await fs.stat("album/P/x.jpg").size == Int64(jpeg.count))
            try await fs.waitForUploads(timeout: 60)
            #expect(try await EmulatorView(emu).names(inAlbum: "P") == ["x.jpg"])
        }
    }

    @Test(arguments: writeTestModes)
    func renamePendingUploadsOnceUnderFinalName(mode: FSMode) async throws {
        try await withFS(mode, options: testOptions { $0.writeback = 1 }) { fs, emu in
            try await fs.mkdir("album/R")
            try await fs.mkdir("album/S")
            try await fs.write("album/R/.a.jpg.Xy12ab", makeJPEG())
            try await fs.rename("album/R/.a.jpg.Xy12ab", "album/R/a.jpg")
            try await fs.rename("album/R/a.jpg", "album/S/a.jpg")   // a pending file moves freely between albums
            #expect(try await fs.list("album/R") == [])
            #expect(try await fs.list("album/S") == ["a.jpg"])
            try await fs.waitForUploads(timeout: 60)
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "S") == ["a.jpg"])
            #expect(try await view.names(inAlbum: "R") == [])
            #expect(try await view.library().count == 1)
            #expect((try await emu.requestCounts())["uploads"] == 1)
        }
    }

    @Test(arguments: writeTestModes)
    func overwriteCommittedReplacesItInTheAlbum(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await fs.mkdir("album/O")
            try await fs.write("album/O/a.jpg", makeJPEG())
            try await fs.waitForUploads(timeout: 60)
            let view = try await EmulatorView(emu)
            let first = try await view.client.mediaItems(inAlbum: try #require(await view.albumId("O"))).collect()
            try await fs.write("album/O/a.jpg", makeJPEG())
            try await fs.waitForUploads(timeout: 60)
            let now = try await view.client.mediaItems(inAlbum: try #require(await view.albumId("O"))).collect()
            #expect(now.count == 1)
            #expect(now.first?.id != first.first?.id)
            #expect(try await view.library().count == 2)   // the old item stays in the library
            #expect(try await fs.list("album/O") == ["a.jpg"])
        }
    }

    @Test("an overwrite never lists the old and the new item together, not even while it commits", arguments: writeTestModes)
    func overwriteNeverListsBothItems(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await fs.mkdir("album/B")
            try await fs.writeAndFsync("album/B/a.jpg", makeJPEG())
            let new = makeJPEG(tag: "second")
            try await fs.write("album/B/a.jpg", new)   // uploads at once (writeback 0) while the loop below lists
            let deadline = Date().addingTimeInterval(60)
            while Date() < deadline {
                #expect(try await fs.list("album/B") == ["a.jpg"])
                if try await fs.getxattr("album/B/a.jpg", "user.gphotos.state") == Data("committed".utf8) { break }
            }
            #expect(try await fs.list("album/B") == ["a.jpg"])
            #expect(try await fs.read("album/B/a.jpg") == new)
            #expect(try await EmulatorView(emu).names(inAlbum: "B") == ["a.jpg"])
        }
    }

    @Test("rm of a file written over a committed item removes both; mv of it removes the old item (now, or when it commits)",
          arguments: writeTestModes)
    func rmAndMvOfAReplacement(mode: FSMode) async throws {
        try await withFS(mode, options: testOptions { $0.writeback = 3600 }) { fs, emu in
            try await fs.mkdir("album/K")
            try await fs.mkdir("album/L")
            for n in ["a", "b", "d"] { try await fs.writeAndFsync("album/K/\(n).jpg", makeJPEG(tag: "old-\(n)")) }
            let newA = makeJPEG(tag: "new-a")
            try await fs.write("album/K/a.jpg", newA)   // O_TRUNC over committed items: pending replacements
            try await fs.write("album/K/b.jpg", makeJPEG(tag: "new-b"))
            try await fs.write("album/K/d.jpg", makeJPEG(tag: "new-d"))
            try await fs.rename("album/K/a.jpg", "album/K/c.jpg")   // same album: old a.jpg hidden, leaves when c commits
            try await fs.unlink("album/K/b.jpg")                    // old b.jpg leaves the album now
            try await fs.rename("album/K/d.jpg", "album/L/d.jpg")   // another album: old d.jpg leaves K now
            #expect(try await fs.list("album/K") == ["c.jpg"])
            #expect(try await fs.list("album/L") == ["d.jpg"])
            for n in ["a", "b", "d"] { await expectErrno(ENOENT, "\(n).jpg") { _ = try await fs.stat("album/K/\(n).jpg") } }
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "K") == ["a.jpg"], "old a.jpg stays in Google until c.jpg commits")
            try await fs.writeAndFsync("album/K/c.jpg", newA)        // commit c.jpg (same bytes)
            #expect(try await view.names(inAlbum: "K") == ["c.jpg"])
            #expect(try await fs.list("album/K") == ["c.jpg"])
            #expect(try await fs.read("album/K/c.jpg") == newA)
            #expect(try await view.library().count == 4, "old a, b, d and new c; new d is still pending")
        }
    }

    @Test(arguments: writeTestModes)
    func unlinkRemovesFromAlbumOnly(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await fs.mkdir("album/U")
            try await fs.write("album/U/a.jpg", makeJPEG())
            try await fs.write("upload/b.jpg", makeJPEG())
            try await fs.waitForUploads(timeout: 60)
            try await fs.unlink("album/U/a.jpg")
            #expect(try await fs.list("album/U") == [])
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "U") == [])
            #expect(try await view.library().count == 2)
            await expectErrno(EPERM, "unlink in upload/") { try await fs.unlink("upload/b.jpg") }
            // A pending file is simply dropped.
            try await fs.write("album/U/p.jpg", Data())
            try await fs.unlink("album/U/p.jpg")
            #expect(try await fs.list("album/U") == [])
        }
    }

    @Test(arguments: writeTestModes)
    func directoryErrnos(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            await expectErrno(EPERM, "mkdir at the root") { try await fs.mkdir("x") }
            await expectErrno(EPERM, "mkdir in media/") { try await fs.mkdir("media/x") }
            await expectErrno(EPERM, "mkdir in upload/") { try await fs.mkdir("upload/x") }
            await expectErrno(EPERM, "file in album/") { try await fs.write("album/a.jpg", makeJPEG()) }
            await expectErrno(EPERM, "file at the root") { try await fs.write("a.jpg", makeJPEG()) }
            try await fs.mkdir("album/A")
            await expectErrno(EEXIST, "mkdir twice") { try await fs.mkdir("album/A") }
            await expectErrno(EPERM, "rmdir of an empty album") { try await fs.rmdir("album/A") }
            try await fs.write("album/A/a.jpg", Data())
            await expectErrno(ENOTEMPTY, "rmdir of an album with a pending file") { try await fs.rmdir("album/A") }
            await expectErrno(EPERM, "rmdir of album/") { try await fs.rmdir("album") }
            #expect(try await EmulatorView(emu).albumId("A") != nil)
        }
    }

    @Test(arguments: writeTestModes)
    func renameAlbumAndMoveItems(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await fs.mkdir("album/A")
            try await fs.mkdir("album/B")
            try await fs.write("album/A/a.jpg", makeJPEG())
            try await fs.write("upload/u.jpg", makeJPEG())
            try await fs.waitForUploads(timeout: 60)
            try await fs.rename("album/A", "album/A2")
            let view = try await EmulatorView(emu)
            #expect(try await view.albumId("A2") != nil)
            #expect(try await view.albumId("A") == nil)
            await expectErrno(EPERM, "rename a committed item") { try await fs.rename("album/A2/a.jpg", "album/A2/b.jpg") }
            await expectErrno(EXDEV, "album → upload") { try await fs.rename("album/A2/a.jpg", "upload/a.jpg") }
            await expectErrno(EXDEV, "upload → album") { try await fs.rename("upload/u.jpg", "album/B/u.jpg") }
            try await fs.rename("album/A2/a.jpg", "album/B/a.jpg")
            #expect(try await view.names(inAlbum: "B") == ["a.jpg"])
            #expect(try await view.names(inAlbum: "A2") == [])
            #expect(try await fs.list("album/B") == ["a.jpg"])
            #expect(try await fs.list("album/A2") == [])
        }
    }

    @Test(arguments: writeTestModes)
    func readOnlyRefusesEveryMutation(mode: FSMode) async throws {
        try await withFS(mode, options: testOptions { $0.readOnly = true }) { fs, emu in
            await expectErrno(EROFS, "mkdir") { try await fs.mkdir("album/X") }
            await expectErrno(EROFS, "create") { try await fs.write("upload/a.jpg", makeJPEG()) }
            await expectErrno(EROFS, "rename") { try await fs.rename("album", "album2") }
            let counts = try await emu.requestCounts()
            #expect(counts["albums.create"] == nil)
        }
    }

    @Test(arguments: writeTestModes)
    func sameBytesTwiceShowGooglesItem(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await fs.mkdir("album/D")
            let jpeg = makeJPEG()
            try await fs.write("album/D/first.jpg", jpeg)
            try await fs.waitForUploads(timeout: 60)
            try await fs.write("album/D/second.jpg", jpeg)
            try await fs.waitForUploads(timeout: 60)
            let view = try await EmulatorView(emu)
            #expect(try await view.library().count == 1)
            #expect(try await fs.list("album/D") == ["first.jpg"])   // the name Google kept
            let sha = try await fs.getxattr("album/D/first.jpg", "user.gphotos.original_sha256")
            #expect(sha.map { String(decoding: $0, as: UTF8.self).count } == 64)
        }
    }

    @Test(arguments: writeTestModes)
    func faultsDuringTwentyUploadsCommitEachOnce(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            try await fs.mkdir("album/F")
            // Counted, not random: a row gives up after 6 failed attempts (docs/SEMANTICS.md), and random faults
            // (p=0.3 on every batchCreate) could fail one row 6 times running in about one run in fifty. Five faults in
            // all can't exhaust any row, whatever order the uploads go in.
            try await emu.faults(["uploads:503:count=1", "uploads:reset:count=1", "mediaItems.batchCreate:500:count=1",
                                  "mediaItems.batchCreate:429:count=1:retry-after=0", "mediaItems.search:503:count=1"])
            for i in 0..<20 { try await fs.write("album/F/p\(i).jpg", makeJPEG()) }
            try await fs.waitForUploads(timeout: 300)
            _ = try await emu.control("DELETE", "faults")
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "F") == (0..<20).map { "p\($0).jpg" }.sorted())
            #expect(try await view.library().count == 20)
        }
    }
}

/// Tests that need the core itself: manual clock, token revocation, restarts on the same state.
@Suite(.serialized)
struct WriteCoreTests {
    /// A core over `emu` for `account` with state in `cache`.
    func core(_ account: TestAccount, _ cache: TempDir, clock: (any PhotosClock)? = nil,
              _ edit: (inout MountOptions) -> Void = { _ in }) async throws -> (PhotosFS, CoreFS) {
        let fs = try makeCore(account: account, cacheDir: cache.path, options: testOptions(edit), clock: clock)
        await fs.start()
        return (fs, CoreFS(fs: fs))
    }

    @Test("shutting down an idle core returns at once (stopping the uploader wakes its wait)")
    func idleShutdownIsImmediate() async throws {
        try await withEmulator { emu in
            let (fs, _) = try await core(try await TestAccount(emu), TempDir())
            try await Task.sleep(nanoseconds: 200_000_000)   // the scheduler is asleep in its 1 s wait
            let t0 = Date()
            #expect(await fs.shutdown(grace: 5) == 0)
            #expect(Date().timeIntervalSince(t0) < 0.5)
        }
    }

    @Test func dailyQuotaPausesUntilPacificMidnight() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let clock = ManualClock()
            let (fs, c) = try await core(account, cache, clock: clock)
            try await c.mkdir("album/Q")
            let (_, q) = try await emu.control("GET", "quota")
            try await emu.knobs(["dailyAPIRequests": (q["apiRequests"] as? Int) ?? 0])
            try await c.write("album/Q/a.jpg", makeJPEG())
            await expectErrno(EDQUOT, "waiting under a quota pause") { try await c.waitForUploads(timeout: 30) }
            let status = try JSONDecoder().decode(MountStatus.self, from: try fs.mountStatusJSON())
            let until = try #require(status.quotaPausedUntil)
            #expect(until.contains("T07:00:00") || until.contains("T08:00:00"))   // midnight Pacific (PDT or PST)
            #expect(status.pending.count == 1)
            #expect(status.apiRequestsToday > 0)
            // Nothing is retried while paused.
            let before = (try await emu.requestCounts())["uploads"] ?? 0
            try await Task.sleep(nanoseconds: 1_500_000_000)
            #expect((try await emu.requestCounts())["uploads"] ?? 0 == before)
            try await emu.knobs(["dailyAPIRequests": 10000])   // the emulator's day turned over
            clock.advance(86_400)
            try await c.waitForUploads(timeout: 60)
            #expect(try await EmulatorView(emu).names(inAlbum: "Q") == ["a.jpg"])
            _ = await fs.shutdown(grace: 0)
        }
    }

    @Test func revokedTokenGivesEACCESAndKeepsTheJournal() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let (fs, c) = try await core(account, cache) { $0.writeback = 1 }
            try await c.mkdir("album/V")
            let r = try await emu.transport.send(HTTPRequest(method: "POST",
                url: emu.baseURL + "/revoke?token=" + (account.token.refreshToken ?? ""), headers: [], body: .none), endpoint: "revoke")
            #expect(r.status == 200)
            try await c.write("album/V/a.jpg", makeJPEG())   // close succeeds: the bytes are journaled
            await expectErrno(EACCES, "waiting with a revoked token") { try await c.waitForUploads(timeout: 60) }
            await expectErrno(EACCES, "mkdir with a revoked token") { try await c.mkdir("album/W") }
            let status = try JSONDecoder().decode(MountStatus.self, from: try fs.mountStatusJSON())
            #expect(status.authFailure != nil)
            #expect(status.pending.map(\.path) == ["album/V/a.jpg"])
            #expect(status.spoolBytes > 0)
            #expect(await fs.shutdown(grace: 0) == 1)
        }
    }

    @Test func restartResumesJournaledUploadsExactlyOnce() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            do {
                let (fs, c) = try await core(account, cache) { $0.writeback = 3600 }
                try await c.mkdir("album/J")
                for i in 0..<3 { try await c.write("album/J/f\(i).jpg", makeJPEG()) }
                #expect(await fs.shutdown(grace: 0) == 3)
            }
            let (fs, c) = try await core(account, cache)
            try await c.waitForUploads(timeout: 60)
            #expect(try await EmulatorView(emu).names(inAlbum: "J") == ["f0.jpg", "f1.jpg", "f2.jpg"])
            #expect(try await c.list("album/J") == ["f0.jpg", "f1.jpg", "f2.jpg"])
            _ = await fs.shutdown(grace: 0)
        }
    }

    @Test func crashAfterBatchCreateIsReconciledWithoutDuplicate() async throws {
        try await withEmulator { emu in
            let account = try await TestAccount(emu)
            let cache = TempDir()
            let (fs, c) = try await core(account, cache)
            try await c.mkdir("album/K")
            try await c.write("album/K/a.jpg", makeJPEG())
            try await c.waitForUploads(timeout: 60)
            _ = await fs.shutdown(grace: 0)
            // Make the journal look as if the mount died after sending batchCreate, before recording its answer.
            let row = try #require(try fs.store.journalRows(states: [.committed]).first)
            _ = try fs.store.journalModify(row.rowID) { r in r?.journalState = .creating; r?.itemRow = nil; r?.uploadToken = "stale" ; r?.uploadTokenAt = 0 }
            try fs.store.removeAlbumItem(albumRow: try #require(row.albumRow), itemRow: try #require(row.itemRow))
            let (fs2, c2) = try await core(account, cache)
            try await c2.waitForUploads(timeout: 60)
            #expect(try await EmulatorView(emu).library().count == 1)
            #expect(try await c2.list("album/K") == ["a.jpg"])
            #expect(try fs2.store.journalRows(states: [.committed]).count == 1)
            _ = await fs2.shutdown(grace: 0)
        }
    }
}
