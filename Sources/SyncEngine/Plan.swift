// Planning a run: compare the walked source and destination (names, sizes, the mount's original_sha256 xattrs and
// the ledger) into a plan of actions. The plan is a value: --dry-run prints it, a real run executes it.
import Crypto
import CXattr
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One step of a plan.
public struct PlannedAction: Sendable, Equatable {
    /// What the step does.
    public enum Kind: String, Sendable, Codable {
        /// Create a directory (on the mount: an album, or a nested title).
        case mkdir
        /// Copy a file the destination does not have.
        case copy
        /// Copy a file over a different one of the same name.
        case replace
        /// SYNC: take a file away from the destination (on the mount: remove the item from its album).
        case remove
        /// SYNC (pull): remove a local directory the source does not have, once empty.
        case rmdir
    }
    /// What the step does.
    public var kind: Kind
    /// Source path relative to the source root (copies).
    public var source: String?
    /// Destination path relative to the destination root.
    public var dest: String
    /// Bytes to copy.
    public var bytes: Int64 = 0
}

/// A source whose bytes the destination already has under another name (Google's dedupe): nothing to upload.
public struct KnownElsewhere: Sendable, Equatable {
    /// Source path.
    public var source: String
    /// The destination path that holds the same bytes.
    public var dest: String
}

/// A source whose bytes an earlier run left uploading in the mount.
public struct InFlight: Sendable, Equatable {
    /// Source path.
    public var source: String
    /// The destination path whose upload is in flight.
    public var dest: String
    /// The bytes' SHA-256.
    public var sha256: String
}

/// What a run will do.
public struct SyncPlan: Sendable {
    /// Steps, in order: mkdirs, copies, then removals.
    public var actions: [PlannedAction] = []
    /// Sources the destination has, unchanged (with the destination path that has them).
    public var unchanged: [KnownElsewhere] = []
    /// Unchanged sources whose bytes were verified (same SHA-256 and committed, or same size for pulls): MOVE may
    /// delete them.
    public var verified: Set<String> = []
    /// Sources whose same bytes are still uploading in the mount (an earlier run's): confirmed like copies.
    public var inFlight: [InFlight] = []
    /// Sources Google already has under another name.
    public var elsewhere: [KnownElsewhere] = []
    /// Sources that can't be copied, with why (counted as errors).
    public var itemErrors: [(path: String, message: String)] = []
    /// Warnings and notes for the user.
    public var notes: [String] = []
    /// Files at the destination (for the SYNC removal threshold).
    public var destFiles = 0
    /// Ledger rows learned while planning (hashes computed).
    public var ledgerUpdates: [LedgerEntry] = []
    /// Source files by path (sizes, mtimes).
    public var sourceFiles: [String: FileEntry] = [:]
    /// Walk counts.
    public var nonMedia: [String] = []
    /// Symbolic links left out.
    public var symlinks: [String] = []
    /// Entries the filters left out.
    public var excluded = 0

    /// Copy steps.
    public var copies: [PlannedAction] { actions.filter { $0.kind == .copy || $0.kind == .replace } }
    /// Removal steps.
    public var removals: [PlannedAction] { actions.filter { $0.kind == .remove } }
}

/// The destination's view used while planning a push into the mount: each directory's files' original_sha256 and
/// upload state (`user.gphotos.state`: pending, uploading, committed, failed).
final class MountShas {
    let root: String
    private var byDir: [String: [String: (sha: String, state: String)]] = [:]   // dir → name → xattrs
    init(root: String) { self.root = root }

    /// The original_sha256 xattr of the destination file `path`, or nil. Failed uploads have none: their bytes are
    /// not in Google Photos.
    func sha(_ path: String) -> String? {
        let (dir, name) = split(path)
        return table(dir)[name].flatMap { $0.state == "failed" ? nil : $0.sha }
    }

    /// The upload state of the destination file `path` (nil: not a file of the mount, or no state).
    func state(_ path: String) -> String? {
        let (dir, name) = split(path)
        if let t = table(dir)[name] { return t.state }
        return xattrString(root + "/" + path, "user.gphotos.state")
    }

    /// A file in `dir` whose original_sha256 is `sha` and whose upload has not failed.
    func name(in dir: String, sha: String) -> String? {
        table(dir).first { $0.value.sha == sha && $0.value.state != "failed" }.map { dir.isEmpty ? $0.key : dir + "/" + $0.key }
    }

