// Streaming, member-by-member reads of Takeout archives (.zip, .tgz, .tar, …) through libarchive, and a writer for fixtures.
import CArchive
import Foundation

/// A UTF-8 LC_CTYPE locale object that every libarchive call runs under (nil if the system has no UTF-8 locale).
///
/// libarchive converts member names between the archive's charset and the *current* locale's. Under the C/POSIX
/// locale that loses every non-ASCII character, so calls switch the calling thread (only) to this locale with
/// uselocale(3) and back; the process-wide locale is never changed.
private nonisolated(unsafe) let archiveUTF8Locale: UnsafeMutableRawPointer? = carchive_new_utf8_locale()

/// A zero-filled chunk used to deliver the holes of sparse members.
private let zeroChunk = [UInt8](repeating: 0, count: 1 << 16)

/// Closes a file descriptor (a free function, since ArchiveWriter's own `close()` shadows the C one).
private func closeDescriptor(_ fd: Int32) { _ = close(fd) }

/// Runs `body` with the calling thread's LC_CTYPE set to UTF-8, restoring the thread's previous locale afterwards.
@inline(__always)
private func inUTF8Locale<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
    let previous = carchive_use_locale(archiveUTF8Locale)
    defer { _ = carchive_use_locale(previous) }
    return try body()
}

/// libarchive's last error message for `handle`, with a fallback when it has none.
private func libarchiveMessage(_ handle: OpaquePointer?, code: Int32) -> String {
    if let handle, let cString = archive_error_string(handle) {
        // Trimmed of the trailing newline or full stop some messages carry, since callers append to it.
        var text = Substring(String(cString: cString))
        while let last = text.last, last.isWhitespace || last == "." { text = text.dropLast() }
        if !text.isEmpty { return String(text) }
    }
    return "libarchive error \(code) with no message"
}

/// An error reading or writing an archive: the archive's path and libarchive's message.
public struct ArchiveError: Error, Sendable, CustomStringConvertible {
    /// The archive file the error is about.
    public let path: String
    /// What went wrong (libarchive's message plus what to do about it).
    public let message: String

    /// Creates an error about the archive at `path`.
    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    /// "`path`: `message`".
    public var description: String { "\(path): \(message)" }
}

/// One member of an archive.
public struct ArchiveEntry: Sendable, Equatable {
    /// The member's path in UTF-8 as stored, without leading "./" or "/" (and without a directory's trailing "/").
    public let path: String
    /// The member's uncompressed size in bytes, -1 if the archive does not say.
    public let size: Int64
    /// Modification time in seconds since the epoch, 0 if unset.
    public let mtime: Int64
    /// Whether the member is a regular file with its own data (false for directories, symlinks and tar hard links).
    public let isRegularFile: Bool
    /// Whether the member is a directory.
    public let isDirectory: Bool

    /// Creates an entry (for tests and callers that synthesize members).
    public init(path: String, size: Int64, mtime: Int64, isRegularFile: Bool, isDirectory: Bool) {
        self.path = path
        self.size = size
        self.mtime = mtime
        self.isRegularFile = isRegularFile
        self.isDirectory = isDirectory
    }

    /// `raw` without leading "/" and "./" prefixes and without trailing "/" (an archive's root entry becomes "").
    static func normalize(_ raw: String) -> String {
        var path = Substring(raw)
        while true {
            if path.hasPrefix("./") {
                path = path.dropFirst(2)
            } else if path.hasPrefix("/") {
                path = path.dropFirst()
            } else {
                break
            }
        }
        if path == "." { path = "" }
        while path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }
}

