// Generated Google Takeout exports for the import tests: members with Google's quirky names and sidecars, split across
// .zip and .tgz parts (a photo and its sidecar in different parts), plus helpers to run gphotos-sync and read results.
import APITestSupport
import Foundation
import Harness
@testable import ImportEngine

/// One photo of a fixture: where its bytes and sidecar go, and what the import must make of it.
struct FixturePhoto {
    /// Member path below "Takeout/Google Photos/".
    var member: String
    /// Sidecar member path below the photos folder (nil: no sidecar).
    var sidecar: String?
    /// photoTakenTime.
    var taken: Int64?
    /// The sidecar's title (the original upload name).
    var title: String
    /// The bytes.
    var data: Data
    /// More sidecar fields.
    var extra: [String: Any] = [:]
}

/// A synthetic Takeout export.
struct TakeoutFixture {
    var photos: [FixturePhoto] = []
    /// Other members: path below "Takeout/" → bytes.
    var others: [(String, Data)] = []
    /// Members' archive mtime.
    static let memberMtime: Int64 = 1_500_000_000

    /// A sidecar's JSON.
    static func sidecarJSON(title: String, taken: Int64?, extra: [String: Any] = [:]) -> Data {
        var o: [String: Any] = ["title": title, "description": "", "imageViews": "3",
                                "creationTime": ["timestamp": "1700000000", "formatted": "14 Nov 2023, 22:13:20 UTC"],
                                "url": "https://photos.google.com/photo/AF1Qip"]
        if let taken { o["photoTakenTime"] = ["timestamp": String(taken), "formatted": "x"] }
        for (k, v) in extra { o[k] = v }
        return try! JSONSerialization.data(withJSONObject: o, options: [.sortedKeys])
    }

    /// An album metadata JSON.
    static func albumJSON(title: String, wrapped: Bool = false) -> Data {
        let album: [String: Any] = ["title": title, "description": "", "access": "protected",
                                    "date": ["timestamp": "1696573800", "formatted": "6 Oct 2023"]]
        let object: [String: Any] = wrapped ? ["albumData": album] : album
        return try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    }

    /// Every member: path (with "Takeout/Google Photos/" where it belongs) → bytes.
    var members: [(String, Data)] {
        var out: [(String, Data)] = []
        for p in photos {
            out.append(("Takeout/Google Photos/" + p.member, p.data))
            if let s = p.sidecar {
                out.append(("Takeout/Google Photos/" + s, Self.sidecarJSON(title: p.title, taken: p.taken, extra: p.extra)))
            }
        }
        for (path, data) in others { out.append(("Takeout/" + path, data)) }
        return out
    }

    /// Writes the members round-robin into `formats.count` parts (so a photo and its sidecar usually land in
    /// different parts); returns the part paths.
    func write(to dir: TempDir, formats: [ArchiveWriter.Format], stamp: String = "20240712T112341Z") throws -> [String] {
        var writers: [ArchiveWriter] = []
        var paths: [String] = []
        for (i, f) in formats.enumerated() {
            let path = dir.file("takeout-\(stamp)-\(String(format: "%03d", i + 1)).\(f == .zip ? "zip" : "tgz")")
            writers.append(try ArchiveWriter(path: path, format: f))
            paths.append(path)
        }
        for (i, m) in members.enumerated() {
            try writers[i % writers.count].add(path: m.0, data: m.1, mtime: Self.memberMtime)
        }
        for w in writers { try w.close() }
        return paths
    }

    /// Writes the members as an extracted folder; returns its "Takeout" directory.
    func extract(to dir: TempDir) throws -> String {
        for (path, data) in members {
            let full = dir.file(path)
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try data.write(to: URL(fileURLWithPath: full))
            var times = [timespec(tv_sec: time_t(Self.memberMtime), tv_nsec: 0), timespec(tv_sec: time_t(Self.memberMtime), tv_nsec: 0)]
            utimensat(AT_FDCWD, full, &times, 0)
        }
        return dir.file("Takeout")
    }
}

/// One gphotos-sync run: status and output (NDJSON with --json).
struct ImportRun: @unchecked Sendable {   // plain values
    var status: Int32?
    var output: String
    var events: [[String: Any]] {
        output.split(separator: "\n").compactMap { (try? JSONSerialization.jsonObject(with: Data($0.utf8))) as? [String: Any] }
    }
    var summary: [String: Any] { events.last { $0["event"] as? String == "summary" } ?? [:] }
    func int(_ key: String) -> Int { (summary[key] as? NSNumber)?.intValue ?? -1 }
}

/// Runs blocking work on a thread of its own: the tests' cooperative pool has one thread per core, shared with every
/// other suite, and a test waiting on a process there would stall their timers.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in Thread { c.resume(returning: work()) }.start() }
}

/// Runs `gphotos-sync ARGS` (bounded) off the cooperative pool.
func gsync(_ args: [String], timeout: Double = 180) async -> ImportRun {
    await offPool { gsyncBlocking(args, timeout: timeout) }
}

/// Runs `gphotos-sync ARGS` (bounded; output through a file, so a chatty run never blocks on a full pipe).
func gsyncBlocking(_ args: [String], timeout: Double) -> ImportRun {
    let dir = TempDir()
    let path = dir.file("output")
    FileManager.default.createFile(atPath: path, contents: nil)
    guard let out = FileHandle(forWritingAtPath: path) else { return ImportRun(status: nil, output: "can't create \(path)") }
    defer { try? out.close() }
    let p = Process()
    p.executableURL = builtExecutable("gphotos-sync")
    p.arguments = args
    p.standardOutput = out
    p.standardError = out
    p.standardInput = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return ImportRun(status: nil, output: "can't start gphotos-sync") }
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    var status: Int32?
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        for _ in 0..<200 where p.isRunning { usleep(10_000) }   // bounded
    } else {
        status = p.terminationStatus
    }
    return ImportRun(status: status, output: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
}

/// Every regular file under `root` (relative paths), leaving out the import's own folder.
func files(under root: String) -> [String] {
    guard let e = FileManager.default.enumerator(atPath: root) else { return [] }
    var out: [String] = []
    while let rel = e.nextObject() as? String {
        if rel.hasPrefix(".gphotos-import") { e.skipDescendants(); continue }
        if (e.fileAttributes?[.type] as? FileAttributeType) == .typeRegular { out.append(rel) }
    }
    return out.sorted()
}

/// stat() of a path.
func statOf(_ path: String) -> stat? {
    var st = stat()
    return stat(path, &st) == 0 ? st : nil
}