    /// True when some file of `dir` has an original_sha256.
    func anyIn(_ dir: String) -> Bool { !table(dir).isEmpty }

    /// Forgets what was read (after the run changed the destination).
    func reset() { byDir = [:] }

    private func table(_ dir: String) -> [String: (sha: String, state: String)] {
        if let t = byDir[dir] { return t }
        var t: [String: (sha: String, state: String)] = [:]
        let full = dir.isEmpty ? root : root + "/" + dir
        for name in (try? FileManager.default.contentsOfDirectory(atPath: full)) ?? [] {
            if let sha = xattrString(full + "/" + name, "user.gphotos.original_sha256"), sha.count == 64 {
                t[name] = (sha, xattrString(full + "/" + name, "user.gphotos.state") ?? "")
            }
        }
        byDir[dir] = t
        return t
    }

    private func split(_ path: String) -> (String, String) {
        guard let i = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[..<i]), String(path[path.index(after: i)...]))
    }
}

/// SHA-256 of a file, lowercase hex, read in 1 MiB pieces.
func sha256(ofFile path: String) throws(SyncError) -> String {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SyncError.posix(errno, path, "can't open") }
    defer { close(fd) }
    var hasher = SHA256()
    var buf = [UInt8](repeating: 0, count: 1 << 20)
    while true {   // bounded by the file's length: each pass reads at least one byte or stops
        let n = read(fd, &buf, buf.count)
        if n < 0 { if errno == EINTR { continue }; throw SyncError.posix(errno, path, "can't read") }
        if n == 0 { break }
        buf.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
    }
    return hex(hasher.finalize())
}

/// Lowercase hex of a digest.
public func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    digest.map { String(format: "%02x", $0) }.joined()
}

enum Planner {
    /// Where a source file goes at the destination (relative path), or nil when it can't go there (with why).
    static func destPath(_ f: FileEntry, direction: SyncDirection, dest: Endpoint) -> String? {
        guard direction == .push, let folder = dest.folder else { return f.path }
        switch folder {
        case .albums: return f.path.contains("/") ? f.path : nil   // files at the top level: no album to put them in
        case .upload: return f.name
        default: return f.path
        }
    }

