// The dataset's .gphotos-import/ folder: the manifest, a lock, and staged objects named by content hash, from which
// files are hard-linked into place (same file system as the dataset, so links and renames are atomic).
import Crypto
import Foundation
import SyncEngine

/// The import's working folder inside a dataset.
struct Staging: Sendable {
    /// The dataset root.
    let dataset: String
    /// DATASET/.gphotos-import
    var dir: String { dataset + "/" + Staging.folderName }
    /// Where objects wait to be placed.
    var objects: String { dir + "/objects" }
    /// Partly written objects.
    var tmp: String { dir + "/tmp" }
    /// The manifest file.
    var manifest: String { dir + "/manifest.sqlite" }

    /// The folder's name (gphotos-sync push leaves dot-folders alone, so it never becomes an album).
    static let folderName = importWorkFolder

    /// Creates the folders; empties tmp/ (left by an interrupted run).
    func prepare() throws(SyncError) {
        for d in [dir, objects, tmp] {
            if mkdir(d, 0o700) != 0 && errno != EEXIST { throw SyncError.posix(errno, d, "can't create the import's folder") }
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? [] { unlink(tmp + "/" + name) }
    }

    /// The staged object of `sha`.
    func object(_ sha: String) -> String { objects + "/" + sha }

    /// Takes the dataset's import lock (one import per dataset at a time); the descriptor holds it until closed.
    func lock() throws(SyncError) -> Int32 {
        let path = dir + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SyncError.posix(errno, path, "can't open the import lock") }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            close(fd)
            throw SyncError(.temporary, "\(dataset): another import into this dataset is running (wait for it, or stop it)")
        }
        return fd
    }

    /// Streams one member into an object: written to tmp/, hashed, synced, renamed to objects/SHA (or dropped when that
    /// object already exists: identical bytes). Returns the hash and size.
    func stage(_ label: String, abort: AbortFlag, _ feed: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> (sha: String, size: Int64) {
        var template = Array((tmp + "/part-XXXXXX").utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw SyncError.posix(errno, tmp, "can't create a file") }
        let tmpPath = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var done = false
        defer { close(fd); if !done { unlink(tmpPath) } }
        var hasher = SHA256()
        var size: Int64 = 0
        try feed { chunk in
            if abort.isSet { throw SyncError(.aborted, "\(label): stopped") }
            hasher.update(bufferPointer: chunk)
            try Staging.write(fd, chunk, path: dataset + " (\(label))")
            size += Int64(chunk.count)
        }
        if fdatasync(fd) != 0 { throw SyncError.posix(errno, dataset, "can't write \(label)") }
        let sha = hex(hasher.finalize())
        let dest = object(sha)
        if access(dest, F_OK) == 0 { return (sha, size) }   // identical bytes are already staged
        fchmod(fd, 0o644)
        guard rename(tmpPath, dest) == 0 else { throw SyncError.posix(errno, dest, "can't store \(label)") }
        done = true
        return (sha, size)
    }

    /// Creates the folders above `rel` in the dataset.
    func makeParents(_ rel: String) throws(SyncError) {
        var path = dataset
        for c in rel.split(separator: "/").dropLast() {
            path += "/" + c
            if mkdir(path, 0o755) != 0 && errno != EEXIST { throw SyncError.posix(errno, path, "can't create the folder") }
        }
    }

    /// A hard link, or a copy where the file system refuses links (another dataset below this one, SMB, FAT).
    static func linkOrCopy(_ source: String, _ dest: String) throws(SyncError) {
        if link(source, dest) == 0 { return }
        let err = errno
        if err == EEXIST {
            var a = stat(), b = stat()
            if stat(source, &a) == 0 && stat(dest, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev { return }
            throw SyncError(.noRetry, "\(dest): a different file has this name: move it away and run again")
        }
        guard err == EXDEV || err == EPERM || err == EMLINK || err == ENOTSUP else { throw SyncError.posix(err, dest, "can't link") }
        let tmp = dest + ".gphotos-import-tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SyncError.posix(errno, tmp, "can't write") }
        do {
            defer { close(fd) }
            try TakeoutInput.stream(source) { chunk in try Staging.write(fd, chunk, path: tmp) }
            var st = stat()
            if stat(source, &st) == 0 {
                var times = [st.st_atim, st.st_mtim]
                futimens(fd, &times)
            }
        } catch {
            unlink(tmp)
            throw (error as? SyncError) ?? SyncError(.other, "\(dest): \(error)")
        }
        guard rename(tmp, dest) == 0 else { unlink(tmp); throw SyncError.posix(errno, dest, "can't write") }
    }

    /// Sets a file's atime and mtime to `t` (epoch seconds).
    static func setDate(_ path: String, _ t: Int64) throws(SyncError) {
        var times = [timespec(tv_sec: time_t(t), tv_nsec: 0), timespec(tv_sec: time_t(t), tv_nsec: 0)]
        if utimensat(AT_FDCWD, path, &times, 0) != 0 { throw SyncError.posix(errno, path, "can't set the date") }
    }

    /// Writes all of `buffer` to `fd` (short writes continued, EINTR retried); errors name `path`.
    static func write(_ fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws(SyncError) {
        var off = 0
        while off < buffer.count {   // bounded: each pass writes at least one byte or throws
            let n = Glibc.write(fd, buffer.baseAddress! + off, buffer.count - off)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw SyncError.posix(n < 0 ? errno : EIO, path, "can't write") }
            off += n
        }
    }
}
