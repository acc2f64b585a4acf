// Where a run's SOURCE and DEST are: a plain directory, or a folder of a gphotosfs mount (found through its root's
// `user.gphotos.status` xattr, never its SQLite), and the folder rules with the seed's exact messages.
import CXattr
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Which way a run copies.
public enum SyncDirection: String, Sendable, Codable, CaseIterable {
    /// Dataset → Google (the mount).
    case push
    /// Google (the mount) → dataset.
    case pull
}

/// What a run does with the destination and the source.
public enum SyncMode: String, Sendable, Codable, CaseIterable {
    /// Copies what is new or changed; never deletes.
    case copy
    /// Makes the destination match the source (on the Google side: removes items from albums).
    case sync
    /// Copies, then deletes each source once the destination has confirmed it.
    case move
}

/// A folder of the mount, by its place in the tree (docs/SEMANTICS.md).
public enum MountFolder: Equatable, Sendable {
    /// The mount's root.
    case root
    /// `media`.
    case media
    /// `media/by-day` itself.
    case mediaByDay
    /// `media/all`.
    case mediaAll
    /// Another folder under `media` (a year, a month, a day).
    case mediaOther(String)
    /// `album`.
    case albums
    /// `album/TITLE...` (an album or a title prefix).
    case album(String)
    /// `upload`.
    case upload
    /// Anything else (no such folder in the tree).
    case other(String)

    /// Classifies `relative` (a path inside the mount, no leading slash).
    init(relative: String) {
        let parts = relative.split(separator: "/").map(String.init)
        switch (parts.first, parts.count) {
        case (nil, _): self = .root
        case ("media"?, 1): self = .media
        case ("media"?, 2) where parts[1] == "by-day": self = .mediaByDay
        case ("media"?, 2) where parts[1] == "all": self = .mediaAll
        case ("media"?, _): self = .mediaOther(relative)
        case ("album"?, 1): self = .albums
        case ("album"?, _): self = .album(parts.dropFirst().joined(separator: "/"))
        case ("upload"?, 1): self = .upload
        default: self = .other(relative)
        }
    }
}

/// One side of a run: its absolute path and, when it lies in a gphotosfs mount, the mount's root and the folder.
public struct Endpoint: Sendable, Equatable {
    /// The absolute, normalized path.
    public let path: String
    /// The mount's root when the path lies in a gphotosfs mount.
    public let mountRoot: String?
    /// The path inside the mount ("" for its root).
    public let relative: String

    /// True when this side is a gphotosfs mount.
    public var inMount: Bool { mountRoot != nil }
    /// The mount folder (nil for a plain directory).
    public var folder: MountFolder? { inMount ? MountFolder(relative: relative) : nil }

    /// Resolves `path` (relative to the working directory), looking for a gphotosfs mount at it or above it.
    public static func resolve(_ path: String) -> Endpoint {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let normalized = normalize(absolute)
        var probe = normalized
        for _ in 0..<256 {   // bounded by the path's depth
            if hasXattr(probe, "user.gphotos.status") {
                let rel = probe == normalized ? "" : String(normalized.dropFirst(probe == "/" ? 1 : probe.count + 1))
                return Endpoint(path: normalized, mountRoot: probe, relative: rel)
            }
            if probe == "/" { break }
            probe = parent(probe)
        }
        return Endpoint(path: normalized, mountRoot: nil, relative: "")
    }

    /// An endpoint from its parts (tests).
    public init(path: String, mountRoot: String?, relative: String) {
        self.path = path; self.mountRoot = mountRoot; self.relative = relative
    }

    /// `/a/./b/../c/` → `/a/c` without touching the file system (a mount that is down must not hang us).
    static func normalize(_ path: String) -> String {
        var out: [Substring] = []
        for part in path.split(separator: "/") {
            if part == "." || part.isEmpty { continue }
            if part == ".." { _ = out.popLast(); continue }
            out.append(part)
        }
        return "/" + out.joined(separator: "/")
    }

    /// The parent directory of a normalized path.
    static func parent(_ path: String) -> String {
        guard let i = path.lastIndex(of: "/"), i != path.startIndex else { return "/" }
        return String(path[..<i])
    }
}

/// True when `path` has the extended attribute `name` (any value; E2BIG and ERANGE mean a value too large to read,
/// which still exists).
func hasXattr(_ path: String, _ name: String) -> Bool {
    getxattr(path, name, nil, 0) >= 0 || errno == E2BIG || errno == ERANGE
}

/// The value of the extended attribute `name` of `path` as text, or nil.
func xattrString(_ path: String, _ name: String) -> String? {
    var size = getxattr(path, name, nil, 0)
    for _ in 0..<3 where size >= 0 {   // the value may grow between the two calls: bounded retries
        var buf = [UInt8](repeating: 0, count: max(size, 1))
        let n = getxattr(path, name, &buf, buf.count)
        if n >= 0 { return String(decoding: buf[0..<n], as: UTF8.self) }
        if errno != ERANGE { return nil }
        size = getxattr(path, name, nil, 0)
    }
    return nil
}

/// The seed's folder rules (TrueNAS' Google Photos checks) plus ours: which SOURCE/DEST pairs a run accepts.
enum FolderRules {
    static let rootMessage = "Pulling from the root directory is not allowed. Please, select a specific directory."
    static func mediaMessage(_ dir: String) -> String {
        "Pulling from the \(dir) directory is not allowed. Please, select a specific directory."
    }
    static let uploadPullMessage = "Failed to copy: directory not found"
    static let cantUploadHere = "Failed to sync: can't upload files here"
    static let uploadWarning = "Pushing into upload/: files there are not sorted into albums, and repeated runs duplicate them."
    static let mediaAllNote = "media/all lists only the items this app uploaded: since 31 March 2025 Google's API shows an app nothing else (use Google Takeout or gphotos-sync import for the rest)."

    /// Checks the Google side of a run; returns warnings or notes to show, or throws the refusal.
    static func check(direction: SyncDirection, mode: SyncMode, google: Endpoint) throws(SyncError) -> [String] {
        guard let folder = google.folder else { return [] }
        switch folder {
        case .root: throw SyncError(.usage, rootMessage)
        case .media: throw SyncError(.usage, mediaMessage("media"))
        case .mediaByDay: throw SyncError(.usage, mediaMessage("media/by-day"))
        case .other(let rel): throw SyncError(.directoryNotFound, "\(google.path): no folder '\(rel)' in the mount (its folders are album/, media/ and upload/)")
        default: break
        }
        switch direction {
        case .pull:
            switch folder {
            case .upload: throw SyncError(.directoryNotFound, uploadPullMessage)
            case .mediaAll, .mediaOther:
                if mode == .move {
                    throw SyncError(.usage, "MOVE can't take items out of \(google.relative): Google's API can't delete media. Pull from an album, or use --mode copy.")
                }
                return folder == .mediaAll ? [mediaAllNote] : []
            default: return []
            }
        case .push:
            switch folder {
            case .albums, .album: return []
            case .upload:
                if mode == .sync {
                    throw SyncError(.usage, "SYNC into upload/ is not possible: nothing in upload/ can be listed or removed. Push into album/ instead.")
                }
                return [uploadWarning]
            default:
                throw SyncError(.usage, "\(google.path): pushing is possible only into album/ (one album per sub-directory), an album under it, or upload/.")
            }
        }
    }
}