    /// Compares the two trees into a plan.
    static func plan(_ req: SyncRequest, source: Endpoint, dest: Endpoint, src: TreeListing, dst: TreeListing,
                     ledger: [String: LedgerEntry]) throws(SyncError) -> SyncPlan {
        var plan = SyncPlan()
        plan.sourceFiles = src.files
        plan.nonMedia = src.nonMedia
        plan.symlinks = src.symlinks
        plan.excluded = src.excluded
        plan.destFiles = dst.files.count
        let pushToMount = req.direction == .push && dest.inMount
        let shas = MountShas(root: dest.path)
        var claimed: Set<String> = []
        var neededDirs: Set<String> = []
        var uploadNames: [String: String] = [:]

        for f in src.files.values.sorted(by: { $0.path < $1.path }) {
            guard let dp = destPath(f, direction: req.direction, dest: dest) else {
                plan.itemErrors.append((f.path, "\(FolderRules.cantUploadHere) (move it into a sub-directory of \(source.path): that sub-directory becomes the album)"))
                continue
            }
            if dest.folder == .upload {   // flattened: two sources can't share one name
                if let first = uploadNames[dp] {
                    plan.itemErrors.append((f.path, "Failed to sync: \(first) already goes to upload/\(dp); rename one of them"))
                    continue
                }
                uploadNames[dp] = f.path
            }
            let led = ledger[f.path].flatMap { $0.size == f.size && $0.mtimeNs == f.mtimeNs ? $0 : nil }
            var sha = led?.sha256
            func hashed() throws(SyncError) -> String {
                if let sha { return sha }
                let h = try sha256(ofFile: source.path + "/" + f.path)
                sha = h
                plan.ledgerUpdates.append(LedgerEntry(path: f.path, size: f.size, mtimeNs: f.mtimeNs, sha256: h, destPath: nil))
                return h
            }
            let dir = dp.contains("/") ? String(dp[..<dp.lastIndex(of: "/")!]) : ""
            if pushToMount {
                if dest.folder == .upload {   // upload/ keeps nothing to compare against (docs/SEMANTICS.md)
                    plan.actions.append(PlannedAction(kind: .copy, source: f.path, dest: dp, bytes: f.size))
                    continue
                }
                if dst.files[dp] != nil {
                    claimed.insert(dp)
                    let state = shas.state(dp)
                    if state == "failed" {
                        // An earlier upload of this name failed: its bytes are not in Google Photos. Copy again.
                        plan.actions.append(PlannedAction(kind: .replace, source: f.path, dest: dp, bytes: f.size))
                    } else if let dsha = shas.sha(dp) {
                        if try hashed() == dsha {
                            plan.unchanged.append(KnownElsewhere(source: f.path, dest: dp))
                            if state == "committed" { plan.verified.insert(f.path) }
                            else { plan.inFlight.append(InFlight(source: f.path, dest: dp, sha256: try hashed())) }
                        } else {
                            plan.actions.append(PlannedAction(kind: .replace, source: f.path, dest: dp, bytes: f.size))
                        }
                    } else {
                        // An item this mount did not upload (or whose upload record is gone): its bytes can't be
                        // compared (downloads are not the originals), so the name decides. MOVE keeps the source.
                        plan.unchanged.append(KnownElsewhere(source: f.path, dest: dp))
                        if led?.destPath == dp { plan.verified.insert(f.path) }
                    }
                    continue
                }
                if let led, let lp = led.destPath, dst.files[lp] != nil, shas.state(lp) != "failed",
                   shas.sha(lp).map({ $0 == led.sha256 }) ?? true {
                    claimed.insert(lp)
                    plan.unchanged.append(KnownElsewhere(source: f.path, dest: lp))
                    if shas.sha(lp) != nil && shas.state(lp) == "committed" { plan.verified.insert(f.path) }
                    continue
                }
                if shas.anyIn(dir), let other = shas.name(in: dir, sha: try hashed()) {
                    claimed.insert(other)
                    plan.elsewhere.append(KnownElsewhere(source: f.path, dest: other))
                    if shas.state(other) == "committed" { plan.verified.insert(f.path) }
                    else { plan.inFlight.append(InFlight(source: f.path, dest: other, sha256: try hashed())) }
                    continue
                }
            } else if let d = dst.files[dp] {
                claimed.insert(dp)
                // Pulls compare names and sizes; pushes to a plain directory also the mtime (copies keep it).
                let same = d.size == f.size && (req.direction == .pull || abs(d.mtimeNs - f.mtimeNs) < 1_000_000_000)
                if same {
                    plan.unchanged.append(KnownElsewhere(source: f.path, dest: dp)); plan.verified.insert(f.path)
                } else {
                    plan.actions.append(PlannedAction(kind: .replace, source: f.path, dest: dp, bytes: f.size))
                }
                continue
            }
            plan.actions.append(PlannedAction(kind: .copy, source: f.path, dest: dp, bytes: f.size))
            if !dir.isEmpty { neededDirs.insert(dir) }
        }

        // Directories the copies need, parents first.
        var mkdirs: Set<String> = []
        for d in neededDirs {
            var p = d
            for _ in 0..<64 where !p.isEmpty && !dst.directories.contains(p) {   // bounded by depth
                mkdirs.insert(p)
                p = p.contains("/") ? String(p[..<p.lastIndex(of: "/")!]) : ""
            }
        }
        let dirSteps = mkdirs.sorted { ($0.split(separator: "/").count, $0) < ($1.split(separator: "/").count, $1) }
            .map { PlannedAction(kind: .mkdir, source: nil, dest: $0) }
        plan.actions.insert(contentsOf: dirSteps, at: 0)

        // SYNC: what the destination has and the source does not.
        if req.mode == .sync {
            for d in dst.files.keys.sorted() where !claimed.contains(d) {
                plan.actions.append(PlannedAction(kind: .remove, source: nil, dest: d, bytes: dst.files[d]?.size ?? 0))
            }
            if !dest.inMount {
                let keep = Set(src.directories).union(src.files.keys.compactMap { k in k.contains("/") ? String(k[..<k.lastIndex(of: "/")!]) : nil })
                for d in dst.directories.sorted(by: { $0.count > $1.count }) where !keep.contains(d) && destDirWouldBeEmpty(d, plan: plan, dst: dst) {
                    plan.actions.append(PlannedAction(kind: .rmdir, source: nil, dest: d))
                }
            }
        }
        return plan
    }

    /// True when every file under the destination directory `d` is being removed.
    static func destDirWouldBeEmpty(_ d: String, plan: SyncPlan, dst: TreeListing) -> Bool {
        let removing = Set(plan.removals.map(\.dest))
        return dst.files.keys.allSatisfy { !$0.hasPrefix(d + "/") || removing.contains($0) }
    }
}
