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
func gsync(_ args: [String], state: TempDir, timeout: Double = 180, environment: [String: String]? = nil) -> SyncResult {
    let r = MountProcess.runCapturing(builtExecutable("gphotos-sync").path, args + ["--state-dir", state.path], timeout: timeout,
                                      environment: environment)
    return SyncResult(status: r.status, output: r.output)
}

/// `task show NAME --json` as an object.
func taskShow(_ name: String, state: TempDir) -> [String: Any] {
    let r = gsync(["task", "show", "--json", name], state: state)
    return ((try? JSONSerialization.jsonObject(with: Data(r.output.utf8))) as? [String: Any]) ?? [:]
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

extension ISO8601DateFormatter {
    /// RFC 3339 with fractional seconds.
    nonisolated(unsafe) static let withFraction: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
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
            let created = try await fs.getxattr("album/Trip/a.jpg", "user.gphotos.creation_time").map { String(decoding: $0, as: UTF8.self) } ?? ""
            let captured = ISO8601DateFormatter().date(from: created) ?? ISO8601DateFormatter.withFraction.date(from: created)
            let mtime = (try FileManager.default.attributesOfItem(atPath: back.file("Trip/a.jpg"))[.modificationDate] as? Date)
            #expect(captured != nil && mtime != nil && abs(mtime!.timeIntervalSince(captured!)) < 1, "mtime \(String(describing: mtime)) vs creation_time \(created)")
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
            let firstMessage: String = errors.first?["message"] as? String ?? ""
            #expect(firstMessage.hasPrefix("Failed to sync: can't upload files here"), "\(errors)")
            #expect(firstMessage.contains("sub-directory"))
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
            // Symbolic links: skipped and counted, followed with -L.
            let outside = TempDir()
            _ = FileManager.default.createFile(atPath: outside.file("linked.jpg"), contents: makeJPEG())
            try FileManager.default.createSymbolicLink(atPath: src.file("Party/linked.jpg"), withDestinationPath: outside.file("linked.jpg"))
            let skipped = gsync(["push", "--json", src.path, m + "/album"], state: state)
            #expect(skipped.int("symlinks") == 1 && skipped.int("copied") == 0, "\(skipped.output)")
            let followed = gsync(["push", "--json", "-L", src.path, m + "/album"], state: state)
            #expect(followed.int("copied") == 1, "\(followed.output)")
            #expect(gsync(["push", "--bwlimit", "08:00,1M 07:00,off", src.path, m + "/album"], state: state).output.contains("Invalid time order"))
            #expect(gsync(["push", "--mode", "mirror", src.path, m + "/album"], state: state).status == 2)
        }
    }

    @Test("task create → run → logs → timer files; scripts see the task, never a secret; restore makes the reverse task")
    func taskLifecycle() async throws {
        try await withFS(.mount) { fs, emu in
            let (src, _) = dataset()
            let state = TempDir()
            let m = (fs as! MountedFS).root
            let scripts = TempDir()
            _ = FileManager.default.createFile(atPath: scripts.file("pre.sh"), contents: Data("env > \(scripts.file("env.txt"))\necho preparing\n".utf8))
            _ = FileManager.default.createFile(atPath: scripts.file("post.sh"), contents: Data("cat > \(scripts.file("summary.json"))\n".utf8))
            let created = gsync(["task", "create", "photos", "--description", "Family photos", "--direction", "push", "--mode", "copy",
                                 "--local", src.path, "--folder", "album", "--mountpoint", m, "--schedule", "30 2 * * *",
                                 "--pre-script", scripts.file("pre.sh"), "--post-script", scripts.file("post.sh")], state: state)
            #expect(created.status == 0, "\(created.output)")
            #expect(taskShow("photos", state: state)["state"] as? String == "PENDING")
            let bad = gsync(["task", "create", "rooted", "--local", src.path, "--folder", "/", "--mountpoint", m], state: state)
            #expect(bad.status == 2 && bad.output.contains("Pulling from the root directory is not allowed. Please, select a specific directory."), "\(bad.output)")

            let run = gsync(["task", "run", "photos"], state: state)
            #expect(run.status == 0, "\(run.output)")
            let shown = taskShow("photos", state: state)
            #expect(shown["state"] as? String == "SUCCESS", "\(shown)")
            let last = shown["lastRun"] as? [String: Any]
            #expect(((last?["summary"] as? [String: Any])?["copied"] as? NSNumber)?.intValue == 4, "\(shown)")
            #expect(shown["nextRun"] != nil)
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "Trip") == ["a.jpg", "b.jpg"])

            let logs = gsync(["task", "logs", "photos"], state: state)
            #expect(logs.status == 0 && logs.output.contains("[Pre-script] preparing") && logs.output.contains("Trip/a.jpg"), "\(logs.output)")
            let env = (try? String(contentsOfFile: scripts.file("env.txt"), encoding: .utf8)) ?? ""
            #expect(env.contains("GPHOTOS_SYNC_TASK=photos") && env.contains("GPHOTOS_SYNC_DIRECTION=PUSH"), "\(env)")
            #expect(!env.contains("GPHOTOSFS_ACCOUNTS_DIR") && !env.lowercased().contains("token") && !env.lowercased().contains("secret"), "\(env)")
            let post = (try? String(contentsOfFile: scripts.file("summary.json"), encoding: .utf8)) ?? ""
            #expect(post.contains("\"state\":\"SUCCESS\""), "\(post)")

            let units = TempDir()
            let timer = gsync(["task", "timer", "--dir", units.path, "photos"], state: state)
            #expect(timer.status == 0, "\(timer.output)")
            let timerText = (try? String(contentsOfFile: units.file("gphotos-sync-photos.timer"), encoding: .utf8)) ?? ""
            let serviceText = (try? String(contentsOfFile: units.file("gphotos-sync-photos.service"), encoding: .utf8)) ?? ""
            #expect(timerText.contains("OnCalendar=*-*-* 02:30:00") && timerText.contains("Persistent=true"), "\(timerText)")
            #expect(serviceText.contains("task run") && serviceText.contains("photos") && serviceText.contains("Type=oneshot"), "\(serviceText)")

            let restored = gsync(["task", "restore", "--name", "photos-back", "--local", scripts.file("restore"), "photos"], state: state)
            #expect(restored.status == 0, "\(restored.output)")
            let back = taskShow("photos-back", state: state)["task"] as? [String: Any]
            #expect(back?["direction"] as? String == "pull" && back?["enabled"] as? Bool == false, "\(String(describing: back))")
        }
    }

    @Test("run-due picks the enabled tasks whose schedule came due")
    func runDue() async throws {
        let state = TempDir()
        let src = TempDir()
        for (name, schedule, enabled) in [("hourly", "0 * * * *", true), ("leapday", "0 0 29 2 *", true), ("off", "0 * * * *", false)] {
            var args = ["task", "create", name, "--local", src.path, "--folder", "album/X", "--schedule", schedule]
            if !enabled { args.append("--disable") }
            let r = gsync(args, state: state)
            #expect(r.status == 0, "\(r.output)")
        }
        let f = ISO8601DateFormatter()
        let soon = gsync(["run-due", "--list", "--at", f.string(from: Date().addingTimeInterval(2 * 3600))], state: state)
        #expect(soon.output.split(separator: "\n").map(String.init) == ["hourly"], "\(soon.output)")
        let now = gsync(["run-due", "--list", "--at", f.string(from: Date().addingTimeInterval(-60))], state: state)
        #expect(now.output.isEmpty, "nothing is due before the tasks existed: \(now.output)")
        let later = gsync(["run-due", "--list", "--at", "2028-03-01T00:00:00Z"], state: state)
        #expect(later.output.split(separator: "\n").map(String.init) == ["hourly", "leapday"], "\(later.output)")
    }

    @Test("abort in the middle ends ABORTED and leaves no partial file; the next run completes")
    func abortMidway() async throws {
        try await withFS(.mount) { fs, emu in
            let src = TempDir()
            var files: [String: Data] = [:]
            try FileManager.default.createDirectory(atPath: src.file("Big"), withIntermediateDirectories: true)
            for i in 0..<6 {
                let d = makeJPEG(padding: 150_000)
                _ = FileManager.default.createFile(atPath: src.file("Big/p\(i).jpg"), contents: d)
                files["p\(i).jpg"] = d
            }
            let state = TempDir()
            let m = (fs as! MountedFS).root
            #expect(gsync(["task", "create", "slow", "--local", src.path, "--folder", "album", "--mountpoint", m,
                           "--bwlimit", "100k", "--transfers", "1"], state: state).status == 0)
            let p = Process()
            p.executableURL = builtExecutable("gphotos-sync")
            p.arguments = ["task", "run", "--state-dir", state.path, "slow"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            defer { if p.isRunning { kill(p.processIdentifier, SIGKILL) } }
            var running = false
            for _ in 0..<100 where !running {   // bounded: 10 s
                running = taskShow("slow", state: state)["state"] as? String == "RUNNING"
                if !running { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(running)
            // A running task is never started again by run-due (cron calls it every minute).
            let inTwoHours = ISO8601DateFormatter().string(from: Date().addingTimeInterval(2 * 3600))
            let due = gsync(["run-due", "--list", "--at", inTwoHours], state: state)
            #expect(due.status == 0 && !due.output.contains("slow"), "\(due.output)")
            try await Task.sleep(for: .milliseconds(2500))
            let aborted = gsync(["task", "abort", "slow"], state: state)
            #expect(aborted.status == 0 && aborted.output.contains("ABORTED"), "\(aborted.output)")
            for _ in 0..<100 where p.isRunning { try await Task.sleep(for: .milliseconds(100)) }
            #expect(!p.isRunning && p.terminationStatus != 0)
            #expect(taskShow("slow", state: state)["state"] as? String == "ABORTED")
            let partial = try await fs.list("album/Big")
            #expect(partial.count < 6, "the abort came too late to test anything: \(partial)")
            for name in partial { #expect(try await fs.read("album/Big/" + name) == files[name], "\(name) is partial") }

            #expect(gsync(["task", "edit", "slow", "--bwlimit", "off"], state: state).status == 0)
            let again = gsync(["task", "run", "slow"], state: state)
            #expect(again.status == 0, "\(again.output)")
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "Big") == files.keys.sorted())
        }
    }

    @Test("a task mounts its account privately when its mountpoint is not up, and unmounts after")
    func privateMount() async throws {
        try await withFS(.mount) { _, emu in
            let (src, _) = dataset()
            let state = TempDir()
            let account = try await TestAccount(emu, name: "nas")
            let cache = TempDir()
            let notMounted = TempDir()
            var env = ProcessInfo.processInfo.environment
            env["GPHOTOSFS_ACCOUNTS_DIR"] = account.store.directory.path
            #expect(gsync(["task", "create", "private", "--local", src.path, "--folder", "album", "--mountpoint", notMounted.path,
                           "--account", "nas", "--mount-options", "cache_dir=\(cache.path),writeback=0"], state: state, environment: env).status == 0)
            let r = gsync(["task", "run", "private"], state: state, timeout: 240, environment: env)
            #expect(r.status == 0 && r.output.contains("mounting account 'nas' privately"), "\(r.output)")
            let view = try await EmulatorView(emu)
            #expect(try await view.names(inAlbum: "Trip") == ["a.jpg", "b.jpg"])
            let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
            #expect(!mounts.contains("gphotos-sync-mnt-"), "the private mount is still there")
        }
    }
}
