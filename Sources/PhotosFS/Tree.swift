// The read side (STUB to be replaced): namespace, listings, lookups, attributes, reads, xattrs, refresh.
import Foundation

/// State of the read side (listing caches, title-prefix interning, downloads in flight).
final class TreeState: Sendable {
    init() {}
}

/// A directory snapshot taken at opendir.
final class DirListing: Sendable {
    let snapshot: [DirEntry]
    init(_ snapshot: [DirEntry]) { self.snapshot = snapshot }
    /// Entries after the 1-based `offset`, at most `limit`.
    func entries(after offset: Int, limit: Int) -> [DirEntry] {
        guard offset < snapshot.count else { return [] }
        return Array(snapshot[offset..<min(snapshot.count, offset + min(limit, snapshot.count))])
    }
}

/// A committed item open for reading.
final class ItemReader: Sendable {
    let row: Int64
    init(row: Int64) { self.row = row }
}

extension PhotosFS {
    func treeLookup(parent: NodeID, name: String) async throws(FSError) -> EntryReply { throw FSError(ENOSYS, "lookup") }
    func treeAttributes(_ node: NodeID) async throws(FSError) -> FileAttributes { throw FSError(ENOSYS, "getattr") }
    func treeOpenDir(_ node: NodeID) async throws(FSError) -> UInt64 { throw FSError(ENOSYS, "opendir") }
    func treeOpenItem(_ row: Int64, flags: OpenFlags) async throws(FSError) -> OpenReply { throw FSError(ENOSYS, "open") }
    func treeRead(_ reader: ItemReader, offset: Int64, size: Int) async throws(FSError) -> Data { throw FSError(ENOSYS, "read") }
    func treeRelease(_ reader: ItemReader) {}
    func treeGetXattr(_ node: NodeID, name: String) async throws(FSError) -> Data { throw FSError(ENODATA, name) }
    func treeListXattr(_ node: NodeID) async throws(FSError) -> [String] { [] }
    func treeSetXattr(_ node: NodeID, name: String, value: Data) async throws(FSError) { throw FSError(ENOTSUP, name) }
    func treeStatFS() -> FSStats { FSStats(blockSize: 4096, blocks: 0, blocksFree: 0, files: 0, filesFree: 0) }
    /// What a directory is, for the write side.
    func directoryRole(_ node: NodeID) throws(FSError) -> DirectoryRole { .readOnly }
    /// The node's path under the mount, for messages ("album/Trip/a.jpg").
    func pathOf(_ node: NodeID) -> String { "\(node)" }
    /// Forgets cached listings of `node` (after a local change).
    func invalidateListing(_ node: NodeID) {}
    /// Finds `name` in a directory (committed entries and pending ones).
    func resolve(parent: NodeID, name: String) async throws(FSError) -> NodeID? { nil }
}
