// Every mutation of the tree: create/open/read/write/close of spool files, setattr, mkdir, rmdir, unlink, rename.
import Foundation
import Logging
import MetadataStore
import PhotosAPI

extension PhotosFS {
    /// Seconds the kernel may cache a pending entry (its size changes while written).
    static let pendingEntryTimeout = 1.0

    /// "album/Trip/a.jpg".
    func childPath(_ parent: NodeID, _ name: String) -> String { pathOf(parent) + "/" + name }

    /// Runs an API call for `path`, mapping its error (and noting auth failures).
    func api<T>(_ path: String, _ body: () async throws(PhotosAPIError) -> T) async throws(FSError) -> T {
        do { return try await body() } catch {
            if classify(error) == .auth { recordAuthFailure(error) }
            if classify(error) == .quota { pauseForQuota(error) }
            throw FSError(error, path: path)
        }
    }

    /// The album row of a directory files may be created in (nil = upload/); EPERM elsewhere.
    func uploadTarget(_ role: DirectoryRole, path: String) throws(FSError) -> Int64? {
        switch role {
        case .album(let row, _, _): return row
        case .upload: return nil
        default:
            logger.warning("can't upload files here", metadata: ["path": "\(path)"])
            throw FSError.notPermitted(path, "can't upload files here: files go directly into an album directory or upload/")
        }
    }

    /// Rejects names a directory entry can't have.
    func checkName(_ name: String, path: String) throws(FSError) {
        if name.isEmpty || name == "." || name == ".." || name.contains("/") { throw FSError(EINVAL, "\(path): invalid name") }
        if name.utf8.count > 255 { throw FSError(ENAMETOOLONG, "\(path): name longer than 255 bytes") }
    }

    // MARK: files

    /// create(): a new journal row in 'writing' and its spool file.
    func writeCreate(parent: NodeID, name: String, mode: UInt32, flags: OpenFlags) async throws(FSError) -> (EntryReply, OpenReply) {
        let path = childPath(parent, name)
        try checkMutable(path)
        try checkName(name, path: path)
        let albumRow = try uploadTarget(try directoryRole(parent), path: path)
        var replaces: Int64?
        if let existing = try await resolve(parent: parent, name: name) {
            if flags.exclusive { throw FSError(EEXIST, "\(path): exists") }
            switch existing {
            case .pending:
                var f = flags
                f.raw |= O_TRUNC
                let reply = try await writeOpen(existing, flags: f)
                return (EntryReply(attributes: try await pendingAttributes(pendingID(existing)), entryTimeout: Self.pendingEntryTimeout,
                                   attrTimeout: 0), reply)
            case .item(let r): replaces = r
            default: throw FSError(EISDIR, "\(path): is a directory")
            }
        }
        let (row, spool) = try newRow(albumRow: albumRow, name: name, mode: Int64(mode & 0o7777), replaces: replaces, path: path,
                                      writable: true)
        let handle = handles.insert(.spool(spool))
        invalidateListing(parent)
        return (EntryReply(attributes: rowAttributes(row), entryTimeout: Self.pendingEntryTimeout, attrTimeout: 0),
                OpenReply(handle: handle))
    }

    /// The journal id behind a pending node.
    func pendingID(_ n: NodeID) -> Int64 { if case .pending(let id) = n { return id }; return 0 }

    /// Inserts a 'writing' row and creates its empty spool file (the row is removed again if that fails).
    func newRow(albumRow: Int64?, name: String, mode: Int64, replaces: Int64?, path: String, writable: Bool) throws(FSError) -> (JournalRow, SpoolFile) {
        let fresh = JournalRow(albumRow: albumRow, name: name, mode: mode == 0 ? 0o644 : mode, now: nowSeconds, replacesItemRow: replaces)
        let row = try stored(path) { () throws(StoreError) in try store.journalCreate(fresh, spoolDir: paths.spool) }
        do {
            let spool = try SpoolFile.open(id: row.rowID, spoolPath: row.spoolPath, writable: true, create: true, truncate: true, path: path)
            _ = spool.markDirty()
            return (row, spool)
        } catch {
            _ = try? store.journalModify(row.rowID) { $0 = nil }
            throw error
        }
    }

