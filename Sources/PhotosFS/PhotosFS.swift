// PhotosFS: the file-system core. Every operation the kernel can ask for, as an async method; no libfuse here.
import Foundation
import Logging
import MetadataStore
import PhotosAPI

/// Where a mount keeps its files.
public struct StatePaths: Sendable, Equatable {
    /// The SQLite state file.
    public var database: String
    /// Spool files (bytes written, not yet committed). Never evicted.
    public var spool: String
    /// Downloaded content (LRU, -o cache_max_size).
    public var content: String

    /// Everything under one directory (-o cache_dir).
    public init(cacheDir: String) { self.init(stateDir: cacheDir, cacheDir: cacheDir) }

    /// Durable state (SQLite + spool) under `stateDir`, downloaded content under `cacheDir`.
    public init(stateDir: String, cacheDir: String) {
        database = stateDir + "/state.sqlite"
        spool = stateDir + "/spool"
        content = cacheDir + "/content"
    }
}

/// The Google Photos file system for one account.
public final class PhotosFS: Sendable {
    /// The mount options.
    public let options: MountOptions
    /// The SQLite state.
    public let store: MetadataStore
    /// The account's API client.
    public let client: PhotosClient
    /// Where files live.
    public let paths: StatePaths
    let clock: any PhotosClock
    let logger: Logger
    let handles = HandleTable()
    let tree: TreeState
    let writes: WriteState

