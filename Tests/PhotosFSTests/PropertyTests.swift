// A seeded reference-model property test over the core: random operation sequences checked against a model.
import APITestSupport
import Foundation
import PhotosAPI
import Synchronization
import Testing
@testable import PhotosFS

/// One file of the model: its bytes and whether Google is known to hold it.
struct ModelFile: Equatable {
    /// The bytes a read returns (pending: what was written; committed: what `=d` serves, equal for makeJPEG files).
    var bytes: Data
    /// Committed in Google Photos (fsync'd, settled, or added remotely); false = still pending in the spool.
    var committed: Bool
}

/// The reference model: album title → file name → file.
struct FSModel {
    var albums: [String: [String: ModelFile]] = [:]
    /// Sorted titles (deterministic choices: Dictionary order is per-process random).
    var titles: [String] { albums.keys.sorted() }
    /// Sorted names of an album.
    func names(_ title: String) -> [String] { (albums[title] ?? [:]).keys.sorted() }
    /// Every file is committed from now on.
    mutating func commitAll() {
        for t in albums.keys { for n in albums[t]!.keys { albums[t]![n]!.committed = true } }
    }
}

/// A case that disagreed with the model.
struct CaseFailure: Error, CustomStringConvertible {
    let description: String
}

/// A continuation resumed by whichever finishes first.
final class ResumeOnce<T: Sendable>: Sendable {
    let c: Mutex<CheckedContinuation<T, any Error>?>
    init(_ c: CheckedContinuation<T, any Error>) { self.c = Mutex(c) }
    /// Resumes the continuation unless it was resumed already.
    func finish(_ r: Result<T, any Error>) { c.withLock { c in c?.resume(with: r); c = nil } }
}

/// Runs `body` in its own task and gives up after `seconds` (a hung operation fails the case instead of the run).
func bounded<T: Sendable>(_ seconds: Double, _ what: String, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let once = ResumeOnce(c)
        Task {
            do { once.finish(.success(try await body())) } catch { once.finish(.failure(error)) }
        }
        Task {
            try? await Task.sleep(for: .seconds(seconds))
            once.finish(.failure(CaseFailure(description: "\(what): no answer within \(Int(seconds)) s")))
        }
    }
}

/// The property test's world for one case: the emulator (shared), a fresh account, cache dir, manual clock and core.
final class PropertyWorld {
    let emu: EmulatorProcess
    let account: TestAccount
    let remote: PhotosClient
    let cache = TempDir()
    let clock: ManualClock
    var fs: PhotosFS
    var core: CoreFS { CoreFS(fs: fs) }
    /// The write-back delay: plain writes stay pending until a settle moves the manual clock past it.
    static let writeback: Double = 250
    static var options: MountOptions { testOptions { $0.writeback = PropertyWorld.writeback; $0.unmountGrace = 0 } }

    init(emu: EmulatorProcess) async throws {
        self.emu = emu
        try await emu.control("POST", "reset")
        account = try await TestAccount(emu)
        remote = account.client()
        clock = ManualClock(start: Date())
        fs = try makeCore(account: account, cacheDir: cache.path, options: PropertyWorld.options, clock: clock)
        await fs.start()
    }

    /// Shutdown without waiting, then a new core on the same cache dir (what a crash-free remount does).
    func restart() async throws {
        _ = await fs.shutdown(grace: 0)
        fs = try makeCore(account: account, cacheDir: cache.path, options: PropertyWorld.options, clock: clock)
        await fs.start()
    }