/// Reads .zip, .tgz/.tar.gz, .tar (and whatever libarchive detects) member by member, streaming; not thread-safe, one per thread.
public final class ArchiveReader {
    /// The archive file being read.
    public let path: String
    /// The libarchive read handle (owned; freed in deinit).
    private let handle: OpaquePointer
    /// The current member's path, nil before the first `next()`, at the end, or after a failed `next()`.
    private var currentPath: String?
    /// The current member's declared size (-1 if unknown).
    private var currentSize: Int64 = -1
    /// Whether `next()` has returned nil, so later calls return nil without touching libarchive.
    private var finished = false
    /// Whether any member header has been read.
    private var sawHeader = false

    /// Opens the archive at `path`, reading it `blockSize` bytes at a time; fails if it is missing or not an archive.
    public init(path: String, blockSize: Int = 1 << 20) throws(ArchiveError) {
        self.path = path
        guard blockSize >= 512, blockSize <= 1 << 30 else {
            throw ArchiveError(path: path, message: "block size \(blockSize) is out of range; use 512 bytes to 1 GiB")
        }
        let opened: Result<OpaquePointer, ArchiveError> = inUTF8Locale {
            guard let handle = archive_read_new() else {
                return .failure(ArchiveError(path: path, message: "cannot create a libarchive reader (out of memory?)"))
            }
            archive_read_support_filter_all(handle)
            archive_read_support_format_all(handle)
            // archive_read_open_filename gives libarchive a seekable source, so zip uses the central-directory reader
            // (Zip64, data descriptors).
            let code = archive_read_open_filename(handle, path, blockSize)
            if code != ARCHIVE_OK && code != ARCHIVE_WARN {
                let message = libarchiveMessage(handle, code: code)
                archive_read_free(handle)
                return .failure(ArchiveError(
                    path: path,
                    message: "cannot open as an archive: \(message); check that the file exists, is readable, and is a "
                        + "complete .zip, .tgz or .tar download"))
            }
            return .success(handle)
        }
        handle = try opened.get()
    }

    deinit {
        inUTF8Locale { _ = archive_read_free(handle) }
    }

    /// Bytes of the archive file read so far (compressed bytes for a .tgz): how far a pass has come.
    public var bytesRead: Int64 { archive_filter_bytes(handle, -1) }

    /// The archive's format name as libarchive reports it after the first header ("ZIP 2.0 (deflation)", "GNU tar format", …).
    public var formatName: String {
        inUTF8Locale { archive_format_name(handle).map { String(cString: $0) } ?? "" }
    }

    /// The next member's header, or nil at the end. Any unread data of the previous member is skipped.
    public func next() throws(ArchiveError) -> ArchiveEntry? {
        currentPath = nil
        currentSize = -1
        if finished { return nil }
        let result: Result<ArchiveEntry?, ArchiveError> = inUTF8Locale {
            var entryPointer: OpaquePointer?
            let code = archive_read_next_header(handle, &entryPointer)
            if code == ARCHIVE_EOF {
                if !sawHeader && archive_format(handle) == ARCHIVE_FORMAT_EMPTY {
                    return .failure(ArchiveError(
                        path: path, message: "the file is empty (0 bytes), not an archive; download it again"))
                }
                return .success(nil)
            }
            guard code == ARCHIVE_OK || code == ARCHIVE_WARN, let entry = entryPointer else {
                return .failure(ArchiveError(
                    path: path,
                    message: "cannot read the next member's header: \(libarchiveMessage(handle, code: code)); the "
                        + "archive is corrupt or truncated, download it again"))
            }
            // An mtree manifest is text naming files on the local disk, whose data libarchive would read from there.
            if archive_format(handle) & ARCHIVE_FORMAT_BASE_MASK == ARCHIVE_FORMAT_MTREE {
                return .failure(ArchiveError(
                    path: path,
                    message: "the file is an mtree manifest (a list of local files), not an archive; pass the "
                        + ".zip, .tgz or .tar download itself"))
            }
            // Both are NULL only if libarchive could not convert the name (no UTF-8 locale on the system).
            guard let name = archive_entry_pathname_utf8(entry) ?? archive_entry_pathname(entry) else {
                return .failure(ArchiveError(
                    path: path,
                    message: "cannot decode a member's name: \(libarchiveMessage(handle, code: code)); install a UTF-8 "
                        + "locale (C.UTF-8) so non-ASCII names can be read"))
            }
            let rawPath = String(cString: name)
            return .success(ArchiveEntry(
                path: ArchiveEntry.normalize(rawPath),
                size: archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : -1,
                mtime: archive_entry_mtime_is_set(entry) != 0 ? Int64(archive_entry_mtime(entry)) : 0,
                isRegularFile: carchive_entry_is_regular(entry) != 0,
                isDirectory: carchive_entry_is_directory(entry) != 0))
        }
        let entry = try result.get()
        guard let entry else {
            finished = true
            return nil
        }
        sawHeader = true
        currentPath = entry.path
        currentSize = entry.size
        return entry
    }

