// `gphotosfs status` (a mount's upload queue, failures, cache and quota use, read from its root xattr) and
// `gphotosfs refresh` (re-read a directory from the API now).
import ArgumentParser
import Foundation
import PhotosFS
import CFuse3
import FuseMount
#if canImport(Glibc)
import Glibc
#endif

/// `gphotosfs status`.
public struct StatusCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a mount's upload queue, failures, cache use and API requests today.",
        discussion: """
        Reads the JSON the mount publishes in the extended attribute user.gphotos.status of its root directory. \
        Without MOUNTPOINT: every gphotosfs mount listed in /proc/self/mountinfo.
        """)

    @Flag(name: .long, help: "Print the raw JSON (an array when several mounts are shown).")
    var json = false

    @Option(name: .long, help: "Seconds to wait for a mount to answer.")
    var timeout: Double = 30

    @Argument(help: "A gphotosfs mountpoint (default: all of them).")
    var mountpoint: String?

    public init() {}

    public func run() async throws {
        let points = mountpoint.map { [$0] } ?? Self.gphotosfsMounts()
        if points.isEmpty {
            if json { say("[]") } else { say("no gphotosfs mounts") }
            return
        }
        var failed = false
        var docs: [String] = []
        for p in points {
            switch await XattrIO.get(p, "user.gphotos.status", timeout: timeout) {
            case .success(let data):
                if json { docs.append(String(decoding: data, as: UTF8.self)); continue }
                say("\(p):")
                if let status = try? JSONDecoder().decode(MountStatus.self, from: data) {
                    for line in StatusText.render(status) { say(line) }
                } else {
                    say("  (unreadable status: \(String(decoding: data.prefix(200), as: UTF8.self)))")
                }
            case .failure(let e):
                failed = true
                FileHandle.standardError.write(Data("gphotosfs status: \(p): \(e)\n".utf8))
            }
        }
        if json { say(mountpoint != nil ? (docs.first ?? "{}") : "[" + docs.joined(separator: ",") + "]") }
        if failed { throw ExitCode(1) }
    }

    /// Mountpoints of type fuse.gphotosfs in /proc/self/mountinfo.
    static func gphotosfsMounts() -> [String] {
        guard let text = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8) else { return [] }
        var out: [String] = []
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: false)
            guard let dash = f.firstIndex(of: "-"), dash + 1 < f.count, f.count > 4, f[dash + 1] == "fuse.gphotosfs" else { continue }
            out.append(unescape(String(f[4])))
        }
        return out
    }

    /// Undoes mountinfo's octal escapes (\040 for a space, ...).
    static func unescape(_ s: String) -> String {
        guard s.contains("\\") else { return s }
        var bytes: [UInt8] = []
        let u = Array(s.utf8)
        var i = 0
        while i < u.count {
            if u[i] == 0x5C, i + 3 < u.count, let v = UInt8(String(decoding: u[(i + 1)...(i + 3)], as: UTF8.self), radix: 8) {
                bytes.append(v); i += 4
            } else { bytes.append(u[i]); i += 1 }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// `gphotosfs refresh`.
public struct RefreshCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "refresh",
        abstract: "Re-read a directory of a mount from the Google Photos API now.",
        discussion: "Sets the extended attribute user.gphotos.refresh on PATH; returns when the refresh is done.")

    @Option(name: .long, help: "Seconds to wait for the refresh.")
    var timeout: Double = 300

    @Argument(help: "A directory inside a gphotosfs mount (its root refreshes the album list).")
    var path: String

    public init() {}

    public func run() async throws {
        switch await XattrIO.set(path, "user.gphotos.refresh", Data("1".utf8), timeout: timeout) {
        case .success: say("refreshed \(path)")
        case .failure(let e):
            FileHandle.standardError.write(Data("gphotosfs refresh: \(path): \(e)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// A failed xattr call on a mount.
struct XattrError: Error, CustomStringConvertible {
    let description: String
}

/// Extended attributes of paths on a (possibly hung) mount: each call on its own thread, abandoned after a deadline.
enum XattrIO {
    /// getxattr with the size probe; ENODATA/ENOTSUP say "not a gphotosfs mount".
    static func get(_ path: String, _ name: String, timeout: Double) async -> Result<Data, XattrError> {
        let r = await Blocking.run(timeout: timeout) { () -> Result<Data, XattrError> in
            for _ in 0..<8 {
                let n = getxattr(path, name, nil, 0)
                if n < 0 { return .failure(describe(errno)) }
                var buf = [UInt8](repeating: 0, count: n + 1)
                let m = getxattr(path, name, &buf, buf.count)
                if m >= 0 { return .success(Data(buf[0..<m])) }
                if errno != ERANGE { return .failure(describe(errno)) }
            }
            return .failure(XattrError(description: "the status kept growing; try again"))
        }
        return r ?? .failure(XattrError(description: "the mount did not answer within \(Int(timeout)) s"))
    }

    /// setxattr.
    static func set(_ path: String, _ name: String, _ value: Data, timeout: Double) async -> Result<Void, XattrError> {
        let r = await Blocking.run(timeout: timeout) { () -> Result<Void, XattrError> in
            let rc = value.withUnsafeBytes { setxattr(path, name, $0.baseAddress, $0.count, 0) }
            return rc == 0 ? .success(()) : .failure(describe(errno))
        }
        return r ?? .failure(XattrError(description: "no answer within \(Int(timeout)) s"))
    }

    static func describe(_ e: Int32) -> XattrError {
        switch e {
        case ENODATA, ENOTSUP: XattrError(description: "not a gphotosfs mount (or too old a one)")
        case ENOTCONN: XattrError(description: "the mount's process is gone (Transport endpoint is not connected); unmount it with fusermount3 -u")
        default: XattrError(description: String(cString: strerror(e)))
        }
    }
}

/// The status JSON as indented text: objects as "key: value" lines, arrays as "- item" lines.
enum StatusText {
    /// The status of one mount as the lines `gphotosfs status` prints.
    static func render(_ s: MountStatus) -> [String] {
        var out: [String] = []
        let states = s.counts.filter { $0.key != "committed" && $0.value > 0 }.sorted { $0.key < $1.key }
            .map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        out.append("  uploads: \(s.queued) queued, \(s.failures.count + s.failuresOmitted) failed, \(s.counts["committed"] ?? 0) committed"
                   + (states.isEmpty ? "" : " (\(states))"))
        for p in s.pending.prefix(50) {
            var line = "    \(p.path)  \(p.state)"
            if p.attempts > 0 { line += ", attempt \(p.attempts)" }
            if let n = p.nextTry { line += ", next try \(n)" }
            if let e = p.lastError { line += ", last error: \(e)" }
            out.append(line)
        }
        let morePending = s.pendingOmitted + max(0, s.pending.count - 50)
        if morePending > 0 { out.append("    … and \(morePending) more") }
        if !s.failures.isEmpty { out.append("  failed (see user.gphotos.error; remove or rewrite the file to retry):") }
        for f in s.failures.prefix(50) { out.append("    \(f.path): \(f.error) (after \(f.attempts) attempts)") }
        let moreFailures = s.failuresOmitted + max(0, s.failures.count - 50)
        if moreFailures > 0 { out.append("    … and \(moreFailures) more") }
        if let q = s.quotaPausedUntil { out.append("  uploads paused until \(q): the daily API quota is used up") }
        if let a = s.authFailure { out.append("  uploads stopped: \(a) — re-authorize: gphotosfs auth login") }
        out.append("  cache: \(bytes(s.contentCacheBytes)) downloaded content, \(bytes(s.spoolBytes)) waiting in the spool")
        out.append("  API today (\(s.quotaDay), Pacific time): \(s.apiRequestsToday) of 10,000 requests, "
                   + "\(s.downloadsToday) of 75,000 media downloads")
        return out
    }

    /// "12.3 MB".
    static func bytes(_ n: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var v = Double(n), u = 0
        while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
    }
}
