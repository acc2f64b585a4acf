// Spool files: the local bytes of a file written through the mount, read and written with pread/pwrite on one fd.
import Crypto
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// An open spool file (a file being written, or a pending file opened again). One fd per open handle.
final class SpoolFile: Sendable {
    /// The journal row (uploads.id).
    let id: Int64
    /// The spool's file descriptor (closed at release).
    let fd: Int32
    /// Opened for writing.
    let writable: Bool
    /// The path shown in messages.
    let path: String
    private struct State { var dirty = false; var claimed = false; var closed = false }
    private let state = Mutex(State())

    /// Wraps an open fd.
    init(id: Int64, fd: Int32, writable: Bool, path: String) {
        self.id = id; self.fd = fd; self.writable = writable; self.path = path
    }

    /// Opens the spool file at `spoolPath` (creating it when `create`).
    static func open(id: Int64, spoolPath: String, writable: Bool, create: Bool, truncate: Bool, path: String) throws(FSError) -> SpoolFile {
        var flags = writable ? O_RDWR : O_RDONLY
        if create { flags |= O_CREAT }
        if truncate { flags |= O_TRUNC }
        flags |= O_CLOEXEC
        let fd = Glibc.open(spoolPath, flags, 0o600)
        guard fd >= 0 else { throw FSError.posix(errno, path, "can't open the spool file \(spoolPath)") }
        return SpoolFile(id: id, fd: fd, writable: writable, path: path)
    }

    /// True once this handle wrote (or truncated) since the last finalize.
    var isDirty: Bool { state.withLock { $0.dirty } }
    /// Marks the handle dirty; returns true the first time since the last finalize (the row must go back to `writing`).
    func markDirty() -> Bool { state.withLock { s in defer { s.dirty = true }; return !s.dirty } }
    /// Clears the dirty mark (after finalize).
    func clearDirty() { state.withLock { $0.dirty = false } }

    /// Writes all of `data` at `offset`.
    func pwrite(_ data: Data, at offset: Int64) throws(FSError) -> Int {
        var done = 0
        var failure: Int32 = 0
        data.withUnsafeBytes { (buf: UnsafeRawBufferPointer) in
            guard let base = buf.baseAddress else { return }
            while done < buf.count {   // bounded: each pass writes ≥ 1 byte or stops
                let n = Glibc.pwrite(fd, base + done, buf.count - done, off_t(offset) + off_t(done))
                if n < 0 { if errno == EINTR { continue }; failure = errno; return }
                if n == 0 { failure = EIO; return }
                done += n
            }
        }
        if failure != 0 { throw FSError.posix(failure, path, "write to the spool") }
        return done
    }

    /// Reads up to `size` bytes at `offset` (short only at end of file).
    func pread(at offset: Int64, size: Int) throws(FSError) -> Data {
        try readFully(fd, at: offset, size: size, path: path, what: "read from the spool")
    }

    /// fsync of the spool.
    func sync() throws(FSError) {
        if Glibc.fsync(fd) != 0 { throw FSError.posix(errno, path, "fsync of the spool") }
    }

    /// ftruncate of the spool.
    func truncate(_ size: Int64) throws(FSError) {
        if Glibc.ftruncate(fd, off_t(size)) != 0 { throw FSError.posix(errno, path, "truncate the spool") }
    }

    /// The spool's current size.
    func size() throws(FSError) -> Int64 {
        var st = stat()
        if fstat(fd, &st) != 0 { throw FSError.posix(errno, path, "stat the spool") }
        return Int64(st.st_size)
    }

    /// SHA-256 of the whole spool, read in 1 MiB chunks.
    func sha256() throws(FSError) -> String {
        var hasher = SHA256()
        var offset: Int64 = 0
        let chunk = 1 << 20
        let total = try size()
        while offset < total {   // bounded by the file size
            let d = try pread(at: offset, size: chunk)
            if d.isEmpty { break }
            hasher.update(data: d)
            offset += Int64(d.count)
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }

    /// Closes the fd once.
    func close() {
        let first = state.withLock { s in defer { s.closed = true }; return !s.closed }
        if first { _ = Glibc.close(fd) }
    }
}

/// Up to `size` bytes of `fd` at `offset` (short only at end of file); an error names `path` and `what` failed.
func readFully(_ fd: Int32, at offset: Int64, size: Int, path: String, what: String) throws(FSError) -> Data {
    guard size > 0, offset >= 0 else { return Data() }
    var out = Data(count: size)
    var done = 0
    var failure: Int32 = 0
    out.withUnsafeMutableBytes { (buf: UnsafeMutableRawBufferPointer) in
        guard let base = buf.baseAddress else { return }
        while done < size {   // bounded: each pass reads ≥ 1 byte or stops
            let n = Glibc.pread(fd, base + done, size - done, off_t(offset) + off_t(done))
            if n < 0 { if errno == EINTR { continue }; failure = errno; return }
            if n == 0 { return }
            done += n
        }
    }
    if failure != 0 { throw FSError.posix(failure, path, what) }
    out.count = done
    return out
}

extension ReadReply {
    /// The bytes themselves (a `.file` range is read from its descriptor); errors name `path`.
    func bytes(path: String) throws(FSError) -> Data {
        switch self {
        case .bytes(let d): return d
        case let .file(fd, offset, count): return try readFully(fd, at: offset, size: count, path: path, what: "read from the cache file")
        }
    }
}
