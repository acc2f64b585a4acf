// Path locks between gphotos-sync runs: a run holds its source (read, or write for MOVE) and its destination (write);
// overlapping paths conflict unless both only read. One JSON registry under flock; dead runs' entries are dropped.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// One locked path.
public struct PathLock: Codable, Sendable, Equatable {
    /// Absolute normalized path.
    public var path: String
    /// Written (or deleted from) by the run.
    public var write: Bool
    /// Creates a lock request.
    public init(path: String, write: Bool) { self.path = path; self.write = write }
}

/// The locks a run holds until `release()`.
public final class RunLock: Sendable {
    struct Holder: Codable {
        var pid: Int32
        var token: String
        var label: String
        var paths: [PathLock]
    }

    let registry: String
    let token: String

    private init(registry: String, token: String) { self.registry = registry; self.token = token }

    /// Takes `paths` for `label` (a task name or "push SOURCE DEST"), or throws naming the run that holds them.
    public static func acquire(registryDir: String, label: String, paths: [PathLock]) throws(SyncError) -> RunLock {
        let registry = registryDir + "/locks.json"
        let token = UUID().uuidString
        try withRegistry(registry) { holders throws(SyncError) in
            holders.removeAll { kill($0.pid, 0) != 0 && errno == ESRCH }   // runs that died without releasing
            for h in holders {
                for mine in paths {
                    for theirs in h.paths where overlaps(mine.path, theirs.path) && (mine.write || theirs.write) {
                        throw SyncError(.temporary, "\(mine.path) is in use by another gphotos-sync run (\(h.label), pid \(h.pid), holding \(theirs.path)); run again when it has finished")
                    }
                }
            }
            holders.append(Holder(pid: getpid(), token: token, label: label, paths: paths))
        }
        return RunLock(registry: registry, token: token)
    }

    /// Releases the locks (also done by the registry when the process is gone).
    public func release() {
        try? Self.withRegistry(registry) { (holders: inout [Holder]) throws(SyncError) in holders.removeAll { $0.token == token } }
    }

    /// True when one path is the other or lies under it.
    static func overlaps(_ a: String, _ b: String) -> Bool {
        func under(_ x: String, _ y: String) -> Bool { x == y || y == "/" || x.hasPrefix(y + "/") }
        return under(a, b) || under(b, a)
    }

    /// Reads, edits and writes the registry under an exclusive flock.
    static func withRegistry(_ path: String, _ edit: (inout [Holder]) throws(SyncError) -> Void) throws(SyncError) {
        let dir = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SyncError.posix(errno, path, "can't open the lock registry") }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw SyncError.posix(errno, path, "can't lock the lock registry") }
        defer { flock(fd, LOCK_UN) }
        let data = FileHandle(fileDescriptor: fd, closeOnDealloc: false).readDataToEndOfFile()
        var holders = (try? JSONDecoder().decode([Holder].self, from: data)) ?? []
        try edit(&holders)
        let out = (try? JSONEncoder().encode(holders)) ?? Data("[]".utf8)
        guard ftruncate(fd, 0) == 0 else { throw SyncError.posix(errno, path, "can't write the lock registry") }
        let ok = out.withUnsafeBytes { b in pwrite(fd, b.baseAddress, b.count, 0) == b.count }
        if !ok { throw SyncError.posix(errno, path, "can't write the lock registry") }
    }
}
