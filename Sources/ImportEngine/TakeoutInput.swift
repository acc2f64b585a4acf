// The inputs of a Takeout import: .zip/.tgz parts read member by member, or an already-extracted Takeout folder.
import Foundation
import SyncEngine

/// One member as the import sees it: where it sits below "Takeout/", and how to read its bytes.
struct TakeoutMember {
    /// The member's path as stored in its part.
    var path: String
    /// Path components below "Takeout/" (photos folder, folder…, name); nil when the member is not under a Takeout folder.
    var belowTakeout: [String]?
    /// Size in bytes.
    var size: Int64
    /// mtime in seconds.
    var mtime: Int64
    /// Bytes of the part read up to this member (archives; 0 for folders): for progress.
    var offset: Int64 = 0
}

/// An archive part or an extracted folder.
struct TakeoutInput: Sendable {
    /// How the bytes are stored.
    enum Kind: Sendable { case archive, folder }
    /// The absolute path given.
    let path: String
    /// Archive or folder.
    let kind: Kind
    /// Size (archives) or 0 (folders), and mtime: a part whose size or mtime changed is catalogued again.
    let size: Int64
    let mtime: Int64
    /// For folders: the path prefix that puts their members below "Takeout/" (see `prefix(forFolder:)`).
    let folderPrefix: [String]

    /// Resolves a command-line argument: an existing archive file or a directory.
    init(_ argument: String) throws(SyncError) {
        let path = URL(fileURLWithPath: argument).standardizedFileURL.path
        var st = stat()
        guard stat(path, &st) == 0 else { throw SyncError.posix(errno, path, "can't read this Takeout part") }
        self.path = path
        mtime = Int64(st.st_mtim.tv_sec)
        if (st.st_mode & S_IFMT) == S_IFDIR {
            kind = .folder; size = 0
            folderPrefix = Self.prefix(forFolder: path)
        } else if (st.st_mode & S_IFMT) == S_IFREG {
            kind = .archive; size = Int64(st.st_size); folderPrefix = []
        } else {
            throw SyncError(.usage, "\(path): not a file or a directory: give Takeout .zip/.tgz parts or an extracted Takeout folder")
        }
    }

    /// Where an extracted folder sits in a Takeout tree: "Takeout" itself, its Google Photos folder, or a folder above
    /// "Takeout" (then members carry "Takeout/" in their own paths).
    static func prefix(forFolder path: String) -> [String] {
        let name = (path as NSString).lastPathComponent
        if name == "Takeout" { return ["Takeout"] }
        if TakeoutFolders.isPhotosFolder(name) { return ["Takeout", name] }
        // A folder holding year folders is a photos folder under another language's name.
        let children = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        if children.contains(where: { if case .year = TakeoutFolders.kind(ofFolder: $0) { return true }; return false }) {
            return ["Takeout", name]
        }
        return []
    }

    /// Components below "Takeout/" of a member path, or nil.
    static func belowTakeout(_ components: [String]) -> [String]? {
        guard let i = components.firstIndex(of: "Takeout"), components.count - i >= 3 else { return nil }
        return Array(components[(i + 1)...])
    }

    /// Calls `body` for every regular file member (in archive order, or sorted for folders); `read` streams that
    /// member's bytes and may be called once (or not at all) inside `body`. Stops early when `body` returns false.
    func forEachMember(_ body: (TakeoutMember, _ read: ((UnsafeRawBufferPointer) throws -> Void) throws -> Void) throws -> Bool) throws {
        switch kind {
        case .archive:
            let reader: ArchiveReader
            do { reader = try ArchiveReader(path: path) } catch { throw SyncError(.noRetry, "\(error) (is it a Takeout .zip or .tgz part?)") }
            while true {
                let next: ArchiveEntry?
                do { next = try reader.next() } catch { throw SyncError(.noRetry, "\(error) (the part may be damaged or still downloading)") }
                guard let e = next else { return }
                guard e.isRegularFile else { continue }
                let comps = e.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
                let m = TakeoutMember(path: e.path, belowTakeout: Self.belowTakeout(comps), size: max(0, e.size), mtime: e.mtime,
                                      offset: reader.bytesRead)
                let keepGoing = try body(m) { chunk in
                    do { try reader.readData(chunk) } catch let e as ArchiveError {
                        throw SyncError(.noRetry, "\(e) (the part may be damaged or still downloading)")
                    }
                }
                if !keepGoing { return }
            }
        case .folder:
            for rel in try Self.walk(path) {
                let full = path + "/" + rel
                var st = stat()
                guard lstat(full, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { continue }
                let comps = folderPrefix + rel.split(separator: "/").map(String.init)
                let m = TakeoutMember(path: rel, belowTakeout: Self.belowTakeout(comps), size: Int64(st.st_size), mtime: Int64(st.st_mtim.tv_sec))
                let keepGoing = try body(m) { chunk in try Self.stream(full, chunk) }
                if !keepGoing { return }
            }
        }
    }

    /// Relative paths of the regular files under `root`, sorted (symlinks are not followed).
    static func walk(_ root: String) throws(SyncError) -> [String] {
        guard let e = FileManager.default.enumerator(atPath: root) else {
            throw SyncError(.directoryNotFound, "\(root): can't list this folder")
        }
        var out: [String] = []
        while let rel = e.nextObject() as? String {
            if let type = e.fileAttributes?[.type] as? FileAttributeType, type == .typeRegular { out.append(rel) }
        }
        return out.sorted()
    }

    /// Streams a local file in 1 MiB chunks.
    static func stream(_ path: String, _ chunk: (UnsafeRawBufferPointer) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SyncError.posix(errno, path, "can't read") }
        defer { close(fd) }
        let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buf.deallocate() }
        while true {
            let n = read(fd, buf.baseAddress, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw SyncError.posix(errno, path, "can't read") }
            if n == 0 { return }
            try chunk(UnsafeRawBufferPointer(rebasing: buf[0..<n]))
        }
    }
}