    /// Moves the clock past every delay and waits until nothing is pending (bounded: 1500 polls of 20 ms).
    func settle() async throws {
        var last = ""
        for i in 0..<1500 {
            if i % 10 == 0 {
                clock.advance(400)          // past the write-back delay and any backoff (≤ 300 s)
                fs.writes.kick.signal()
            }
            do { try await fs.waitForUploads(timeout: 0); return } catch {
                guard error.errno == ETIMEDOUT else { throw CaseFailure(description: "waitForUploads: \(error)") }
                last = error.message
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw CaseFailure(description: "uploads never settled within 30 s: \(last)")
    }

    /// Shuts the core down in the background (the scheduler may take a second to notice); the run awaits it later.
    func stop() -> Task<Void, Never> { Task { [fs] in _ = await fs.shutdown(grace: 0) } }
}

/// One generated operation: a description for the failure report and what it does to the world and the model.
struct PropertyOp {
    let text: String
    let run: (PropertyWorld, inout FSModel) async throws -> Void
}

@Suite("Property: random operation sequences over the core agree with a reference model", .serialized)
struct PropertyTests {
    /// Cases per run (GPHOTOSFS_PROPERTY_CASES overrides it for a quick local look; the suite runs 256).
    static let cases = ProcessInfo.processInfo.environment["GPHOTOSFS_PROPERTY_CASES"].flatMap { Int($0) } ?? 256

    @Test("256 seeded random cases: create/write/close, fsync, unlink, mkdir, rmdir, rename, read, readdir, remote changes, restarts, faults",
          .timeLimit(.minutes(10)))
    func randomSequences() async throws {
        let env = ProcessInfo.processInfo.environment
        let seed = env["GPHOTOSFS_PROPERTY_SEED"].flatMap { UInt64($0) } ?? UInt64.random(in: 0...UInt64(UInt32.max))
        let only = env["GPHOTOSFS_PROPERTY_CASE"].flatMap { Int($0) }
        let started = Date()
        try await withEmulator { emu in   // faults are counted, not probabilistic, so one case replays alone
            var stops: [Task<Void, Never>] = []
            defer { for t in stops { t.cancel() } }
            for index in 0..<PropertyTests.cases where only == nil || only == index {
                var log: [String] = []
                do {
                    stops.append(try await runCase(emu: emu, seed: seed, index: index, log: &log))
                } catch {
                    Issue.record("""
                        property case failed: \(error)
                        replay: GPHOTOSFS_PROPERTY_SEED=\(seed) GPHOTOSFS_PROPERTY_CASE=\(index) swift test --filter PropertyTests
                        operations (→ what the mount answered):
                          \(log.joined(separator: "\n  "))
                        """)
                    return
                }
            }
            for t in stops { await t.value }
        }
        print("PropertyTests: seed \(seed), \(only == nil ? PropertyTests.cases : 1) cases in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }

    /// One case: a fresh world, 8–14 random operations checked as they go, then settle and a full comparison.
    /// Returns the core's shutdown, still running.
    func runCase(emu: EmulatorProcess, seed: UInt64, index: Int, log: inout [String]) async throws -> Task<Void, Never> {
        var g = SeededGenerator(seed: seed &+ UInt64(index) &* 0x9E37_79B9)
        let world = try await PropertyWorld(emu: emu)
        var model = FSModel()
        var counter = 0
        func fresh(_ prefix: String) -> String { counter += 1; return "\(prefix)\(counter)" }
        do {
            let steps = Int.random(in: 8...14, using: &g)
            for step in 0..<steps {
                let op = step == 0 ? mkdirOp(fresh("A")) : generate(&g, model, fresh: fresh)
                log.append(op.text)
                let t0 = Date()
                try await op.run(world, &model)
                log[log.count - 1] += " → ok (\(Int(Date().timeIntervalSince(t0) * 1000)) ms)"
            }
            log.append("settle + compare everything")
            let t0 = Date()
            try await world.settle()
            model.commitAll()
            try await verifyAll(world, model)
            log[log.count - 1] += " → ok (\(Int(Date().timeIntervalSince(t0) * 1000)) ms)"
            if ProcessInfo.processInfo.environment["GPHOTOSFS_PROPERTY_TRACE"] != nil { print("case \(index):\n  " + log.joined(separator: "\n  ")) }
        } catch {
            await world.stop().value
            throw error
        }
        return world.stop()
    }

    /// Found by the property test. POSIX: after `cat new > a.jpg` (O_TRUNC over a committed item) the old content is
    /// gone, so `mv a.jpg c.jpg` or `rm a.jpg` must leave no a.jpg (docs/SEMANTICS.md "Writing").
    @Test("rm or mv of a file written over a committed item leaves no old item behind", arguments: FSMode.allCases)
    func unlinkOrRenameOfReplacement(mode: FSMode) async throws {
        try await withFS(mode, options: testOptions { $0.writeback = 3600 }) { fs, emu in
            try await fs.mkdir("album/K")
            try await fs.writeAndFsync("album/K/a.jpg", makeJPEG())
            try await fs.writeAndFsync("album/K/b.jpg", makeJPEG())
            try await fs.write("album/K/a.jpg", makeJPEG())   // O_TRUNC over committed items: pending, shadowing them
            try await fs.write("album/K/b.jpg", makeJPEG())
            try await fs.rename("album/K/a.jpg", "album/K/c.jpg")
            try await fs.unlink("album/K/b.jpg")
            #expect(try await fs.list("album/K") == ["c.jpg"])
            #expect(try await EmulatorView(emu).names(inAlbum: "K") == ["a.jpg"], "old a.jpg leaves when c.jpg commits")
        }
    }

    // MARK: generation

    /// A random operation valid or deliberately invalid for the model's current state.
    func generate(_ g: inout SeededGenerator, _ m: FSModel, fresh: (String) -> String) -> PropertyOp {
        let titles = m.titles
        let title = titles.randomElement(using: &g)!
        let names = m.names(title)
        let name = names.randomElement(using: &g)
        let tag = fresh("t") + "-\(UInt64.random(in: 0...UInt64.max, using: &g))"
        let roll = Int.random(in: 0..<100, using: &g)
        switch roll {
        case 0..<16:   // write a new file, or overwrite one (pending or committed)
            let target = (name != nil && roll < 6) ? name! : fresh("f") + ".jpg"
            return writeOp(title, target, makeJPEG(tag: tag), fsync: false)
        case 16..<23:
            return writeOp(title, fresh("s") + ".jpg", makeJPEG(tag: tag), fsync: true)
        case 23..<25:
            let path = "album/\(title)/\(fresh("bad")).jpg"
            return failingOp("write non-media \(path)", EMEDIUMTYPE) { w in
                try await w.core.write(path, Data("plain text, not a photo \(tag)".utf8))
            }
        case 25..<27:
            let where_ = ["", "album/", "media/all/"].randomElement(using: &g)!
            let path = where_ + fresh("x") + ".jpg"
            return failingOp("write \(path) outside an album", EPERM) { w in try await w.core.write(path, makeJPEG(tag: tag)) }
        case 27..<35:
            if let name = name, roll % 8 != 0 { return unlinkOp(title, name) }
            let missing = fresh("none") + ".jpg"
            return failingOp("unlink album/\(title)/\(missing) (missing)", ENOENT) { w in try await w.core.unlink("album/\(title)/\(missing)") }
        case 35..<41:
            if roll == 35 {
                return failingOp("mkdir album/\(title) (exists)", EEXIST) { w in try await w.core.mkdir("album/\(title)") }
            }
            return mkdirOp(fresh("A"))
        case 41..<44:
            let expected = names.isEmpty ? EPERM : ENOTEMPTY
            return failingOp("rmdir album/\(title) (\(names.count) files)", expected) { w in try await w.core.rmdir("album/\(title)") }
        case 44..<54:
            guard let name = name else { return readdirOp(title) }
            return renameFileOp(&g, m, title, name, fresh: fresh)
        case 54..<58:
            return renameAlbumOp(title, fresh("R"))
        case 58..<68:
            if let name { return readOp(title, name) }
            let missing = fresh("none") + ".jpg"
            return failingOp("read album/\(title)/\(missing) (missing)", ENOENT) { w in _ = try await w.core.read("album/\(title)/\(missing)") }
        case 68..<76:
            return roll < 70 ? albumListOp() : readdirOp(title)
        case 76..<80:
            return remoteAddOp(title, fresh("r") + ".jpg", makeJPEG(tag: tag))
        case 80..<83:
            let committed = names.filter { m.albums[title]![$0]!.committed }
            guard let victim = committed.randomElement(using: &g) else { return readdirOp(title) }
            return remoteRemoveOp(title, victim)
        case 83..<86:
            // A new core sends journaled files at once (docs/SEMANTICS.md: no write-back delay after a
            // restart), so their state is only known again once settled.
            return PropertyOp(text: "restart (shutdown, new core on the same cache dir), settle") { w, m in
                try await w.restart()
                try await w.settle()
                m.commitAll()
            }
        case 86..<94:
            let faults = [
                "uploads:503:count=1", "uploads:500:count=2", "uploads:429:count=1:retry-after=1", "uploads:reset:count=1:after=64",
                "mediaItems.batchCreate:503:count=1", "mediaItems.batchCreate:500:count=1",
                "mediaItems.batchCreate:reset:count=1", "mediaItems.batchCreate:429:count=1:retry-after=1",
                "uploads:503:count=3", "mediaItems.batchCreate:reset:count=2",
            ]
            let spec = faults.randomElement(using: &g)!
            return PropertyOp(text: "fault \(spec)") { w, _ in try await w.emu.faults([spec]) }
        default:
            return PropertyOp(text: "settle (clock past the write-back delay; wait for uploads)") { w, m in
                try await w.settle()
                m.commitAll()
            }
        }
    }

    // MARK: operations

    func mkdirOp(_ title: String) -> PropertyOp {
        PropertyOp(text: "mkdir album/\(title)") { w, m in
            try await w.core.mkdir("album/\(title)")
            m.albums[title] = [:]
        }
    }

    func writeOp(_ title: String, _ name: String, _ data: Data, fsync: Bool) -> PropertyOp {
        PropertyOp(text: "\(fsync ? "write+fsync" : "write") album/\(title)/\(name) (\(data.count) bytes)") { w, m in
            let path = "album/\(title)/\(name)"
            if fsync { try await w.core.writeAndFsync(path, data) } else { try await w.core.write(path, data) }
            m.albums[title]![name] = ModelFile(bytes: data, committed: fsync)
            if fsync, try await w.core.getxattr(path, "user.gphotos.state") != Data("committed".utf8) {
                throw CaseFailure(description: "\(path): fsync returned 0 but user.gphotos.state is not 'committed'")
            }
        }
    }

    func unlinkOp(_ title: String, _ name: String) -> PropertyOp {
        PropertyOp(text: "unlink album/\(title)/\(name)") { w, m in
            try await w.core.unlink("album/\(title)/\(name)")
            m.albums[title]![name] = nil
            try await expectMissing(w, "album/\(title)/\(name)")
        }
    }

    func renameFileOp(_ g: inout SeededGenerator, _ m: FSModel, _ title: String, _ name: String, fresh: (String) -> String) -> PropertyOp {
        let file = m.albums[title]![name]!
        let others = m.titles.filter { $0 != title && m.albums[$0]![name] == nil }
        let toTitle = (others.randomElement(using: &g)).flatMap { Bool.random(using: &g) ? $0 : nil } ?? title
        if file.committed {
            if toTitle != title && Bool.random(using: &g) {   // committed item to another album, same name: allowed
                return PropertyOp(text: "rename album/\(title)/\(name) → album/\(toTitle)/\(name) (committed, move)") { w, m in
                    try await w.core.rename("album/\(title)/\(name)", "album/\(toTitle)/\(name)")
                    m.albums[toTitle]![name] = m.albums[title]![name]
                    m.albums[title]![name] = nil
                    try await expectMissing(w, "album/\(title)/\(name)")
                }
            }
            let newName = fresh("n") + ".jpg"
            return failingOp("rename album/\(title)/\(name) → album/\(toTitle)/\(newName) (committed, new name)", EPERM) { w in
                try await w.core.rename("album/\(title)/\(name)", "album/\(toTitle)/\(newName)")
            }
        }
        let newName = Bool.random(using: &g) && toTitle != title ? name : fresh("p") + ".jpg"
        return PropertyOp(text: "rename album/\(title)/\(name) → album/\(toTitle)/\(newName) (pending)") { w, m in
            try await w.core.rename("album/\(title)/\(name)", "album/\(toTitle)/\(newName)")
            m.albums[toTitle]![newName] = m.albums[title]![name]
            m.albums[title]![name] = nil
            try await expectMissing(w, "album/\(title)/\(name)")
        }
    }

    func renameAlbumOp(_ title: String, _ newTitle: String) -> PropertyOp {
        PropertyOp(text: "rename album/\(title) → album/\(newTitle)") { w, m in
            try await w.core.rename("album/\(title)", "album/\(newTitle)")
            m.albums[newTitle] = m.albums[title]
            m.albums[title] = nil
            try await compareList(w, m, "album")
        }
    }

    func readOp(_ title: String, _ name: String) -> PropertyOp {
        PropertyOp(text: "read album/\(title)/\(name)") { w, m in
            try await compareFile(w, m, title, name)
        }
    }

    func readdirOp(_ title: String) -> PropertyOp {
        PropertyOp(text: "readdir album/\(title)") { w, m in try await compareList(w, m, "album/\(title)") }
    }

    func albumListOp() -> PropertyOp {
        PropertyOp(text: "readdir album") { w, m in try await compareList(w, m, "album") }
    }

    /// Another machine (same OAuth client) uploads an item into the album; a forced refresh shows it.
    func remoteAddOp(_ title: String, _ name: String, _ data: Data) -> PropertyOp {
        PropertyOp(text: "remote: add \(name) to '\(title)', then setxattr user.gphotos.refresh") { w, m in
            try await w.emu.control("DELETE", "faults")   // the remote client is not under test
            let album = try await remoteAlbum(w, title)
            let file = writeFile(w.cache, "remote-\(name)", data)
            let token = try await w.remote.upload(file: file, mimeType: "image/jpeg", fileName: name)
            let r = try await w.remote.batchCreate([NewMediaItem(uploadToken: token, fileName: name)], albumId: album.id)
            guard r.count == 1, r[0].mediaItem != nil else { throw CaseFailure(description: "remote batchCreate: \(r)") }
            m.albums[title]![name] = ModelFile(bytes: data, committed: true)
            try await w.core.setxattr("album/\(title)", "user.gphotos.refresh", Data("1".utf8))
            try await compareList(w, m, "album/\(title)")
        }
    }

    /// Another machine removes an item from the album; a forced refresh hides it.
    func remoteRemoveOp(_ title: String, _ name: String) -> PropertyOp {
        PropertyOp(text: "remote: remove \(name) from '\(title)', then setxattr user.gphotos.refresh") { w, m in
            try await w.emu.control("DELETE", "faults")
            let album = try await remoteAlbum(w, title)
            let items = try await w.remote.mediaItems(inAlbum: album.id).collect().filter { $0.filename == name }
            guard items.count == 1 else {
                throw CaseFailure(description: "remote: '\(title)' holds \(items.count) items named \(name), expected 1")
            }
            try await w.remote.batchRemoveMediaItems(albumId: album.id, mediaItemIds: [items[0].id])
            m.albums[title]![name] = nil
            try await w.core.setxattr("album/\(title)", "user.gphotos.refresh", Data("1".utf8))
            try await compareList(w, m, "album/\(title)")
        }
    }

    /// An operation the model says must fail with `errno` (and change nothing).
    func failingOp(_ text: String, _ errno: Int32, _ body: @escaping (PropertyWorld) async throws -> Void) -> PropertyOp {
        PropertyOp(text: "\(text) expecting \(FSError.name(errno))") { w, _ in
            do {
                try await body(w)
            } catch let e as FSOpError {
                guard e.errno == errno else {
                    throw CaseFailure(description: "\(text): expected \(FSError.name(errno)), got \(FSError.name(e.errno)) (\(e))")
                }
                return
            }
            throw CaseFailure(description: "\(text): expected \(FSError.name(errno)), but it succeeded")
        }
    }

    // MARK: checks

    /// The album as the remote client sees it, by title (exactly one).
    func remoteAlbum(_ w: PropertyWorld, _ title: String) async throws -> Album {
        let all = try await w.remote.albums().collect().filter { $0.title == title }
        guard all.count == 1 else { throw CaseFailure(description: "remote: \(all.count) albums titled '\(title)', expected 1") }
        return all[0]
    }

    func expectMissing(_ w: PropertyWorld, _ path: String) async throws {
        do {
            _ = try await w.core.stat(path)
        } catch let e as FSOpError where e.errno == ENOENT {
            return
        }
        throw CaseFailure(description: "\(path) still exists after it was removed or moved")
    }

    /// readdir of `path` ("album" or "album/T") equals the model.
    func compareList(_ w: PropertyWorld, _ m: FSModel, _ path: String) async throws {
        let got = try await bounded(60, "readdir \(path)") { [core = w.core] in try await core.list(path) }
        let want = path == "album" ? m.titles : m.names(String(path.dropFirst("album/".count)))
        guard got == want else { throw CaseFailure(description: "readdir \(path): got \(got), model has \(want)") }
    }

    /// stat size and read bytes of one file equal the model.
    func compareFile(_ w: PropertyWorld, _ m: FSModel, _ title: String, _ name: String) async throws {
        let path = "album/\(title)/\(name)"
        let want = m.albums[title]![name]!.bytes
        let data = try await bounded(60, "read \(path)") { [core = w.core] in try await core.read(path) }
        guard data == want else {
            throw CaseFailure(description: "read \(path): \(data.count) bytes, not the \(want.count) bytes the model holds"
                              + (data.count == want.count ? " (same length, different content)" : ""))
        }
        let st = try await w.core.stat(path)
        guard st.size == Int64(want.count) else { throw CaseFailure(description: "stat \(path): size \(st.size), a read returns \(want.count)") }
    }

    /// Everything, through the core and through the API: the album list, each listing and file, and in Google each
    /// album's items are exactly the model's (each file's bytes once: nothing lost, nothing duplicated).
    func verifyAll(_ w: PropertyWorld, _ m: FSModel) async throws {
        try await compareList(w, m, "album")
        for title in m.titles {
            try await compareList(w, m, "album/\(title)")
            for name in m.names(title) { try await compareFile(w, m, title, name) }
        }
        let remoteAlbums = try await w.remote.albums().collect()
        let remoteTitles = remoteAlbums.map(\.title).sorted()
        guard remoteTitles == m.titles else { throw CaseFailure(description: "Google's album titles \(remoteTitles), model \(m.titles)") }
        for album in remoteAlbums {
            let items = try await w.remote.mediaItems(inAlbum: album.id).collect()
            let names = items.map(\.filename).sorted()
            guard names == m.names(album.title) else {
                throw CaseFailure(description: "Google's album '\(album.title)' holds \(names), model \(m.names(album.title))")
            }
            for item in items {
                let bytes = try await w.remote.downloadData(baseUrl: item.baseUrl)
                guard bytes == m.albums[album.title]![item.filename]!.bytes else {
                    throw CaseFailure(description: "Google's '\(album.title)/\(item.filename)' has other bytes than the model")
                }
            }
        }
    }
}