    /// open() of a pending file, or of a committed item for writing (only with O_TRUNC: an overwrite).
    func writeOpen(_ node: NodeID, flags: OpenFlags) async throws(FSError) -> OpenReply {
        switch node {
        case .pending(let id):
            guard let row = try stored("pending file \(id)", { () throws(StoreError) in try store.journalRow(id) }) else {
                throw FSError.stale("pending file \(id)")
            }
            let path = rowPath(row)
            if row.journalState == .committed, let item = row.itemRow {
                return flags.writes ? try await writeOpen(.item(item), flags: flags) : try await treeOpenItem(item, flags: flags)
            }
            if flags.writes {
                try checkMutable(path)
                if flags.truncates { try beginWriting(id, path: path, truncate: true) }
            }
            let spool = try SpoolFile.open(id: id, spoolPath: row.spoolPath, writable: flags.writes, create: flags.writes,
                                           truncate: flags.writes && flags.truncates, path: path)
            if flags.writes && flags.truncates { _ = spool.markDirty() }
            return OpenReply(handle: handles.insert(.spool(spool)))
        case .item(let r):
            let (albumRow, brief) = try overwriteTarget(r)
            let dir: NodeID = albumRow.map { .album($0) } ?? .uploadRoot
            let path = childPath(dir, brief.filename)
            try checkMutable(path)
            guard flags.truncates else {
                throw FSError.notPermitted(path, "Google Photos can't change a committed item in place; replace it whole (O_TRUNC)")
            }
            if let pending = try stored(path, { () throws(StoreError) in try store.journalRow(inAlbum: albumRow, name: brief.filename) }) {
                return try await writeOpen(.pending(pending.rowID), flags: flags)
            }
            let (_, spool) = try newRow(albumRow: albumRow, name: brief.filename, mode: 0o644, replaces: r, path: path, writable: true)
            invalidateListing(dir)
            return OpenReply(handle: handles.insert(.spool(spool)))
        default:
            throw FSError(EISDIR, "\(pathOf(node)): is a directory")
        }
    }

    /// Where an overwrite of committed item `r` goes: its one album, or upload/ when this mount uploaded it there.
    /// An item in several albums (or only in media/) can't be overwritten through its inode: EPERM.
    func overwriteTarget(_ r: Int64) throws(FSError) -> (Int64?, ItemBrief) {
        guard let brief = try stored("item \(r)", { () throws(StoreError) in try store.itemBrief(r) }) else { throw FSError.stale("item \(r)") }
        if brief.albumRows.count == 1 { return (brief.albumRows[0], brief) }
        let inUploadDir = ((try? store.journalUploadDirItemRows()) ?? []).contains(r)
        if brief.albumRows.isEmpty, inUploadDir { return (nil, brief) }
        throw FSError.notPermitted(pathOf(.item(r)), brief.albumRows.isEmpty
            ? "media/ is read-only; copy the file into an album or upload/"
            : "the item is in several albums; write the new file under another name or remove the old one first")
    }

    /// read() of a spool.
    func writeRead(_ spool: SpoolFile, offset: Int64, size: Int) throws(FSError) -> Data {
        try spool.pread(at: offset, size: size)
    }

    /// write() into a spool at any offset.
    func writeWrite(_ spool: SpoolFile, offset: Int64, data: Data) throws(FSError) -> Int {
        guard spool.writable else { throw FSError(EBADF, "\(spool.path): not open for writing") }
        if options.readOnly { throw FSError.readOnly(spool.path) }
        if spool.markDirty() {
            // First write since open/close: the row goes back to 'writing' before its bytes change.
            let state = try stored(spool.path) { () throws(StoreError) in try store.journalRow(spool.id) }?.journalState
            if state != .writing {
                do { try beginWriting(spool.id, path: spool.path, truncate: false) } catch { spool.clearDirty(); throw error }
            }
        }
        return try spool.pwrite(data, at: offset)
    }

    /// close() of one descriptor: journals the spool (errors such as EMEDIUMTYPE are close()'s result); with
    /// -o upload=sync, waits for the commit.
    func writeFlush(_ spool: SpoolFile) async throws(FSError) {
        guard spool.writable else { return }
        try finalize(spool)
        if options.upload == .sync { try await waitForCommit(spool.id, path: spool.path) }
    }