    /// Streams the current member's data in chunks to `body` (the buffer is only valid during the call; zero-copy via archive_read_data_block where possible).
    ///
    /// Rethrows `body`'s errors (the rest of the member is then skipped by the next `next()`); archive errors are
    /// `ArchiveError`. A second call for the same member delivers nothing.
    public func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var bodyError: (any Error)?
        try forEachBlock { block in
            do {
                try body(block)
                return true
            } catch {
                bodyError = error
                return false
            }
        }
        if let bodyError { throw bodyError }
    }

    /// The current member's data, failing with ArchiveError if it is larger than `limit` bytes (for JSON sidecars).
    public func readAll(limit: Int) throws(ArchiveError) -> Data {
        let limit = max(limit, 0)
        if let name = currentPath, currentSize > Int64(limit) {
            throw ArchiveError(
                path: path,
                message: "member '\(name)' is \(currentSize) bytes, over the \(limit)-byte limit for reading it whole; "
                    + "stream it with readData instead")
        }
        var data = Data()
        data.reserveCapacity(Int(max(0, min(currentSize, Int64(limit)))))
        var tooLarge = false
        try forEachBlock { block in
            if block.count > limit - data.count {
                tooLarge = true
                return false
            }
            data.append(contentsOf: block)
            return true
        }
        if tooLarge {
            throw ArchiveError(
                path: path,
                message: "member '\(currentPath ?? "")' is over the \(limit)-byte limit for reading it whole; "
                    + "stream it with readData instead")
        }
        return data
    }

    /// Hands the current member's data blocks to `body` in order, filling sparse holes with zeros, until the end or
    /// until `body` returns false.
    private func forEachBlock(_ body: (UnsafeRawBufferPointer) -> Bool) throws(ArchiveError) {
        guard let name = currentPath else {
            throw ArchiveError(
                path: path,
                message: "there is no current member to read; call next() first and read only while it returns a member")
        }
        var expectedOffset: Int64 = 0
        while true {
            var buffer: UnsafeRawPointer?
            var size = 0
            var offset: Int64 = 0
            let code = inUTF8Locale { archive_read_data_block(handle, &buffer, &size, &offset) }
            if code == ARCHIVE_EOF { return }
            if code != ARCHIVE_OK && code != ARCHIVE_WARN {
                throw dataError(name, code)
            }
            if offset > expectedOffset {
                // A hole in a sparse member: only plausible within the member's declared size.
                guard currentSize >= 0, offset <= currentSize else {
                    throw ArchiveError(
                        path: path,
                        message: "member '\(name)' has data at offset \(offset), past its size \(currentSize); the "
                            + "archive is corrupt, download it again")
                }
                var gap = offset - expectedOffset
                while gap > 0 {
                    let count = Int(min(gap, Int64(zeroChunk.count)))
                    let keepGoing = zeroChunk.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    if !keepGoing { return }
                    gap -= Int64(count)
                }
                expectedOffset = offset
            }
            if size > 0, let buffer {
                if !body(UnsafeRawBufferPointer(start: buffer, count: size)) { return }
                expectedOffset = offset + Int64(size)
            }
            // A warning during data reads is an integrity failure (for example a zip member's CRC mismatch).
            if code == ARCHIVE_WARN { throw dataError(name, code) }
        }
    }

    /// The error for a failed data read of member `name`.
    private func dataError(_ name: String, _ code: Int32) -> ArchiveError {
        let message = inUTF8Locale { libarchiveMessage(handle, code: code) }
        return ArchiveError(
            path: path,
            message: "cannot read member '\(name)': \(message); the archive is corrupt or truncated, download it again")
    }
}

