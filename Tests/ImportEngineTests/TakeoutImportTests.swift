// `gphotos-sync import takeout` end to end, as a process: generated exports in .zip and .tgz parts (sidecars in other
// parts than their photos, every quirky name form), albums and dates checked in the dataset, a re-run that does
// nothing, a killed run that resumes, XMP and EXIF, and bad input.
import APITestSupport
import Foundation
import GRDB
import Harness
import Testing
@testable import ImportEngine

/// Capture times used by the fixture (distinct, so a wrong match shows up as a wrong mtime).
enum T {
    static let y2019: Int64 = 1_559_390_400   // 2019-06-01 12:00 UTC
    static let y2020: Int64 = 1_590_926_400   // 2020-05-31 12:00 UTC
    static let y2021: Int64 = 1_622_548_800   // 2021-06-01 12:00 UTC
    static let y2023: Int64 = 1_696_573_800   // 2023-10-06 06:30 UTC
}

/// The quirky export: what each photo's sidecar is called and where the import must put it.
func quirkyTakeout() -> (TakeoutFixture, expected: [String: Int64]) {
    var f = TakeoutFixture()
    var expected: [String: Int64] = [:]   // dataset path → mtime
    func photo(_ member: String, _ sidecar: String?, title: String, taken: Int64?, _ data: Data = makeJPEG(padding: 300),
               extra: [String: Any] = [:], expect: [String] = []) {
        f.photos.append(FixturePhoto(member: member, sidecar: sidecar, taken: taken, title: title, data: data, extra: extra))
        for e in expect { expected[e] = taken ?? TakeoutFixture.memberMtime }
    }
    // Old and new sidecar forms.
    photo("Photos from 2020/IMG_0001.JPG", "Photos from 2020/IMG_0001.JPG.json", title: "IMG_0001.JPG", taken: T.y2020,
          expect: ["2020/IMG_0001.JPG"])
    photo("Photos from 2021/PXL_20210601.jpg", "Photos from 2021/PXL_20210601.jpg.supplemental-metadata.json",
          title: "PXL_20210601.jpg", taken: T.y2021, expect: ["2021/PXL_20210601.jpg"])
    // Cut suffix.
    photo("Photos from 2021/IMG_20210601_120000123.jpg", "Photos from 2021/IMG_20210601_120000123.jpg.supplemental-me.json",
          title: "IMG_20210601_120000123.jpg", taken: T.y2021 + 1, expect: ["2021/IMG_20210601_120000123.jpg"])
    // Length caps: the media name cut to 47 before the extension, the sidecar to 46 before .json; the title restores it.
    let long = "PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGINAL.jpg"
    photo("Photos from 2023/PXL_20230809_203449253.LONG_EXPOSURE-02.ORIGINA.jpg",
          "Photos from 2023/" + String((long + ".supplemental-metadata").prefix(46)) + ".json",
          title: long, taken: T.y2023, expect: ["2023/" + long])
    // Counters in both positions, which must match exactly.
    photo("Photos from 2019/IMG_3479.JPG", "Photos from 2019/IMG_3479.JPG.json", title: "IMG_3479.JPG", taken: T.y2019,
          expect: ["2019/IMG_3479.JPG"])
    photo("Photos from 2019/IMG_3479(1).JPG", "Photos from 2019/IMG_3479.JPG(1).json", title: "IMG_3479.JPG", taken: T.y2019 + 100,
          expect: ["2019/IMG_3479(1).JPG"])
    photo("Photos from 2019/Scan35(1).jpg", "Photos from 2019/Scan35.jpg.supplemental-metadata(1).json", title: "Scan35.jpg",
          taken: T.y2019 + 200, expect: ["2019/Scan35(1).jpg"])
    // An edited copy shares its original's sidecar.
    photo("Photos from 2020/IMG_5000.jpg", "Photos from 2020/IMG_5000.jpg.supplemental-metadata.json", title: "IMG_5000.jpg",
          taken: T.y2020 + 300, expect: ["2020/IMG_5000.jpg", "2020/IMG_5000-edited.jpg"])
    f.photos.append(FixturePhoto(member: "Photos from 2020/IMG_5000-edited.jpg", sidecar: nil, taken: nil, title: "",
                                 data: makeJPEG(padding: 310)))
    // An upload without an extension.
    photo("Photos from 2020/20030616.jpg", "Photos from 2020/20030616.json", title: "20030616", taken: T.y2020 + 400,
          expect: ["2020/20030616.jpg"])
    // Non-ASCII names.
    photo("Photos from 2020/Ёж 🦔.jpg", "Photos from 2020/Ёж 🦔.jpg.supplemental-metadata.json", title: "Ёж 🦔.jpg",
          taken: T.y2020 + 500, expect: ["2020/Ёж 🦔.jpg"])
    // Albums: the title comes from the metadata JSON (localized file name, "albumData" wrapper), never the folder.
    let shared = makeJPEG(padding: 320)
    photo("Photos from 2023/shared.jpg", "Photos from 2023/shared.jpg.json", title: "shared.jpg", taken: T.y2023 + 10, shared,
          expect: ["Paris 6／10／23/shared.jpg", "Best of/shared.jpg"])
    photo("Paris 6-10-23/shared.jpg", "Paris 6-10-23/shared.jpg.json", title: "shared.jpg", taken: T.y2023 + 10, shared)
    photo("Best of/shared.jpg", "Best of/shared.jpg.supplemental-metadata.json", title: "shared.jpg", taken: T.y2023 + 10, shared)
    photo("Paris 6-10-23/only-in-album.jpg", "Paris 6-10-23/only-in-album.jpg.json", title: "only-in-album.jpg",
          taken: T.y2023 + 20, expect: ["Paris 6／10／23/only-in-album.jpg"])
    f.others.append(("Google Photos/Paris 6-10-23/metadata.json", TakeoutFixture.albumJSON(title: "Paris 6/10/23")))
    f.others.append(("Google Photos/Best of/metadati.json", TakeoutFixture.albumJSON(title: "Best of", wrapped: true)))
    // An untitled album.
    photo("Untitled(2)/untitled.jpg", "Untitled(2)/untitled.jpg.json", title: "untitled.jpg", taken: T.y2021 + 30,
          expect: ["Untitled album/untitled.jpg"])
    f.others.append(("Google Photos/Untitled(2)/metadata.json", TakeoutFixture.albumJSON(title: "")))
    // Archive kept; trash, locked folder and failed videos left out.
    photo("Archive/archived.jpg", "Archive/archived.jpg.json", title: "archived.jpg", taken: T.y2021 + 40,
          extra: ["archived": true], expect: ["2021/archived.jpg"])
    photo("Trash/deleted.jpg", "Trash/deleted.jpg.json", title: "deleted.jpg", taken: T.y2021 + 50, extra: ["trashed": true])
    photo("Locked Folder/secret.jpg", "Locked Folder/secret.jpg.json", title: "secret.jpg", taken: T.y2021 + 60)
    photo("Failed Videos/broken.mp4", nil, title: "", taken: nil)
    // Duplicates by content in one year folder: one file.
    let dup = makeJPEG(padding: 330)
    photo("Photos from 2021/copy-a.jpg", "Photos from 2021/copy-a.jpg.json", title: "copy-a.jpg", taken: T.y2021 + 70, dup,
          expect: ["2021/copy-a.jpg"])
    photo("Photos from 2021/copy-b.jpg", "Photos from 2021/copy-b.jpg.json", title: "copy-b.jpg", taken: T.y2021 + 70, dup)
    // No sidecar at all: kept, dated from the archive, reported by name.
    photo("Photos from 2021/orphan.jpg", nil, title: "", taken: nil, expect: ["2021/orphan.jpg"])
    // Another Takeout product and Google's index page.
    f.others.append(("Drive/holiday.jpg", makeJPEG(padding: 340)))
    f.others.append(("archive_browser.html", Data("<html></html>".utf8)))
    return (f, expected)
}