    /// Opens the state under `paths` (creating it) for `client`. Call `start()` before serving requests.
    public init(client: PhotosClient, paths: StatePaths, options: MountOptions, clock: any PhotosClock = SystemClock(),
                logger: Logger = Logger(label: "gphotosfs")) throws(FSError) {
        self.client = client
        self.paths = paths
        self.options = options
        self.clock = clock
        self.logger = logger
        for dir in [paths.spool, paths.content] {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw FSError(EIO, "\(dir): can't create the cache directory: \(error.localizedDescription)")
            }
        }
        do { store = try MetadataStore(path: paths.database) } catch { throw FSError(error, path: paths.database) }
        tree = TreeState()
        writes = WriteState()
    }

    /// Resumes journaled uploads and starts background work (uploader, refreshes).
    public func start() async { await startWrites() }

    /// Stops background work: pending uploads get `grace` seconds, the rest stay journaled. Returns how many remain.
    public func shutdown(grace: Double) async -> Int { await stopWrites(grace: grace) }

    // MARK: operations (the kernel's requests; docs/SEMANTICS.md says what each does)

    /// Finds `name` in the directory `parent`.
    public func lookup(parent: UInt64, name: String) async throws(FSError) -> EntryReply {
        try await treeLookup(parent: try node(parent), name: name)
    }

    /// stat().
    public func getattr(_ ino: UInt64) async throws(FSError) -> FileAttributes {
        let n = try node(ino)
        if case .pending(let id) = n { return try await pendingAttributes(id) }
        return try await treeAttributes(n)
    }

    /// Seconds the kernel may cache what getattr answered: an hour for a committed item whose size is known (its
    /// bytes never change: Google items are immutable), one second for everything else (pending files, directories).
    public func attrCacheSeconds(_ ino: UInt64, _ a: FileAttributes) -> Double {
        if a.sizeUnknown { return 0 }
        if case .item? = NodeID(ino: ino) { return Self.itemAttrTimeout }
        return 1
    }

    /// chmod/chown/truncate/utimens.
    public func setattr(_ ino: UInt64, _ changes: SetAttributes, handle: UInt64?) async throws(FSError) -> FileAttributes {
        try await writeSetattr(try node(ino), changes, spool: handle.flatMap(spool))
    }

    /// Opens a directory: a snapshot of its entries.
    public func opendir(_ ino: UInt64) async throws(FSError) -> UInt64 {
        try await treeOpenDir(try node(ino))
    }

    /// Entries after `offset` (offsets are 1-based positions in the snapshot), at most `limit`.
    public func readdir(_ ino: UInt64, handle: UInt64, offset: Int, limit: Int = .max) throws(FSError) -> [DirEntry] {
        guard case .directory(let listing)? = handles.get(handle) else { throw FSError(EBADF, "directory handle \(handle)") }
        return listing.entries(after: offset, limit: limit, make: dirEntry)
    }

    /// How the kernel may cache the entries of a directory just opened (`cache`: keep what readdir returns in its page
    /// cache; `keep`: serve them from the copy an earlier open filled). Only a snapshot that is exactly a committed
    /// listing is cached, and an earlier copy is kept only while it shows the same listing, every size was known when
    /// it was filled, and the entry timeouts its readdirplus set have not run out (a cached readdir refreshes no dentry,
    /// so stat would send a lookup per entry).
    public func dirCaching(_ ino: UInt64, handle: UInt64) -> (cache: Bool, keep: Bool) {
        let now = clock.now().timeIntervalSince1970
        guard case .directory(let d)? = handles.get(handle), d.visible == nil, d.extra.isEmpty else {
            tree.state.withLock { _ = $0.kernelDirCache.removeValue(forKey: ino) }
            return (false, false)
        }
        return tree.state.withLock { s in
            if let c = s.kernelDirCache[ino], c.listing == d.listing.id, c.sized, now - c.at < options.dirCacheTime * 0.9 {
                return (true, true)
            }
            s.kernelDirCache[ino] = (d.listing.id, now, !d.listing.hasUnknownSizes)
            return (true, false)
        }
    }

    /// Closes a directory.
    public func releasedir(_ handle: UInt64) { handles.remove(handle) }

    /// Creates a directory (an album).
    public func mkdir(parent: UInt64, name: String, mode: UInt32) async throws(FSError) -> EntryReply {
        try await writeMkdir(parent: try node(parent), name: name, mode: mode)
    }

    /// Removes a directory.
    public func rmdir(parent: UInt64, name: String) async throws(FSError) {
        try await writeRmdir(parent: try node(parent), name: name)
    }

    /// Removes a file from its directory.
    public func unlink(parent: UInt64, name: String) async throws(FSError) {
        try await writeUnlink(parent: try node(parent), name: name)
    }

    /// Renames or moves an entry (`noReplace` = RENAME_NOREPLACE; RENAME_EXCHANGE is refused by the adapter).
    public func rename(parent: UInt64, name: String, newParent: UInt64, newName: String, noReplace: Bool) async throws(FSError) {
        try await writeRename(parent: try node(parent), name: name, newParent: try node(newParent), newName: newName,
                              noReplace: noReplace)
    }

    /// Creates and opens a file.
    public func create(parent: UInt64, name: String, mode: UInt32, flags: OpenFlags) async throws(FSError) -> (EntryReply, OpenReply) {
        try await writeCreate(parent: try node(parent), name: name, mode: mode, flags: flags)
    }

    /// Opens a file.
    public func open(_ ino: UInt64, flags: OpenFlags) async throws(FSError) -> OpenReply {
        let n = try node(ino)
        switch n {
        case .item(let row) where !flags.writes: return try await treeOpenItem(row, flags: flags)
        case .item, .pending: return try await writeOpen(n, flags: flags)
        default: throw FSError(EISDIR, "inode \(ino) is a directory")
        }
    }

    /// Reads up to `size` bytes at `offset` (short only at end of file).
    public func read(_ ino: UInt64, handle: UInt64, offset: Int64, size: Int) async throws(FSError) -> Data {
        try await readReply(ino, handle: handle, offset: offset, size: size).bytes(path: NodeID(ino: ino).map(pathOf) ?? "inode \(ino)")
    }

    /// Where the bytes of a read are, once they are there (short only at end of file).
    public func readReply(_ ino: UInt64, handle: UInt64, offset: Int64, size: Int) async throws(FSError) -> ReadReply {
        switch handles.get(handle) {
        case .reader(let r)?: return try await treeRead(r, offset: offset, size: size)
        case .spool(let s)?: return .bytes(try writeRead(s, offset: offset, size: size))
        default: throw FSError(EBADF, "file handle \(handle)")
        }
    }

    /// `readReply` without waiting: nil when the bytes are still being downloaded (then call `readReply`).
    public func readReplyNow(_ ino: UInt64, handle: UInt64, offset: Int64, size: Int) throws(FSError) -> ReadReply? {
        switch handles.get(handle) {
        case .reader(let r)?: return try treeReadNow(r, offset: offset, size: size)
        case .spool(let s)?: return .bytes(try writeRead(s, offset: offset, size: size))
        default: throw FSError(EBADF, "file handle \(handle)")
        }
    }

    /// Writes at `offset`; returns the bytes written.
    public func write(_ ino: UInt64, handle: UInt64, offset: Int64, data: Data) async throws(FSError) -> Int {
        guard let s = spool(handle) else { throw FSError(EBADF, "file handle \(handle) is not open for writing") }
        return try writeWrite(s, offset: offset, data: data)
    }

    /// close() of one file descriptor (may be called several times per open).
    public func flush(_ ino: UInt64, handle: UInt64) async throws(FSError) {
        if let s = spool(handle) { try await writeFlush(s) }
    }

    /// fsync(): for a written file, commits the upload now and returns its real result.
    public func fsync(_ ino: UInt64, handle: UInt64, dataOnly: Bool) async throws(FSError) {
        if let s = spool(handle) { try await writeFsync(s) }
    }

    /// The last close of an open file.
    public func release(_ ino: UInt64, handle: UInt64) async throws(FSError) {
        switch handles.remove(handle) {
        case .reader(let r)?: treeRelease(r)
        case .spool(let s)?: try await writeRelease(s)
        default: break
        }
    }

    /// An extended attribute's value.
    public func getxattr(_ ino: UInt64, name: String) async throws(FSError) -> Data {
        try Self.checkXattrNamespace(name)
        let n = try node(ino)
        if case .pending(let id) = n { return try pendingXattr(id, name: name) }
        return try await treeGetXattr(n, name: name)
    }

    /// Only `user.*` attributes exist here: any other namespace (security., system., trusted.) is ENOTSUP, as the
    /// kernel answers for a namespace a file system has no handler for. `ls -l` asks security.selinux of every entry
    /// and stops asking for the rest of the file system after one ENOTSUP (ENODATA would cost a round trip per entry;
    /// docs/SEMANTICS.md, docs/PERFORMANCE.md). Synchronous, so the adapter can answer without a Task.
    public static func checkXattrNamespace(_ name: String) throws(FSError) {
        guard name.hasPrefix("user.") else { throw FSError.notSupported("attribute \(name) (only user.* attributes exist)") }
    }

    /// The names of a node's extended attributes.
    public func listxattr(_ ino: UInt64) async throws(FSError) -> [String] {
        let n = try node(ino)
        if case .pending(let id) = n { return try pendingXattrNames(id) }
        return try await treeListXattr(n)
    }

    /// Sets an extended attribute (only `user.gphotos.refresh` does anything; see docs/SEMANTICS.md).
    public func setxattr(_ ino: UInt64, name: String, value: Data) async throws(FSError) {
        try await treeSetXattr(try node(ino), name: name, value: value)
    }

    /// statfs().
    public func statfs() -> FSStats { treeStatFS() }

    /// A hard link, symlink or device node: never possible.
    public func refuseLink(_ what: String) -> FSError {
        FSError.notPermitted(what, "Google Photos holds only photos and videos; links and special files can't be stored")
    }

    // MARK: helpers

    /// Decodes an inode number or fails with ESTALE.
    func node(_ ino: UInt64) throws(FSError) -> NodeID {
        guard let n = NodeID(ino: ino) else { throw FSError(ESTALE, "inode \(ino) is unknown to this mount") }
        return n
    }

    /// The spool file behind a handle, if it is one.
    func spool(_ handle: UInt64) -> SpoolFile? {
        if case .spool(let s)? = handles.get(handle) { return s }
        return nil
    }
}