    /// fsync(): journals the spool and commits it now, returning the upload's real result.
    func writeFsync(_ spool: SpoolFile) async throws(FSError) {
        if spool.writable { try finalize(spool) }
        try await waitForCommit(spool.id, path: spool.path)
    }

    /// The last close: journals what is still unjournaled and closes the fd.
    func writeRelease(_ spool: SpoolFile) async throws(FSError) {
        defer { spool.close() }
        if spool.writable, spool.isDirty { try finalize(spool) }
    }

    // MARK: attributes

    /// setattr: applied to pending files; chmod/chown/utimens of committed items accepted and ignored; truncate(0)
    /// of a committed item replaces it.
    func writeSetattr(_ node: NodeID, _ changes: SetAttributes, spool: SpoolFile?) async throws(FSError) -> FileAttributes {
        let path = pathOf(node)
        if options.readOnly { throw FSError.readOnly(path) }
        switch node {
        case .pending(let id):
            guard let row = try stored(path, { () throws(StoreError) in try store.journalRow(id) }) else { throw FSError.stale(path) }
            if row.journalState == .committed, let item = row.itemRow {
                return try await writeSetattr(.item(item), changes, spool: nil)
            }
            let p = rowPath(row)
            if let size = changes.size {
                try checkMutable(p)
                guard size >= 0 else { throw FSError(EINVAL, "\(p): negative size") }
                try beginWriting(id, path: p, truncate: size == 0)
                let s: SpoolFile
                if let spool { s = spool } else {
                    s = try SpoolFile.open(id: id, spoolPath: row.spoolPath, writable: true, create: true, truncate: false, path: p)
                }
                _ = s.markDirty()
                try s.truncate(size)
                if spool == nil { defer { s.close() }; try finalize(s) }
            }
            if changes.mode != nil || changes.mtime != nil {
                let now = nowSeconds
                _ = try stored(p) { () throws(StoreError) in
                    try store.journalModify(id) { r in
                        if let m = changes.mode { r?.mode = Int64(m & 0o7777) }
                        if let t = changes.mtime { r?.mtime = t.timeIntervalSince1970 }
                        r?.updatedAt = now
                    }
                }
            }
            return try await pendingAttributes(id)
        case .item(let r):
            if let size = changes.size {
                guard size == 0 else {
                    throw FSError.notPermitted(path, "Google Photos can't change a committed item; only truncating it to 0 (replace) works")
                }
                let (albumRow, brief) = try overwriteTarget(r)
                let dir: NodeID = albumRow.map { .album($0) } ?? .uploadRoot
                let p = childPath(dir, brief.filename)
                try checkMutable(p)
                let (row, s) = try newRow(albumRow: albumRow, name: brief.filename, mode: 0o644, replaces: r, path: p, writable: true)
                defer { s.close() }
                try finalize(s)
                invalidateListing(dir)
                return try await pendingAttributes(row.rowID)
            }
            return try await treeAttributes(node)   // chmod/chown/utimens: accepted, ignored (docs/SEMANTICS.md)
        default:
            if changes.size != nil { throw FSError(EISDIR, "\(path): is a directory") }
            return try await treeAttributes(node)
        }
    }

    // MARK: directories

    /// The album title a new directory `name` in `role` stands for.
    func titleFor(_ role: DirectoryRole, name: String, path: String) throws(FSError) -> String {
        let part = Naming.decode(name)   // the shown name back to Google's title (`／` → `/` nests, as in rclone)
        switch role {
        case .albumParent(let prefix): return prefix.isEmpty ? part : prefix + "/" + part
        case .album(_, _, let title): return title + "/" + part
        default: throw FSError.notPermitted(path, "albums can only be created in album/ (directories elsewhere can't exist)")
        }
    }