/// mtimes of every file of a dataset.
func mtimes(_ root: String) -> [String: Int64] {
    Dictionary(uniqueKeysWithValues: files(under: root).map { ($0, Int64(statOf(root + "/" + $0)?.st_mtim.tv_sec ?? -1)) })
}

@Suite("gphotos-sync import takeout", .serialized)
struct TakeoutImportTests {
    @Test("zip and tgz parts: albums by title, hard links, years, capture-time mtimes, left-outs; a re-run does nothing")
    func partsBecomeAlbumsAndYears() async throws {
        let (fixture, expected) = quirkyTakeout()
        let dir = TempDir(), out = TempDir()
        let parts = try fixture.write(to: dir, formats: [.zip, .tgz, .zip])
        let r = await gsync(["import", "takeout"] + parts + ["--to", out.path, "--json"])
        #expect(r.status == 0, "\(r.output)")
        #expect(mtimes(out.path) == expected, "\(r.output)")
        // A photo in two albums is one file, hard-linked; it is not also in its year folder.
        let a = statOf(out.file("Paris 6／10／23/shared.jpg")), b = statOf(out.file("Best of/shared.jpg"))
        #expect(a != nil && a?.st_ino == b?.st_ino && a?.st_nlink == 2)
        // The edited copy keeps its own bytes.
        #expect(FileManager.default.contents(atPath: out.file("2020/IMG_5000-edited.jpg")) == fixture.photos.first { $0.member.hasSuffix("IMG_5000-edited.jpg") }?.data)
        #expect(r.int("albums") == 3 && r.int("trashSkipped") == 1 && r.int("lockedSkipped") == 1 && r.int("failedVideosSkipped") == 1,
                "\(r.summary)")
        #expect(r.int("duplicates") == 3 && r.int("outsidePhotos") == 2 && r.int("unmatchedMedia") == 1, "\(r.summary)")
        #expect(r.int("imported") == expected.count)
        // Unmatched files are reported by name.
        let unmatched = r.events.filter { $0["action"] as? String == "no-sidecar" }.compactMap { $0["path"] as? String }
        #expect(unmatched == ["Google Photos/Photos from 2021/orphan.jpg"], "\(unmatched)")
        // Nothing is left staged.
        #expect((try? FileManager.default.contentsOfDirectory(atPath: out.file(".gphotos-import/objects")))?.isEmpty == true)

