// The write side (STUB to be replaced): spool files, the upload journal, the uploader, and every mutation.
import Foundation

/// State of the write side (uploader task, fsync waiters, quota pause).
final class WriteState: Sendable {
    init() {}
}

/// An open spool file (a file being written, or a pending file opened again).
final class SpoolFile: Sendable {
    let id: Int64
    init(id: Int64) { self.id = id }
}

extension PhotosFS {
    func startWrites() async {}
    func stopWrites(grace: Double) async -> Int { 0 }
    /// Pending (not yet committed) entries of a directory, merged into its listing by the read side.
    func pendingEntries(in role: DirectoryRole) -> [(name: String, attributes: FileAttributes)] { [] }
    func pendingAttributes(_ id: Int64) throws(FSError) -> FileAttributes { throw FSError(ENOENT, "pending \(id)") }
    func pendingXattr(_ id: Int64, name: String) throws(FSError) -> Data { throw FSError(ENODATA, name) }
    func pendingXattrNames(_ id: Int64) throws(FSError) -> [String] { [] }
    func writeSetattr(_ node: NodeID, _ changes: SetAttributes, spool: SpoolFile?) async throws(FSError) -> FileAttributes {
        throw FSError(ENOSYS, "setattr")
    }
    func writeMkdir(parent: NodeID, name: String, mode: UInt32) async throws(FSError) -> EntryReply { throw FSError(ENOSYS, "mkdir") }
    func writeRmdir(parent: NodeID, name: String) async throws(FSError) { throw FSError(ENOSYS, "rmdir") }
    func writeUnlink(parent: NodeID, name: String) async throws(FSError) { throw FSError(ENOSYS, "unlink") }
    func writeRename(parent: NodeID, name: String, newParent: NodeID, newName: String, noReplace: Bool) async throws(FSError) {
        throw FSError(ENOSYS, "rename")
    }
    func writeCreate(parent: NodeID, name: String, mode: UInt32, flags: OpenFlags) async throws(FSError) -> (EntryReply, OpenReply) {
        throw FSError(ENOSYS, "create")
    }
    func writeOpen(_ node: NodeID, flags: OpenFlags) async throws(FSError) -> OpenReply { throw FSError(ENOSYS, "open") }
    func writeRead(_ spool: SpoolFile, offset: Int64, size: Int) throws(FSError) -> Data { throw FSError(ENOSYS, "read") }
    func writeWrite(_ spool: SpoolFile, offset: Int64, data: Data) throws(FSError) -> Int { throw FSError(ENOSYS, "write") }
    func writeFlush(_ spool: SpoolFile) async throws(FSError) {}
    func writeFsync(_ spool: SpoolFile) async throws(FSError) {}
    func writeRelease(_ spool: SpoolFile) async throws(FSError) {}
    /// The mount's status as JSON (root xattr `user.gphotos.status`, read by `gphotosfs status`).
    func mountStatusJSON() throws(FSError) -> Data { Data("{}".utf8) }
}

extension PhotosFS {
    /// Waits until no upload is pending (committed or failed), at most `timeout` seconds; ETIMEDOUT otherwise.
    public func waitForUploads(timeout: Double) async throws(FSError) {}
}