    /// mkdir: albums.create (nested titles "a/b" for directories inside album/a).
    func writeMkdir(parent: NodeID, name: String, mode: UInt32) async throws(FSError) -> EntryReply {
        let path = childPath(parent, name)
        try checkMutable(path)
        try checkName(name, path: path)
        let title = try titleFor(try directoryRole(parent), name: name, path: path)
        if try await resolve(parent: parent, name: name) != nil { throw FSError(EEXIST, "\(path): exists") }
        guard title.count <= 500 else { throw FSError(ENAMETOOLONG, "\(path): album titles are at most 500 characters") }
        let album = try await api(path) { () async throws(PhotosAPIError) in try await client.createAlbum(title: title) }
        let row = try localChange(["albums"], dirs: [parent], path: path) { () throws(StoreError) in
            try store.insertAlbum(googleId: album.id, title: album.title.isEmpty ? title : album.title, productUrl: album.productUrl,
                                  now: nowSeconds)
        }
        invalidateListing(parent)
        invalidateListing(.albumRoot)   // the album-title tree (nested titles show in their parent album)
        logger.info("created album", metadata: ["path": "\(path)", "title": "\(title)"])
        let attrs = (try? await treeAttributes(.album(row)))
            ?? FileAttributes(ino: NodeID.album(row).ino, kind: .directory, permissions: 0o777 & ~options.umask, size: 0, nlink: 2,
                              uid: options.uid, gid: options.gid, mtime: clock.now())
        return EntryReply(attributes: attrs, entryTimeout: 1, attrTimeout: 1)
    }

    /// rmdir: ENOTEMPTY while an album has entries, else EPERM (the API can't delete albums).
    func writeRmdir(parent: NodeID, name: String) async throws(FSError) {
        let path = childPath(parent, name)
        try checkMutable(path)
        guard let node = try await resolve(parent: parent, name: name) else { throw FSError.noEntry(path) }
        switch node {
        case .album(let row):
            guard let album = try stored(path, { () throws(StoreError) in try store.albumBrief(row) }) else { throw FSError.stale(path) }
            let n = try stored(path) { () throws(StoreError) in try store.albumEntryCount(row) + store.albumCount(titlePrefix: album.title) }
            if n > 0 { throw FSError(ENOTEMPTY, "\(path): the album is not empty") }
            throw FSError.notPermitted(path, "the Google Photos API cannot delete albums")
        case .titlePrefix: throw FSError(ENOTEMPTY, "\(path): holds albums")
        case .item, .pending: throw FSError(ENOTDIR, "\(path): not a directory")
        default: throw FSError.notPermitted(path, "this directory is part of the mount's fixed tree")
        }
    }

    /// unlink: pending files are dropped; committed items leave the album (batchRemoveMediaItems); EPERM elsewhere.
    func writeUnlink(parent: NodeID, name: String) async throws(FSError) {
        let path = childPath(parent, name)
        if options.readOnly { throw FSError.readOnly(path) }
        guard let node = try await resolve(parent: parent, name: name) else { throw FSError.noEntry(path) }
        switch node {
        case .pending(let id):
            try await dropPending(id, path: path, removeReplaced: true)
            invalidateListing(parent)
        case .item(let r):
            try checkMutable(path)
            guard case .album(let albumRow, let albumId, _) = try directoryRole(parent) else {
                throw FSError.notPermitted(path, "the Google Photos API cannot delete media")
            }
            guard let brief = try stored(path, { () throws(StoreError) in try store.itemBrief(r) }) else { throw FSError.stale(path) }
            try await api(path) { () async throws(PhotosAPIError) in
                try await client.batchRemoveMediaItems(albumId: albumId, mediaItemIds: [brief.googleId])
            }
            try localChange([Self.albumKey(albumId)], dirs: [parent], path: path) { () throws(StoreError) in
                try store.removeAlbumItem(albumRow: albumRow, itemRow: r)
            }
            invalidateListing(parent)
            logger.info("removed from the album (the item stays in the library)", metadata: ["path": "\(path)"])
        default:
            throw FSError(EISDIR, "\(path): is a directory")
        }
    }