/// Writes a .zip or .tgz (for generated test fixtures and benchmarks).
public final class ArchiveWriter {
    /// The container written.
    public enum Format: Sendable {
        /// A deflate-compressed zip (UTF-8 name flag; Zip64 when needed).
        case zip
        /// A gzip-compressed tar in restricted pax format (pax headers for non-ASCII or long names).
        case tgz
    }

    /// The archive file being written.
    public let path: String
    /// The libarchive write handle, nil once closed.
    private var handle: OpaquePointer?

    /// Creates (or truncates) the archive at `path`.
    public init(path: String, format: Format) throws(ArchiveError) {
        self.path = path
        let created: Result<OpaquePointer, ArchiveError> = inUTF8Locale {
            guard let handle = archive_write_new() else {
                return .failure(ArchiveError(path: path, message: "cannot create a libarchive writer (out of memory?)"))
            }
            var code: Int32
            switch format {
            case .zip:
                code = archive_write_set_format_zip(handle)
                if code == ARCHIVE_OK { code = archive_write_set_options(handle, "zip:hdrcharset=UTF-8") }
            case .tgz:
                code = archive_write_set_format_pax_restricted(handle)
                if code == ARCHIVE_OK { code = archive_write_add_filter_gzip(handle) }
                if code == ARCHIVE_OK { code = archive_write_set_options(handle, "pax:hdrcharset=UTF-8") }
            }
            if code == ARCHIVE_OK { code = archive_write_open_filename(handle, path) }
            if code != ARCHIVE_OK {
                let message = libarchiveMessage(handle, code: code)
                archive_write_free(handle)
                return .failure(ArchiveError(
                    path: path,
                    message: "cannot create the archive: \(message); check the directory exists and is writable"))
            }
            return .success(handle)
        }
        handle = try created.get()
    }

    deinit {
        if let handle { inUTF8Locale { _ = archive_write_free(handle) } }
    }

    /// Adds a regular file member (UTF-8 path, any length, non-ASCII names must round-trip through ArchiveReader for both formats: use pax for tar, and the UTF-8 flag / hdrcharset=UTF-8 for zip).
    public func add(path memberPath: String, data: Data, mtime: Int64) throws(ArchiveError) {
        try writeMember(memberPath, size: Int64(data.count), mtime: mtime) { () throws(ArchiveError) in
            // Data.withUnsafeBytes only rethrows untyped errors, so the typed error travels in a Result.
            let written = data.withUnsafeBytes { bytes in
                Result { () throws(ArchiveError) in try writeData(bytes, member: memberPath) }
            }
            try written.get()
        }
    }

    /// Adds a regular file member streamed from a local file.
    public func add(path memberPath: String, contentsOf file: String, mtime: Int64) throws(ArchiveError) {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ArchiveError(
                path: path, message: "cannot open '\(file)' to add it as '\(memberPath)': \(String(cString: strerror(errno)))")
        }
        defer { closeDescriptor(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw ArchiveError(path: path, message: "'\(file)' is not a regular file; only regular files can be added")
        }
        let size = Int64(info.st_size)
        try writeMember(memberPath, size: size, mtime: mtime) { () throws(ArchiveError) in
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
            defer { chunk.deallocate() }
            var remaining = size
            while remaining > 0 {
                let want = Int(min(remaining, Int64(chunk.count)))
                let got = read(fd, chunk.baseAddress, want)
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else {
                    let reason = got < 0 ? String(cString: strerror(errno)) : "it shrank while being read"
                    throw ArchiveError(
                        path: path,
                        message: "cannot read '\(file)' for member '\(memberPath)': \(reason); the archive is now "
                            + "incomplete, write it again")
                }
                try writeData(UnsafeRawBufferPointer(rebasing: chunk[0..<got]), member: memberPath)
                remaining -= Int64(got)
            }
        }
    }

