// Walking one side of a run: the files and directories under a root, filtered, with symlinks and non-media files
// counted; and the small file helpers the engine shares (stat, read a head, run blocking work off the async pool).
import Foundation
import PhotosAPI
#if canImport(Glibc)
import Glibc
#endif

/// One regular file of a walked tree.
public struct FileEntry: Sendable, Equatable {
    /// Path relative to the tree's root ("a/b.jpg").
    public var path: String
    /// Bytes.
    public var size: Int64
    /// Modification time, nanoseconds since the epoch.
    public var mtimeNs: Int64

    /// The last path component.
    public var name: String { path.split(separator: "/").last.map(String.init) ?? path }
    /// The directory part ("" at the root).
    public var directory: String { path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "" }
}

/// A walked tree.
public struct TreeListing: Sendable {
    /// Regular files by relative path.
    public var files: [String: FileEntry] = [:]
    /// Directories (relative paths; the root is not listed).
    public var directories: Set<String> = []
    /// Files left out because they are not photos or videos (push sources only).
    public var nonMedia: [String] = []
    /// Symbolic links left out (without --follow-symlinks).
    public var symlinks: [String] = []
    /// Entries the filters left out.
    public var excluded = 0
    /// Entries that could not be read (path, message).
    public var unreadable: [(String, String)] = []
}

/// How to walk.
struct WalkOptions: Sendable {
    var filter: PathFilter
    var followSymlinks = false
    /// Sniff each file's head and leave out what is not a photo or video Google accepts.
    var mediaOnly = false
    /// Ledger rows: a file with the size and mtime its row records was a photo or video when it was hashed, so its
    /// head is not read again (a re-run of 100,000 photos on disks would otherwise read 100,000 heads).
    var known: [String: LedgerEntry] = [:]
    /// Deepest directory level walked.
    var maxDepth = 64
}

/// The folder `gphotos-sync import` keeps in a dataset's root (manifest, staged files): never synced.
public let importWorkFolder = ".gphotos-import"

enum Walker {
    /// Walks `root` (which must be a directory). Bounded by `maxDepth`, and by a visited set under --follow-symlinks.
    static func walk(_ root: String, _ options: WalkOptions) throws(SyncError) -> TreeListing {
        var st = stat()
        guard sysStat(root, &st) == 0 else {
            if errno == ENOENT { throw SyncError(.directoryNotFound, "\(root): directory not found") }
            throw SyncError.posix(errno, root, "can't open the directory")
        }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw SyncError(.directoryNotFound, "\(root): not a directory") }
        var out = TreeListing()
        var visited: Set<[UInt64]> = [[UInt64(st.st_dev), UInt64(st.st_ino)]]
        var stack: [(String, Int)] = [("", 0)]
        while let (dir, depth) = stack.popLast() {   // each directory is pushed once (visited set, depth bound)
            let full = dir.isEmpty ? root : root + "/" + dir
            let names: [String]
            do { names = try FileManager.default.contentsOfDirectory(atPath: full) } catch {
                out.unreadable.append((dir.isEmpty ? "." : dir, "can't list the directory: \(error.localizedDescription)"))
                continue
            }
            for name in names.sorted() {
                if dir.isEmpty && name == importWorkFolder { continue }   // `gphotos-sync import`'s manifest and staging
                let rel = dir.isEmpty ? name : dir + "/" + name
                let path = full + "/" + name
                var ls = stat()
                guard lstat(path, &ls) == 0 else {
                    out.unreadable.append((rel, String(cString: strerror(errno)))); continue
                }
                var kind = ls.st_mode & S_IFMT
                if kind == S_IFLNK {
                    guard options.followSymlinks else { out.symlinks.append(rel); continue }
                    var target = stat()
                    guard sysStat(path, &target) == 0 else {
                        out.unreadable.append((rel, "broken symbolic link")); continue
                    }
                    ls = target
                    kind = ls.st_mode & S_IFMT
                }
                if kind == S_IFDIR {
                    guard options.filter.includes(directory: rel) else { out.excluded += 1; continue }
                    guard depth + 1 < options.maxDepth else {
                        out.unreadable.append((rel, "deeper than \(options.maxDepth) levels: left out")); continue
                    }
                    guard visited.insert([UInt64(ls.st_dev), UInt64(ls.st_ino)]).inserted else {
                        out.unreadable.append((rel, "a symbolic link loop: left out")); continue
                    }
                    out.directories.insert(rel)
                    stack.append((rel, depth + 1))
                } else if kind == S_IFREG {
                    guard options.filter.includes(file: rel) else { out.excluded += 1; continue }
                    if options.mediaOnly, ls.st_size > 0 {
                        let unchanged = options.known[rel].map { $0.size == Int64(ls.st_size) && $0.mtimeNs == mtimeNs(ls) } ?? false
                        if !unchanged && !isMedia(path, name: name) { out.nonMedia.append(rel); continue }
                    } else if options.mediaOnly {
                        out.nonMedia.append(rel); continue   // empty files are never uploaded (docs/SEMANTICS.md)
                    }
                    out.files[rel] = FileEntry(path: rel, size: Int64(ls.st_size), mtimeNs: mtimeNs(ls))
                }
                // Sockets, fifos and devices are not photos: skipped silently like rclone does.
            }
        }
        return out
    }

    /// True when the file's first bytes are a photo or video format Google accepts.
    static func isMedia(_ path: String, name: String) -> Bool {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var head = [UInt8](repeating: 0, count: MediaSniff.headLength)
        let n = read(fd, &head, head.count)
        guard n > 0 else { return false }
        return MediaSniff.mimeType(head: Array(head[0..<n]), fileName: name) != nil
    }
}

/// The modification time of a stat result in nanoseconds.
func mtimeNs(_ st: stat) -> Int64 { Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec) }

/// Runs blocking file work (reads and writes through a FUSE mount can take as long as an upload) on a thread of its
/// own, so the cooperative pool never waits on a system call.
public func onThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (c: CheckedContinuation<T, Never>) in
        let t = Thread { c.resume(returning: work()) }
        t.stackSize = 512 << 10
        t.start()
    }
}

extension PathFilter {
    /// True when include patterns narrow the files (an empty result may then be the filters' doing).
    var isFiltering: Bool { !includePatterns.isEmpty }
}

extension RateLimiter {
    /// `take` for a copy running on a thread of its own (not the cooperative pool): waits on a semaphore.
    func takeBlocking(_ bytes: Int, limit: Int64?) {
        guard let limit, limit > 0 else { return }
        let done = DispatchSemaphore(value: 0)
        Task { await self.take(bytes, limit: limit); done.signal() }
        done.wait()
    }
}

/// stat(2) (the name is shadowed by the struct inside functions that declare one).
func sysStat(_ path: String, _ st: inout stat) -> Int32 { stat(path, &st) }