    /// Removes a pending file: row and spool deleted (an upload in progress is cancelled); a row whose batchCreate is
    /// in flight is hidden and its item removed from the album once committed. The committed item the file replaced
    /// (it was written over it) leaves its directory too with `removeReplaced` (unlink: the name is gone); without
    /// it, the replaced item's row is returned and the caller takes it over (rename onto the name).
    @discardableResult
    func dropPending(_ id: Int64, path: String, removeReplaced: Bool) async throws(FSError) -> Int64? {
        var removed: Int64?
        if removeReplaced, let row = try stored(path, { () throws(StoreError) in try store.journalRow(id) }),
           row.journalState != .creating, let old = row.replacesItemRow {
            try await removeReplacedItem(old, albumRow: row.albumRow, path: path)
            removed = old
        }
        let (spoolPath, replaced) = try stored(path) { () throws(StoreError) in
            try store.journalModify(id) { r -> (String?, Int64?) in
                guard var x = r else { return (nil, nil) }
                let replaced = x.replacesItemRow
                if x.journalState == .creating {
                    // Committed any moment: commitRow removes the new item (unlinked) and what it still replaces.
                    x.unlinked = true
                    if !removeReplaced || replaced == removed { x.replacesItemRow = nil }
                    r = x
                    return (nil, removeReplaced ? nil : replaced)
                }
                r = nil
                return (x.spoolPath, removeReplaced ? nil : replaced)
            }
        }
        cancelUpload(id)
        if let spoolPath { try? FileManager.default.removeItem(atPath: spoolPath) }
        writes.changed.signal()
        return replaced
    }

    /// Takes a committed item out of its directory now because the pending file written over it lost its name
    /// (unlinked, or moved elsewhere): batchRemoveMediaItems for an album (the item stays in the library), hidden
    /// from upload/.
    func removeReplacedItem(_ old: Int64, albumRow: Int64?, path: String) async throws(FSError) {
        guard let albumRow else {
            try stored(path) { () throws(StoreError) in try store.hideUploadDirItem(old) }
            return
        }
        guard let album = try stored(path, { () throws(StoreError) in try store.albumBrief(albumRow) }),
              let brief = try stored(path, { () throws(StoreError) in try store.itemBrief(old) }),
              brief.albumRows.contains(albumRow) else { return }
        try await api(path) { () async throws(PhotosAPIError) in
            try await client.batchRemoveMediaItems(albumId: album.googleId, mediaItemIds: [brief.googleId])
        }
        try localChange([Self.albumKey(album.googleId)], dirs: [.album(albumRow)], path: path) { () throws(StoreError) in
            try store.removeAlbumItem(albumRow: albumRow, itemRow: old)
        }
        logger.info("the item overwritten under this name left the album (it stays in the library)", metadata: ["path": "\(path)"])
    }

    // MARK: rename

    /// Which top-level folder a directory role belongs to (rename across them is EXDEV).
    func topLevel(_ role: DirectoryRole) -> String {
        switch role {
        case .root: "/"
        case .albumParent, .album: "album"
        case .upload: "upload"
        case .readOnly: "media"
        }
    }

