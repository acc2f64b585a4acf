// The read side (STUB to be replaced by the tree helper's Tree.swift). The write branch's stub is a little smarter so
// the write tests can walk paths: raw album titles in album/, items by filename, pending entries merged (and shadowing).
import Foundation
import MetadataStore

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
    func treeLookup(parent: NodeID, name: String) async throws(FSError) -> EntryReply {
        guard let n = try await resolve(parent: parent, name: name) else { throw FSError.noEntry(pathOf(parent) + "/" + name) }
        let a: FileAttributes
        if case .pending(let id) = n { a = try await pendingAttributes(id) } else { a = try await treeAttributes(n) }
        return EntryReply(attributes: a, entryTimeout: 0, attrTimeout: 0)
    }
    func treeAttributes(_ node: NodeID) async throws(FSError) -> FileAttributes {
        switch node {
        case .item(let r):
            guard let b = try? store.itemBrief(r) else { throw FSError.stale("item \(r)") }
            return FileAttributes(ino: node.ino, kind: .file, permissions: 0o644, size: b.originalSize ?? 0, uid: options.uid,
                                  gid: options.gid, mtime: Date(timeIntervalSince1970: 0))
        case .pending(let id): return try await pendingAttributes(id)
        default:
            return FileAttributes(ino: node.ino, kind: .directory, permissions: 0o755, size: 0, nlink: 2, uid: options.uid,
                                  gid: options.gid, mtime: Date(timeIntervalSince1970: 0))
        }
    }
    func treeOpenDir(_ node: NodeID) async throws(FSError) -> UInt64 {
        var names: [(String, NodeID)] = []
        switch node {
        case .root: names = [("album", .albumRoot), ("media", .mediaRoot), ("upload", .uploadRoot)]
        case .albumRoot: names = ((try? store.albumBriefs()) ?? []).map { ($0.title, NodeID.album($0.row)) }
        case .album(let r):
            names = ((try? store.albumItemBriefs(albumRow: r)) ?? []).map { ($0.filename, NodeID.item($0.row)) }
        case .uploadRoot:
            names = ((try? store.journalUploadDirItemRows()) ?? []).compactMap { r in
                (try? store.itemBrief(r)).flatMap { $0 }.map { ($0.filename, NodeID.item(r)) }
            }
        default: break
        }
        let pending = pendingEntries(in: try directoryRole(node))
        let shadowed = Set(pending.map(\.name))
        var entries: [DirEntry] = []
        for (name, n) in names where !shadowed.contains(name) {
            entries.append(DirEntry(name: name, entry: EntryReply(attributes: try await treeAttributes(n), entryTimeout: 0, attrTimeout: 0)))
        }
        for p in pending { entries.append(DirEntry(name: p.name, entry: EntryReply(attributes: p.attributes, entryTimeout: 0, attrTimeout: 0))) }
        return handles.insert(.directory(DirListing(entries)))
    }
    func treeOpenItem(_ row: Int64, flags: OpenFlags) async throws(FSError) -> OpenReply { throw FSError(ENOSYS, "open") }
    func treeRead(_ reader: ItemReader, offset: Int64, size: Int) async throws(FSError) -> Data { throw FSError(ENOSYS, "read") }
    func treeRelease(_ reader: ItemReader) {}
    func treeGetXattr(_ node: NodeID, name: String) async throws(FSError) -> Data {
        if node == .root, name == "user.gphotos.status" { return try mountStatusJSON() }
        if case .item(let r) = node, let b = try? store.itemBrief(r) {
            switch name {
            case "user.gphotos.state": return Data("committed".utf8)
            case "user.gphotos.id": return Data(b.googleId.utf8)
            case "user.gphotos.original_sha256": if let s = b.originalSha256 { return Data(s.utf8) }
            default: break
            }
        }
        throw FSError(ENODATA, name)
    }
    func treeListXattr(_ node: NodeID) async throws(FSError) -> [String] { [] }
    func treeSetXattr(_ node: NodeID, name: String, value: Data) async throws(FSError) { throw FSError(ENOTSUP, name) }
    func treeStatFS() -> FSStats { FSStats(blockSize: 4096, blocks: 0, blocksFree: 0, files: 0, filesFree: 0) }
    /// What a directory is, for the write side.
    func directoryRole(_ node: NodeID) throws(FSError) -> DirectoryRole {
        switch node {
        case .root: return .root
        case .albumRoot: return .albumParent(prefix: "")
        case .album(let r):
            guard let a = try? store.albumBrief(r) else { throw FSError.stale("album \(r)") }
            return .album(row: r, googleId: a.googleId, title: a.title)
        case .uploadRoot: return .upload
        default: return .readOnly
        }
    }
    /// The node's path under the mount, for messages ("album/Trip/a.jpg").
    func pathOf(_ node: NodeID) -> String {
        switch node {
        case .root: return ""
        case .albumRoot: return "album"
        case .uploadRoot: return "upload"
        case .mediaRoot: return "media"
        case .album(let r): return "album/" + (((try? store.albumBrief(r)) ?? nil)?.title ?? "\(r)")
        default: return "\(node)"
        }
    }
    /// Forgets cached listings of `node` (after a local change).
    func invalidateListing(_ node: NodeID) {}
    /// Finds `name` in a directory (committed entries and pending ones).
    func resolve(parent: NodeID, name: String) async throws(FSError) -> NodeID? {
        switch parent {
        case .root: return ["album": .albumRoot, "media": .mediaRoot, "upload": .uploadRoot][name]
        case .albumRoot: return ((try? store.albumBriefs()) ?? []).first { $0.title == name }.map { .album($0.row) }
        case .album(let r):
            if let p = try? store.journalRow(inAlbum: r, name: name) { return .pending(p.rowID) }
            return ((try? store.albumItemBriefs(albumRow: r)) ?? []).first { $0.filename == name }.map { .item($0.row) }
        case .uploadRoot:
            if let p = try? store.journalRow(inAlbum: nil, name: name) { return .pending(p.rowID) }
            for r in (try? store.journalUploadDirItemRows()) ?? [] {
                if let b = try? store.itemBrief(r), b.filename == name { return .item(r) }
            }
            return nil
        default: return nil
        }
    }
}