    /// Finishes the archive (central directory / tar trailer, gzip footer) and closes the file.
    public func close() throws(ArchiveError) {
        guard let handle else { return }
        self.handle = nil
        let failure: ArchiveError? = inUTF8Locale {
            let code = archive_write_close(handle)
            let message = code == ARCHIVE_OK ? nil : libarchiveMessage(handle, code: code)
            archive_write_free(handle)
            return message.map {
                ArchiveError(path: path, message: "cannot finish the archive: \($0); check free disk space, then write it again")
            }
        }
        if let failure { throw failure }
    }

    /// Writes one regular-file header of `size` bytes, runs `writeBody` to write the data, and finishes the member.
    private func writeMember(
        _ memberPath: String, size: Int64, mtime: Int64, _ writeBody: () throws(ArchiveError) -> Void
    ) throws(ArchiveError) {
        guard let handle else {
            throw ArchiveError(path: path, message: "cannot add '\(memberPath)': the writer is already closed")
        }
        guard !memberPath.isEmpty, !memberPath.utf8.contains(0) else {
            throw ArchiveError(path: path, message: "member path \(memberPath.debugDescription) is empty or contains NUL")
        }
        // Without a UTF-8 locale libarchive cannot convert non-ASCII names (and its pax writer crashes trying).
        guard archiveUTF8Locale != nil || memberPath.utf8.allSatisfy({ $0 < 0x80 }) else {
            throw ArchiveError(
                path: path,
                message: "cannot add '\(memberPath)': non-ASCII names need a UTF-8 locale (C.UTF-8), which this "
                    + "system lacks; install one")
        }
        try inUTF8Locale { () throws(ArchiveError) in
            guard let entry = archive_entry_new() else {
                throw ArchiveError(path: path, message: "cannot create an archive entry (out of memory?)")
            }
            defer { archive_entry_free(entry) }
            archive_entry_set_pathname_utf8(entry, memberPath)
            carchive_entry_set_regular(entry, 0o644)
            archive_entry_set_size(entry, size)
            archive_entry_set_mtime(entry, time_t(mtime), 0)
            let code = archive_write_header(handle, entry)
            if code != ARCHIVE_OK { throw writeError(memberPath, code) }
        }
        try writeBody()
        try inUTF8Locale { () throws(ArchiveError) in
            let code = archive_write_finish_entry(handle)
            if code != ARCHIVE_OK { throw writeError(memberPath, code) }
        }
    }

    /// Writes `bytes` as data of the current member.
    private func writeData(_ bytes: UnsafeRawBufferPointer, member: String) throws(ArchiveError) {
        guard let handle, let base = bytes.baseAddress else { return }
        var offset = 0
        while offset < bytes.count {
            let count = min(bytes.count - offset, 1 << 20)
            let written = inUTF8Locale { archive_write_data(handle, base + offset, count) }
            guard written > 0 else { throw writeError(member, Int32(clamping: written)) }
            offset += written
        }
    }

    /// The error for a failed write of member `member`.
    private func writeError(_ member: String, _ code: Int32) -> ArchiveError {
        let message = inUTF8Locale { libarchiveMessage(handle, code: code) }
        return ArchiveError(
            path: path,
            message: "cannot write member '\(member)': \(message); check free disk space and permissions, then write it again")
    }
}