    /// rename: album retitle, pending files moved freely, committed items moved between albums under the same name.
    func writeRename(parent: NodeID, name: String, newParent: NodeID, newName: String, noReplace: Bool) async throws(FSError) {
        let path = childPath(parent, name), target = childPath(newParent, newName)
        try checkMutable(path)
        try checkName(newName, path: target)
        guard let node = try await resolve(parent: parent, name: name) else { throw FSError.noEntry(path) }
        let srcRole = try directoryRole(parent), dstRole = try directoryRole(newParent)
        if topLevel(srcRole) != topLevel(dstRole) { throw FSError(EXDEV, "\(path) → \(target): across top-level folders") }
        if case .readOnly = srcRole { throw FSError.notPermitted(path, "media/ is read-only") }
        if case .root = srcRole { throw FSError.notPermitted(path, "the top-level folders can't be renamed") }
        let existing = try await resolve(parent: newParent, name: newName)
        if existing == node { return }
        if existing != nil, noReplace { throw FSError(EEXIST, "\(target): exists") }
        switch node {
        case .album(let row):
            if let existing {
                if case .album(let other) = existing, (try? store.albumEntryCount(other)) == 0 {
                    throw FSError.notPermitted(target, "the Google Photos API cannot delete albums (the target would be replaced)")
                }
                throw FSError(ENOTEMPTY, "\(target): exists and is not empty")
            }
            let title = try titleFor(dstRole, name: newName, path: target)
            guard let album = try stored(path, { () throws(StoreError) in try store.albumBrief(row) }) else { throw FSError.stale(path) }
            if title.hasPrefix(album.title + "/") { throw FSError(EINVAL, "\(target): an album can't move inside itself") }
            _ = try await api(path) { () async throws(PhotosAPIError) in try await client.patchAlbum(album.googleId, title: title) }
            try localChange(["albums"], dirs: [parent, newParent], path: path) { () throws(StoreError) in
                try store.setAlbumTitle(row, title: title)
            }
            invalidateListing(parent)
            invalidateListing(newParent)
            invalidateListing(.albumRoot)   // the album-title tree
        case .titlePrefix:
            throw FSError.notPermitted(path, "this directory only groups nested album titles; rename each album instead")
        case .pending(let id):
            let albumRow = try uploadTarget(dstRole, path: target)
            guard let row = try stored(path, { () throws(StoreError) in try store.journalRow(id) }) else { throw FSError.stale(path) }
            if row.journalState == .creating || row.journalState == .committed {
                throw FSError(EBUSY, "\(path): being committed to Google Photos right now; try again in a moment")
            }
            // What the file replaces afterwards: what the target name stood for, else (a rename within the directory)
            // what it replaced before. An item it no longer replaces leaves its directory now: its name was
            // overwritten (O_TRUNC), so it must not come back.
            var replaces: Int64?
            switch existing {
            case .pending(let other)?: replaces = try await dropPending(other, path: target, removeReplaced: false)
            case .item(let r)?: replaces = r
            case nil: break
            default: throw FSError(EISDIR, "\(target): is a directory")
            }
            if existing == nil, row.albumRow == albumRow { replaces = row.replacesItemRow }
            if let mine = row.replacesItemRow, mine != replaces {
                try await removeReplacedItem(mine, albumRow: row.albumRow, path: path)
            }
            let now = nowSeconds, delay = max(0, options.writeback)
            let ok = try stored(path) { () throws(StoreError) in
                try store.journalModify(id) { r -> Bool in
                    guard var x = r, x.journalState != .creating, x.journalState != .committed else { return false }
                    x.albumRow = albumRow
                    x.name = newName
                    x.replacesItemRow = replaces
                    if x.journalState == .spooled || x.journalState == .uploaded || x.journalState == .uploading { x.notBefore = now + delay }
                    x.updatedAt = now
                    r = x
                    return true
                }
            }
            guard ok else { throw FSError(EBUSY, "\(path): being committed to Google Photos right now; try again in a moment") }
            invalidateListing(parent)
            invalidateListing(newParent)
            writes.kick.signal()
        case .item(let r):
            guard case .album(let srcRow, let srcId, _) = srcRole, case .album(let dstRow, let dstId, _) = dstRole else {
                throw FSError.notPermitted(path, "committed media can only move between albums")
            }
            guard let brief = try stored(path, { () throws(StoreError) in try store.itemBrief(r) }) else { throw FSError.stale(path) }
            guard newName == name else { throw FSError.notPermitted(path, "Google Photos can't rename media") }
            if srcRow == dstRow { return }
            if !brief.albumRows.contains(dstRow) {
                try await api(target) { () async throws(PhotosAPIError) in
                    try await client.batchAddMediaItems(albumId: dstId, mediaItemIds: [brief.googleId])
                }
                try localChange([Self.albumKey(dstId)], dirs: [newParent], path: target) { () throws(StoreError) in
                    try store.addAlbumItem(albumRow: dstRow, itemRow: r)
                }
            }
            switch existing {
            case .item(let old)? where old != r:
                if let ob = try? store.itemBrief(old) {
                    try await api(target) { () async throws(PhotosAPIError) in
                        try await client.batchRemoveMediaItems(albumId: dstId, mediaItemIds: [ob.googleId])
                    }
                    try localChange([Self.albumKey(dstId)], dirs: [newParent], path: target) { () throws(StoreError) in
                        try store.removeAlbumItem(albumRow: dstRow, itemRow: old)
                    }
                }
            case .pending(let other)?: try await dropPending(other, path: target, removeReplaced: true)
            default: break
            }
            try await api(path) { () async throws(PhotosAPIError) in
                try await client.batchRemoveMediaItems(albumId: srcId, mediaItemIds: [brief.googleId])
            }
            try localChange([Self.albumKey(srcId)], dirs: [parent], path: path) { () throws(StoreError) in
                try store.removeAlbumItem(albumRow: srcRow, itemRow: r)
            }
            invalidateListing(parent)
            invalidateListing(newParent)
        default:
            throw FSError.notPermitted(path, "this directory is part of the mount's fixed tree")
        }
    }
}
