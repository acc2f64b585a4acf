// Pending files as the tree sees them (entries, attributes, xattrs) and the close-time step that journals a spool.
import Foundation
import Logging
import MetadataStore
import PhotosAPI

/// A directory's pending files and the committed items they replace.
struct PendingEntries {
    var files: [(name: String, attributes: FileAttributes)] = []
    /// Item rows hidden from the directory: overwritten, waiting for their replacement to commit.
    var replaced: Set<Int64> = []
    /// Whether a committed node of the directory is hidden (replaced by a pending file).
    func hides(_ node: NodeID) -> Bool {
        if case .item(let row) = node { return replaced.contains(row) }
        return false
    }
}

extension PhotosFS {
    /// Pending (not yet committed) entries of a directory, merged into its listing by the read side, and the committed
    /// items they replace. A pending entry shadows a committed item of the same name (it is that name's new content),
    /// and the item it replaces is hidden whatever its name (the replacement may have been renamed since).
    func pendingEntries(in role: DirectoryRole) -> PendingEntries {
        let rows: [JournalRow]
        switch role {
        case .album(let row, _, _): rows = (try? store.journalRows(inAlbum: row)) ?? []
        case .upload: rows = (try? store.journalRows(inAlbum: nil)) ?? []
        default: return PendingEntries()
        }
        return PendingEntries(files: rows.map { ($0.name, rowAttributes($0)) }, replaced: Set(rows.compactMap(\.replacesItemRow)))
    }

    /// stat() of a pending file; once committed, the item's attributes under the pending inode.
    func pendingAttributes(_ id: Int64) async throws(FSError) -> FileAttributes {
        guard let row = try stored("pending file \(id)", { () throws(StoreError) in try store.journalRow(id) }) else {
            throw FSError.stale("pending file \(id)")
        }
        if row.journalState == .committed, let item = row.itemRow {
            var a = try await treeAttributes(.item(item))
            a.ino = NodeID.pending(id).ino
            return a
        }
        return rowAttributes(row)
    }

    /// The attributes of a journal row: the spool's current size, the row's mode and mtime.
    func rowAttributes(_ row: JournalRow) -> FileAttributes {
        var size = row.size
        if let a = try? FileManager.default.attributesOfItem(atPath: row.spoolPath), let n = a[.size] as? NSNumber { size = n.int64Value }
        var perms = UInt32(truncatingIfNeeded: row.mode) & 0o7777
        if options.readOnly { perms &= ~0o222 }
        let mtime = Date(timeIntervalSince1970: row.mtime)
        return FileAttributes(ino: NodeID.pending(row.rowID).ino, kind: .file, permissions: perms, size: size,
                              uid: options.uid, gid: options.gid, mtime: mtime,
                              ctime: Date(timeIntervalSince1970: row.updatedAt))
    }

    /// What `user.gphotos.state` says for a journal state.
    static func xattrState(_ s: JournalState) -> String {
        switch s {
        case .writing, .placeholder, .spooled: "pending"
        case .uploading, .uploaded, .creating: "uploading"
        case .committed: "committed"
        case .failed: "failed"
        }
    }

    /// An extended attribute of a pending file.
    func pendingXattr(_ id: Int64, name: String) throws(FSError) -> Data {
        guard let row = try stored("pending file \(id)", { () throws(StoreError) in try store.journalRow(id) }) else {
            throw FSError.stale("pending file \(id)")
        }
        let finalized = row.journalState != .writing && row.journalState != .placeholder
        let value: String?
        switch name {
        case "user.gphotos.state": value = Self.xattrState(row.journalState)
        case "user.gphotos.error": value = row.journalState == .failed ? row.error : nil
        case "user.gphotos.original_sha256": value = finalized ? row.sha256 : nil
        case "user.gphotos.original_size": value = finalized && row.sha256 != nil ? String(row.size) : nil
        case "user.gphotos.mime_type": value = row.mimeType
        case "user.gphotos.id":
            value = row.itemRow.flatMap { try? store.itemBrief($0) }?.googleId
        default: value = nil
        }
        guard let value else { throw FSError(ENODATA, "\(rowPath(row)): no attribute \(name)") }
        return Data(value.utf8)
    }