        // A re-run reads no media and changes nothing.
        let before = mtimes(out.path)
        let r2 = await gsync(["import", "takeout"] + parts + ["--to", out.path, "--json"])
        #expect(r2.status == 0 && r2.int("imported") == 0 && r2.int("bytes") == 0, "\(r2.output)")
        #expect(r2.int("alreadyImported") == expected.count)
        #expect(mtimes(out.path) == before)
    }

    @Test("an extracted Takeout folder imports to the same dataset as its archives")
    func extractedFolder() async throws {
        let (fixture, expected) = quirkyTakeout()
        let dir = TempDir(), out = TempDir()
        let takeout = try fixture.extract(to: dir)
        let r = await gsync(["import", "takeout", takeout, "--to", out.path, "--json"])
        #expect(r.status == 0, "\(r.output)")
        #expect(mtimes(out.path) == expected)
        // Given its Google Photos folder instead, the same.
        let out2 = TempDir()
        let r2 = await gsync(["import", "takeout", takeout + "/Google Photos", "--to", out2.path, "-q"])
        #expect(r2.status == 0, "\(r2.output)")
        #expect(mtimes(out2.path) == expected)
    }

    @Test("a run killed while extracting resumes: nothing is extracted twice, no file is duplicated")
    func killedRunResumes() async throws {
        var fixture = TakeoutFixture()
        var expected = Set<String>()
        // Enough members that extraction takes seconds on any machine (at least a millisecond each: hash, fsync,
        // rename), so the kill lands in the middle of it.
        let count = 2000
        for i in 0..<count {
            let name = String(format: "IMG_%04d.jpg", i)
            fixture.photos.append(FixturePhoto(member: "Photos from 2020/" + name, sidecar: "Photos from 2020/" + name + ".json",
                                               taken: T.y2020 + Int64(i), title: name, data: makeJPEG()))
            expected.insert("2020/" + name)
        }
        let dir = TempDir(), out = TempDir()
        let parts = try fixture.write(to: dir, formats: [.tgz])
        let child = try ChildProcess(executable: builtExecutable("gphotos-sync"),
                                     arguments: ["import", "takeout"] + parts + ["--to", out.path, "-q", "--no-progress"])
        // Kill it once the manifest records some extracted members (bounded wait).
        let deadline = Date().addingTimeInterval(120)
        var staged = 0
        var reader: DatabaseQueue?
        while Date() < deadline && child.process.isRunning {
            if reader == nil { reader = openReadOnly(out.file(".gphotos-import/manifest.sqlite")) }
            staged = reader.flatMap { try? $0.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM entries WHERE sha256 IS NOT NULL") } } ?? 0
            if staged >= 10 { break }
            try await Task.sleep(nanoseconds: 2_000_000)
        }
        kill(child.process.processIdentifier, SIGKILL)
        _ = await offPool { child.wait(timeout: 10) }
        #expect(staged >= 10, "the import ended before it could be killed")
        let total = fixture.photos.reduce(Int64(0)) { $0 + Int64($1.data.count) }
        let r = await gsync(["import", "takeout"] + parts + ["--to", out.path, "--json"])
        #expect(r.status == 0, "\(r.output)")
        #expect(Set(files(under: out.path)) == expected)
        #expect(Int64(r.int("bytes")) < total, "the second run extracted everything again: \(r.summary)")
        #expect(staged < count, "the kill came after the end")
        for i in [0, count / 2, count - 1] {
            #expect(Int64(statOf(out.file(String(format: "2020/IMG_%04d.jpg", i)))?.st_mtim.tv_sec ?? 0) == T.y2020 + Int64(i))
        }
    }

    @Test("--xmp writes date, place and description beside each file; --exif fills missing tags and keeps the camera's")
    func xmpAndExif() async throws {
        var f = TakeoutFixture()
        let place: [String: Any] = ["geoData": ["latitude": 48.858, "longitude": 2.291, "altitude": 82.09],
                                    "description": "Tour <Eiffel> & co"]
        f.photos.append(FixturePhoto(member: "Photos from 2023/plain.jpg", sidecar: "Photos from 2023/plain.jpg.json",
                                     taken: T.y2023, title: "plain.jpg", data: makeJPEG(padding: 100), extra: place))
        // A photo whose camera wrote its own (local) date: exiftool must not replace it.
        let cameraDir = TempDir()
        let camera = writeFile(cameraDir, "camera.jpg", makeJPEG(padding: 100))
        let set = await gsyncTool(["/usr/bin/exiftool", "-q", "-overwrite_original", "-DateTimeOriginal=2023:10:06 08:30:00", camera])
        #expect(set.status == 0, "\(set.output)")
        f.photos.append(FixturePhoto(member: "Photos from 2023/camera.jpg", sidecar: "Photos from 2023/camera.jpg.json",
                                     taken: T.y2023, title: "camera.jpg", data: try Data(contentsOf: URL(fileURLWithPath: camera))))
        let dir = TempDir(), out = TempDir()
        let parts = try f.write(to: dir, formats: [.zip])
        let r = await gsync(["import", "takeout"] + parts + ["--to", out.path, "--xmp", "--exif", "-q"])
        #expect(r.status == 0, "\(r.output)")
        let xmp = (try? String(contentsOfFile: out.file("2023/plain.jpg.xmp"), encoding: .utf8)) ?? ""
        #expect(xmp.contains("<exif:DateTimeOriginal>2023-10-06T06:30:00Z</exif:DateTimeOriginal>"), "\(xmp)")
        #expect(xmp.contains("<exif:GPSLatitude>48,51.480000N</exif:GPSLatitude>") && xmp.contains("Tour &lt;Eiffel&gt; &amp; co"), "\(xmp)")
        let plain = await gsyncTool(["/usr/bin/exiftool", "-s", "-s", "-s", "-n", "-DateTimeOriginal", "-GPSLatitude", "-ImageDescription", out.file("2023/plain.jpg")])
        #expect(plain.output.split(separator: "\n").map(String.init) == ["2023:10:06 06:30:00", "48.858", "Tour <Eiffel> & co"], "\(plain.output)")
        let cam = await gsyncTool(["/usr/bin/exiftool", "-s", "-s", "-s", "-DateTimeOriginal", out.file("2023/camera.jpg")])
        #expect(cam.output.trimmingCharacters(in: .whitespacesAndNewlines) == "2023:10:06 08:30:00", "\(cam.output)")
        // The date written into the file does not change its mtime.
        #expect(Int64(statOf(out.file("2023/plain.jpg"))?.st_mtim.tv_sec ?? 0) == T.y2023)
    }

    @Test("--dry-run lists the plan and writes nothing; --layout puts items in no album by month")
    func dryRunAndLayout() async throws {
        let (fixture, expected) = quirkyTakeout()
        let dir = TempDir(), out = TempDir()
        let parts = try fixture.write(to: dir, formats: [.tgz, .zip])
        let target = out.file("dataset")
        let r = await gsync(["import", "takeout"] + parts + ["--to", target, "--dry-run", "--json"])
        #expect(r.status == 0, "\(r.output)")
        #expect(!FileManager.default.fileExists(atPath: target))
        let planned = Set(r.events.filter { $0["action"] as? String == "imported" }.compactMap { $0["path"] as? String })
        #expect(Set(expected.keys).isSubset(of: planned), "\(planned)")
        let r2 = await gsync(["import", "takeout"] + parts + ["--to", target, "--layout", "{year}/{month}", "-q"])
        #expect(r2.status == 0, "\(r2.output)")
        #expect(FileManager.default.fileExists(atPath: target + "/2020/05/IMG_0001.JPG"))
        #expect(FileManager.default.fileExists(atPath: target + "/Best of/shared.jpg"))
    }

    @Test("a folder on another file system (a child dataset) gets copies where hard links can't go")
    func copiesAcrossFileSystems() async throws {
        let (fixture, expected) = quirkyTakeout()
        let dir = TempDir(), out = TempDir()
        let parts = try fixture.write(to: dir, formats: [.zip])
        try FileManager.default.createDirectory(atPath: out.file("2020"), withIntermediateDirectories: true)
        let mounted = await gsyncTool(["/bin/mount", "-t", "tmpfs", "-o", "size=16m", "gphotos-test", out.file("2020")])
        try #require(mounted.status == 0, "tests run as root: \(mounted.output)")
        defer { _ = toolBlocking(["/bin/umount", "-l", out.file("2020")]) }
        let r = await gsync(["import", "takeout"] + parts + ["--to", out.path, "-q"])
        #expect(r.status == 0, "\(r.output)")
        var got = mtimes(out.path)   // Foundation's walk does not enter the other file system: list it on its own
        for (k, v) in mtimes(out.file("2020")) { got["2020/" + k] = v }
        #expect(got == expected)
        let copy = fixture.photos.first { $0.member == "Photos from 2020/IMG_0001.JPG" }?.data
        #expect(FileManager.default.contents(atPath: out.file("2020/IMG_0001.JPG")) == copy)
        #expect(statOf(out.file("2020/IMG_0001.JPG"))?.st_nlink == 1)
        #expect(!files(under: out.file("2020")).contains { $0.hasSuffix(".gphotos-import-tmp") })
    }

    @Test("bad input: a missing part, a damaged part, no parts, a bad layout: clear errors and rclone's exit codes")
    func badInput() async throws {
        let dir = TempDir(), out = TempDir()
        let missing = await gsync(["import", "takeout", dir.file("nope.zip"), "--to", out.path])
        #expect(missing.status == 4 && missing.output.contains("nope.zip"), "\(missing.output)")
        var junk = Data(count: 4096)
        for i in junk.indices { junk[i] = UInt8(truncatingIfNeeded: i &* 2654435761 >> 7) }
        let damaged = writeFile(dir, "takeout-x-001.zip", junk)
        let bad = await gsync(["import", "takeout", damaged, "--to", out.path])
        #expect(bad.status == 6 && bad.output.contains("takeout-x-001.zip"), "\(bad.output)")
        let none = await gsync(["import", "takeout", "--to", out.path])
        #expect(none.status == 2, "\(none.output)")
        let layout = await gsync(["import", "takeout", dir.path, "--to", out.path, "--layout", "../{year}"])
        #expect(layout.status == 2 && layout.output.contains("--layout"), "\(layout.output)")
        // A truncated .tgz: the error names the part, and what was read before stays importable.
        let (fixture, _) = quirkyTakeout()
        let parts = try fixture.write(to: dir, formats: [.tgz])
        let whole = try Data(contentsOf: URL(fileURLWithPath: parts[0]))
        let cut = writeFile(dir, "takeout-cut-001.tgz", whole.prefix(whole.count / 2))
        let r = await gsync(["import", "takeout", cut, "--to", out.file("cut")])
        #expect(r.status != 0 && r.status != nil && r.output.contains("takeout-cut-001.tgz"), "\(r.output)")
    }
}

