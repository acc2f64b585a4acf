// gphotos-sync on a real mount over the emulator: each direction and mode, re-runs that upload nothing (counted in the
// emulator's request log), Google's dedupe without loops, the folder rules' exact messages, the safety refusals,
// MOVE's confirmation, --dry-run, and the NDJSON events. The binary runs as a process, as a user runs it.
import APITestSupport
import Foundation
import Harness
import Testing

/// One gphotos-sync run: exit status and combined output.
struct SyncResult {
    var status: Int32?
    var output: String
    /// The NDJSON events (--json runs).
    var events: [[String: Any]] {
        output.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
        }
    }
    /// The summary event's fields (--json runs).
    var summary: [String: Any] { events.last { $0["event"] as? String == "summary" } ?? [:] }
    func int(_ key: String) -> Int { (summary[key] as? NSNumber)?.intValue ?? -1 }
}

/// Runs `gphotos-sync ARGS --state-dir STATE` (bounded).
func gsync(_ args: [String], state: TempDir, timeout: Double = 180) -> SyncResult {
    let r = MountProcess.runCapturing(builtExecutable("gphotos-sync").path, args + ["--state-dir", state.path], timeout: timeout)
    return SyncResult(status: r.status, output: r.output)
}

/// A dataset: Trip/a.jpg, Trip/b.jpg, Trip/Day2/c.jpg, Party/d.jpg (unique small JPEGs).
func dataset() -> (TempDir, [String: Data]) {
    let dir = TempDir()
    var files: [String: Data] = [:]
    for name in ["Trip/a.jpg", "Trip/b.jpg", "Trip/Day2/c.jpg", "Party/d.jpg"] {
        try? FileManager.default.createDirectory(atPath: (dir.file(name) as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        let d = makeJPEG(padding: 1500)
        _ = FileManager.default.createFile(atPath: dir.file(name), contents: d)
        files[name] = d
    }
    return (dir, files)
}

/// Upload-side request counts (uploads and batchCreate) in the emulator's log.
func writeRequests(_ emu: EmulatorProcess) async throws -> Int {
    let c = try await emu.requestCounts()
    return c.filter { $0.key.hasPrefix("uploads") || $0.key.contains("batchCreate") || $0.key.contains("batchRemove")
        || $0.key.contains("batchAdd") || $0.key == "albums.create" || $0.key.contains("albums.patch") }.values.reduce(0, +)
}

@Suite("gphotos-sync", .serialized)
struct SyncTests {
    @Test("push copy makes one album per folder; a re-run uploads nothing; pull copy brings the same files back")
    func pushCopyRerunPull() async throws {
        try await withFS(.mount) { fs, emu in
            let (src, files) = dataset()
            let state = TempDir()
            let m = (fs as! MountedFS).root
            let r1 = gsync(["push", "--mode", "copy", "--json", src.path, m + "/album"], state: state)
            #expect(r1.status == 0, "\(r1.output)")
            #expect(r1.int("copied") == 4 && r1.summary["state"] as? String == "SUCCESS", "\(r1.summary)")
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "Trip") == ["a.jpg", "b.jpg"])
            #expect(try await view.names(inAlbum: "Trip/Day2") == ["c.jpg"])
            #expect(try await view.names(inAlbum: "Party") == ["d.jpg"])

            let before = try await emu.requestCounts()
            let r2 = gsync(["push", "--mode", "copy", "--json", src.path, m + "/album"], state: state)
            #expect(r2.status == 0 && r2.int("copied") == 0 && r2.int("unchanged") == 4, "\(r2.output)")
            let after = try await emu.requestCounts()
            #expect((after["uploads"] ?? 0) == (before["uploads"] ?? 0), "a re-run made upload requests: \(before) → \(after)")
            #expect((after["mediaItems.batchCreate"] ?? 0) == (before["mediaItems.batchCreate"] ?? 0))

            let back = TempDir()
            let r3 = gsync(["pull", "--mode", "copy", m + "/album", back.path], state: state)
            #expect(r3.status == 0, "\(r3.output)")
            for (name, data) in files {
                #expect(FileManager.default.contents(atPath: back.file(name)) == data, "\(name) pulled back differs")
            }
            // Pulled files carry the capture time as mtime, and a second pull copies nothing.
            let r4 = gsync(["pull", "--mode", "copy", "--json", m + "/album", back.path], state: state)
            #expect(r4.status == 0 && r4.int("copied") == 0 && r4.int("unchanged") == 4, "\(r4.output)")
        }
    }

    @Test("a changed file is replaced; a renamed file whose bytes Google has does not upload again")
    func changedAndRenamed() async throws {
        try await withFS(.mount) { fs, emu in
            let (src, _) = dataset()
            let state = TempDir()
            let m = (fs as! MountedFS).root
            #expect(gsync(["push", src.path, m + "/album"], state: state).status == 0)
            // Changed bytes under the same name: replaced in the album.
            let changed = makeJPEG(padding: 900)
            _ = FileManager.default.createFile(atPath: src.file("Trip/a.jpg"), contents: changed)
            let r1 = gsync(["push", "--json", src.path, m + "/album"], state: state)
            #expect(r1.status == 0 && r1.int("copied") == 1 && r1.int("replaced") == 1, "\(r1.output)")
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "Trip") == ["a.jpg", "b.jpg"])
            #expect(try await fs.read("album/Trip/a.jpg") == changed)
            // Renamed locally: Google keeps its first name for the same bytes; no loop.
            try FileManager.default.moveItem(atPath: src.file("Trip/b.jpg"), toPath: src.file("Trip/b-renamed.jpg"))
            let r2 = gsync(["push", "--json", src.path, m + "/album"], state: state)
            #expect(r2.status == 0, "\(r2.output)")
            #expect(r2.int("alreadyInGoogle") == 1, "\(r2.summary)")
            let before = try await emu.requestCounts()
            let r3 = gsync(["push", "--json", src.path, m + "/album"], state: state)
            #expect(r3.status == 0 && r3.int("copied") == 0, "\(r3.output)")
            let after = try await emu.requestCounts()
            #expect((after["uploads"] ?? 0) == (before["uploads"] ?? 0), "the renamed file looped: \(before) → \(after)")
        }
    }

    @Test("the folder rules' messages, word for word")
    func folderRules() async throws {
        try await withFS(.mount) { fs, _ in
            let (src, _) = dataset()
            let state = TempDir()
            let m = (fs as! MountedFS).root
            let local = TempDir()
            let root = gsync(["pull", m, local.path], state: state)
            #expect(root.status == 2 && root.output.contains("Pulling from the root directory is not allowed. Please, select a specific directory."), "\(root.output)")
            let rootPush = gsync(["push", src.path, m], state: state)
            #expect(rootPush.status == 2 && rootPush.output.contains("Pulling from the root directory is not allowed. Please, select a specific directory."), "\(rootPush.output)")
            let media = gsync(["pull", m + "/media", local.path], state: state)
            #expect(media.status == 2 && media.output.contains("Pulling from the media directory is not allowed. Please, select a specific directory."), "\(media.output)")
            let byDay = gsync(["pull", m + "/media/by-day", local.path], state: state)
            #expect(byDay.status == 2 && byDay.output.contains("Pulling from the media/by-day directory is not allowed. Please, select a specific directory."), "\(byDay.output)")
            let upload = gsync(["pull", m + "/upload", local.path], state: state)
            #expect(upload.status == 3 && upload.output.contains("Failed to copy: directory not found"), "\(upload.output)")

            // Files at the top of the dataset can't go into album/: each is reported, the rest still transfers.
            _ = FileManager.default.createFile(atPath: src.file("loose.jpg"), contents: makeJPEG())
            let loose = gsync(["push", "--json", src.path, m + "/album"], state: state)
            #expect(loose.status != 0 && loose.summary["state"] as? String == "FAILED", "\(loose.output)")
            let errors = loose.events.filter { $0["event"] as? String == "error" }
            #expect(errors.count == 1 && (errors.first?["path"] as? String) == "loose.jpg", "\(errors)")
            #expect((errors.first?["message"] as? String ?? "").hasPrefix("Failed to sync: can't upload files here"), "\(errors)")
            #expect((errors.first?["message"] as? String ?? "").contains("sub-directory"))
            #expect(loose.int("copied") == 4)

            // media/all pulls, and says it holds only this app's items.
            let all = TempDir()
            let pulled = gsync(["pull", m + "/media/all", all.path], state: state)
            #expect(pulled.status == 0 && pulled.output.contains("media/all lists only the items this app uploaded"), "\(pulled.output)")
            #expect(((try? FileManager.default.contentsOfDirectory(atPath: all.path)) ?? []).count == 4)

            // upload/ warns.
            let up = TempDir()
            try FileManager.default.createDirectory(atPath: up.file("x"), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: up.file("x/u.jpg"), contents: makeJPEG())
            let pushUp = gsync(["push", up.path, m + "/upload"], state: state)
            #expect(pushUp.status == 0 && pushUp.output.contains("files there are not sorted into albums, and repeated runs duplicate them"), "\(pushUp.output)")
        }
    }

    @Test("SYNC removes from albums (items stay in the library); refuses an empty source and a mass removal")
    func syncPushAndSafety() async throws {
        try await withFS(.mount) { fs, emu in
            let (src, _) = dataset()
            let state = TempDir()
            let m = (fs as! MountedFS).root
            #expect(gsync(["push", src.path, m + "/album"], state: state).status == 0)
            try FileManager.default.removeItem(atPath: src.file("Trip/b.jpg"))
            let r = gsync(["push", "--mode", "sync", "--json", src.path, m + "/album"], state: state)
            #expect(r.status == 0 && r.int("removedFromAlbums") == 1, "\(r.output)")
            #expect((r.summary["message"] as? String ?? "").contains("removed from albums (they remain in your Google Photos library)"))
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "Trip") == ["a.jpg"])
            #expect(try await view.library().count == 4)

            let empty = TempDir()
            let refused = gsync(["push", "--mode", "sync", empty.path, m + "/album"], state: state)
            #expect(refused.status == 2 && refused.output.contains("SYNC refused: the source") && refused.output.contains("has no files"), "\(refused.output)")
            // Keep only one of three files: 2 of 3 removals (67 %) is over the 50 % limit.
            try FileManager.default.removeItem(atPath: src.file("Trip"))
            let mass = gsync(["push", "--mode", "sync", src.path, m + "/album"], state: state)
            #expect(mass.status == 2 && mass.output.contains("more than the 50% limit"), "\(mass.output)")
            #expect(try await view.names(inAlbum: "Trip/Day2") == ["c.jpg"], "a refused SYNC removed something")
            let forced = gsync(["push", "--mode", "sync", "--force", src.path, m + "/album"], state: state)
            #expect(forced.status == 0, "\(forced.output)")
            #expect(try await view.names(inAlbum: "Trip/Day2") == [])
        }
    }

    @Test("MOVE deletes sources only after the mount confirms them; a failed upload keeps its source")
    func movePush() async throws {
        try await withFS(.mount) { fs, emu in
            let (src, _) = dataset()
            let state = TempDir()
            let m = (fs as! MountedFS).root
            try await emu.faults(["uploads:501:count=100"])
            let failing = gsync(["push", "--mode", "move", "--json", src.path, m + "/album"], state: state)
            #expect(failing.status != 0, "\(failing.output)")
            for name in ["Trip/a.jpg", "Trip/b.jpg", "Trip/Day2/c.jpg", "Party/d.jpg"] {
                #expect(FileManager.default.fileExists(atPath: src.file(name)), "\(name) was deleted though its upload failed")
            }
            _ = try await emu.control("DELETE", "faults")
            let ok = gsync(["push", "--mode", "move", "--json", src.path, m + "/album"], state: state)
            #expect(ok.status == 0 && ok.int("sourcesDeleted") == 4, "\(ok.output)")
            for name in ["Trip/a.jpg", "Trip/b.jpg", "Trip/Day2/c.jpg", "Party/d.jpg"] {
                #expect(!FileManager.default.fileExists(atPath: src.file(name)), "\(name) is still there after MOVE")
            }
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "Trip") == ["a.jpg", "b.jpg"])
        }
    }

    @Test("--dry-run prints the whole plan and makes no write request")
    func dryRun() async throws {
        try await withFS(.mount) { fs, emu in
            let (src, _) = dataset()
            let state = TempDir()
            let m = (fs as! MountedFS).root
            let before = try await writeRequests(emu)
            let r = gsync(["push", "--dry-run", "--json", src.path, m + "/album"], state: state)
            #expect(r.status == 0 && r.int("copied") == 4 && r.summary["dryRun"] as? Bool == true, "\(r.output)")
            let items = r.events.filter { $0["event"] as? String == "item" && $0["dryRun"] as? Bool == true }
            #expect(items.count >= 7, "4 copies and 3 albums: \(items)")
            #expect(try await writeRequests(emu) == before)
            #expect(try await fs.list("album") == [])
        }
    }

    @Test("pull SYNC deletes local extras; pull MOVE removes items from the album once they are on disk")
    func pullSyncAndMove() async throws {
        try await withFS(.mount) { fs, emu in
            let (src, _) = dataset()
            let state = TempDir()
            let m = (fs as! MountedFS).root
            #expect(gsync(["push", src.path, m + "/album"], state: state).status == 0)
            let local = TempDir()
            _ = FileManager.default.createFile(atPath: local.file("stale.jpg"), contents: makeJPEG())
            try FileManager.default.createDirectory(atPath: local.file("Party"), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: local.file("Party/old.jpg"), contents: makeJPEG())
            let r = gsync(["pull", "--mode", "sync", "--force", "--json", m + "/album", local.path], state: state)
            #expect(r.status == 0 && r.int("deleted") == 2 && r.int("copied") == 4, "\(r.output)")
            #expect(!FileManager.default.fileExists(atPath: local.file("stale.jpg")))

            let moved = TempDir()
            let mv = gsync(["pull", "--mode", "move", "--json", m + "/album/Party", moved.path], state: state)
            #expect(mv.status == 0 && mv.int("sourcesDeleted") == 1, "\(mv.output)")
            #expect(FileManager.default.fileExists(atPath: moved.file("d.jpg")))
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "Party") == [])
            #expect(try await view.library().count == 4, "MOVE only removes from the album")
        }
    }

    @Test("non-media files are skipped and counted; --strict fails the run; bad flags exit 2")
    func nonMediaAndFlags() async throws {
        try await withFS(.mount) { fs, _ in
            let (src, _) = dataset()
            let state = TempDir()
            let m = (fs as! MountedFS).root
            _ = FileManager.default.createFile(atPath: src.file("Trip/notes.txt"), contents: Data("hello".utf8))
            try FileManager.default.createDirectory(atPath: src.file("Trip/@eaDir"), withIntermediateDirectories: true)
            _ = FileManager.default.createFile(atPath: src.file("Trip/@eaDir/thumb.jpg"), contents: makeJPEG())
            let r = gsync(["push", "--json", src.path, m + "/album"], state: state)
            #expect(r.status == 0 && r.int("nonMedia") == 1 && r.int("copied") == 4, "\(r.output)")
            let strict = gsync(["push", "--strict", src.path, m + "/album"], state: state)
            #expect(strict.status == 6 && strict.output.contains("notes.txt"), "\(strict.output)")
            #expect(gsync(["push", "--transfers", "0", src.path, m + "/album"], state: state).status == 2)
            #expect(gsync(["push", "--bwlimit", "08:00,1M 07:00,off", src.path, m + "/album"], state: state).output.contains("Invalid time order"))
            #expect(gsync(["push", "--mode", "mirror", src.path, m + "/album"], state: state).status == 2)
        }
    }
}