    /// The extended attributes a pending file has.
    func pendingXattrNames(_ id: Int64) throws(FSError) -> [String] {
        guard let row = try stored("pending file \(id)", { () throws(StoreError) in try store.journalRow(id) }) else {
            throw FSError.stale("pending file \(id)")
        }
        var names = ["user.gphotos.state"]
        if row.journalState == .failed, row.error != nil { names.append("user.gphotos.error") }
        if row.mimeType != nil { names.append("user.gphotos.mime_type") }
        if row.sha256 != nil, row.journalState != .writing, row.journalState != .placeholder {
            names += ["user.gphotos.original_sha256", "user.gphotos.original_size"]
        }
        if row.itemRow != nil { names.append("user.gphotos.id") }
        return names
    }

    /// Journals a written spool at close: fsync, then 'placeholder' (empty), 'spooled' (a photo or video, with its
    /// hash and the write-back delay) or, for anything else, the entry is removed and EMEDIUMTYPE returned.
    func finalize(_ spool: SpoolFile) throws(FSError) {
        guard let row = try stored(spool.path, { () throws(StoreError) in try store.journalRow(spool.id) }) else { return }
        guard row.journalState == .writing else { spool.clearDirty(); return }
        let path = rowPath(row)
        try spool.sync()
        let size = try spool.size()
        let now = nowSeconds
        if size == 0 {
            _ = try stored(path) { () throws(StoreError) in
                try store.journalModify(row.rowID) { r in
                    guard r?.journalState == .writing else { return }
                    r?.journalState = .placeholder; r?.size = 0; r?.sha256 = nil; r?.mimeType = nil; r?.updatedAt = now
                }
            }
            spool.clearDirty()
            writes.changed.signal()
            return
        }
        let head = [UInt8](try spool.pread(at: 0, size: MediaSniff.headLength))
        guard let mime = MediaSniff.mimeType(head: head, fileName: row.name) else {
            _ = try? store.journalModify(row.rowID) { $0 = nil }
            try? FileManager.default.removeItem(atPath: row.spoolPath)
            spool.clearDirty()
            invalidateListing(row.albumRow.map { .album($0) } ?? .uploadRoot)
            writes.changed.signal()
            logger.error("not a photo or video Google accepts; not uploaded, the file is removed", metadata: ["path": "\(path)"])
            throw FSError(EMEDIUMTYPE, "\(path): not a photo or video Google Photos accepts; not uploaded")
        }
        let sha = try spool.sha256()
        let notBefore = now + max(0, options.writeback)
        _ = try stored(path) { () throws(StoreError) in
            try store.journalModify(row.rowID) { r in
                guard r?.journalState == .writing else { return }
                r?.journalState = .spooled; r?.size = size; r?.sha256 = sha; r?.mimeType = mime; r?.notBefore = notBefore
                r?.attempts = 0; r?.error = nil; r?.uploadToken = nil; r?.uploadTokenAt = nil; r?.resumable = nil; r?.updatedAt = now
            }
        }
        spool.clearDirty()
        writes.kick.signal()
        writes.changed.signal()
    }

    /// Puts a row back into 'writing' before its spool changes (so a crash never uploads half-changed bytes), and
    /// drops any upload in progress. EBUSY while its batchCreate is in flight.
    func beginWriting(_ id: Int64, path: String, truncate: Bool) throws(FSError) {
        let now = nowSeconds
        let ok = try stored(path) { () throws(StoreError) in
            try store.journalModify(id) { r -> Bool in
                guard var x = r else { return false }
                if x.journalState == .creating { return false }
                x.journalState = .writing; x.sha256 = nil; x.uploadToken = nil; x.uploadTokenAt = nil; x.resumable = nil
                x.attempts = 0; x.error = nil; x.notBefore = nil; x.updatedAt = now; x.mtime = now
                if truncate { x.size = 0 }
                r = x
                return true
            }
        }
        guard ok else { throw FSError(EBUSY, "\(path): being committed to Google Photos right now; try again in a moment") }
        cancelUpload(id)
    }

    /// Cancels an upload in progress for a row (its result is discarded anyway).
    func cancelUpload(_ id: Int64) {
        writes.s.withLock { $0.uploads[id] }?.cancel()
    }

    /// A row left in 'writing' by a crash: close() never returned 0 for it, so it is not uploaded; it stays listed as
    /// failed (readable, removable) so nothing disappears silently.
    func recoverWriting(_ row: JournalRow) {
        _ = try? store.journalModify(row.rowID) { r in
            r?.journalState = .failed
            r?.error = "interrupted while being written (the mount stopped before close); not uploaded — copy it again"
        }
        logger.warning("a file was being written when the mount stopped; not uploaded", metadata: ["path": "\(rowPath(row))"])
    }
}