/// A read-only connection to an import's manifest, once the file and its tables exist.
func openReadOnly(_ path: String) -> DatabaseQueue? {
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    var config = Configuration()
    config.readonly = true
    config.busyMode = .timeout(5)
    guard let q = try? DatabaseQueue(path: path, configuration: config),
          (try? q.read { try $0.tableExists("entries") }) == true else { return nil }
    return q
}

/// Runs any tool (bounded, off the cooperative pool), output captured.
func gsyncTool(_ argv: [String]) async -> ImportRun {
    await offPool { toolBlocking(argv) }
}

func toolBlocking(_ argv: [String]) -> ImportRun {
    let dir = TempDir()
    let path = dir.file("output")
    FileManager.default.createFile(atPath: path, contents: nil)
    guard let out = FileHandle(forWritingAtPath: path) else { return ImportRun(status: nil, output: "") }
    defer { try? out.close() }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: argv[0])
    p.arguments = Array(argv.dropFirst())
    p.standardOutput = out
    p.standardError = out
    guard (try? p.run()) != nil else { return ImportRun(status: nil, output: "can't start \(argv[0])") }
    let deadline = Date().addingTimeInterval(60)
    while p.isRunning && Date() < deadline { usleep(10_000) }
    if p.isRunning { kill(p.processIdentifier, SIGKILL); return ImportRun(status: nil, output: "timed out") }
    return ImportRun(status: p.terminationStatus, output: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
}
