// Extended attributes of committed items and directories (user.gphotos.*), and the refresh xattr.
import Foundation
import MetadataStore

extension PhotosFS {
    /// The xattr that forces a refresh of a directory when set (any value).
    static let refreshXattr = "user.gphotos.refresh"
    /// The root's status xattr (JSON, read by `gphotosfs status`).
    static let statusXattr = "user.gphotos.status"

    /// The xattrs a committed item has (name → value); absent ones are not listed.
    func itemXattrs(_ item: ItemRecord) -> [(String, String)] {
        var out: [(String, String)] = [("user.gphotos.id", item.googleId)]
        if let u = item.productUrl { out.append(("user.gphotos.url", u)) }
        if !item.mimeType.isEmpty { out.append(("user.gphotos.mime_type", item.mimeType)) }
        if let t = item.creationTime {
            out.append(("user.gphotos.creation_time", Date(timeIntervalSince1970: t).formatted(.iso8601)))
        }
        if let w = item.width { out.append(("user.gphotos.width", String(w))) }
        if let h = item.height { out.append(("user.gphotos.height", String(h))) }
        out.append(("user.gphotos.state", "committed"))
        if let s = item.originalSha256 { out.append(("user.gphotos.original_sha256", s)) }
        if let n = item.originalSize { out.append(("user.gphotos.original_size", String(n))) }
        return out
    }

    /// The xattrs of a directory.
    func directoryXattrs(_ node: NodeID) throws(FSError) -> [(String, String)] {
        switch node {
        case .album(let row):
            guard let a = try db(pathOf(node), { () throws(StoreError) in try store.album(row: row) }) else { throw FSError.noEntry(pathOf(node)) }
            var out = [("user.gphotos.id", a.googleId)]
            if let u = a.productUrl { out.append(("user.gphotos.url", u)) }
            return out
        default:
            return []
        }
    }

    /// getxattr on a committed node; ENODATA when it has no such attribute.
    func treeGetXattr(_ node: NodeID, name: String) async throws(FSError) -> Data {
        if node == .root && name == Self.statusXattr { return try mountStatusJSON() }
        let attrs: [(String, String)]
        if case .item(let row) = node { attrs = itemXattrs(try liveItem(row)) } else { attrs = try directoryXattrs(node) }
        guard let v = attrs.first(where: { $0.0 == name })?.1 else { throw FSError(ENODATA, "\(pathOf(node)): no attribute \(name)") }
        return Data(v.utf8)
    }

    /// listxattr on a committed node.
    func treeListXattr(_ node: NodeID) async throws(FSError) -> [String] {
        if node == .root { return [Self.statusXattr] }
        if case .item(let row) = node { return itemXattrs(try liveItem(row)).map(\.0) }
        return try directoryXattrs(node).map(\.0)
    }

    /// setxattr: `user.gphotos.refresh` on a directory refreshes it from the API and waits (allowed with -o ro: it
    /// changes nothing in Google Photos). The user.gphotos.* attributes are read-only (EPERM); anything else ENOTSUP.
    func treeSetXattr(_ node: NodeID, name: String, value: Data) async throws(FSError) {
        if name == Self.refreshXattr {
            if case .item = node { throw FSError(EPERM, "\(pathOf(node)): \(name) refreshes directories, not files") }
            try await forceRefresh(node)
            return
        }
        if name.hasPrefix("user.gphotos.") {
            throw FSError.notPermitted(pathOf(node), "\(name) is read-only (it mirrors Google Photos)")
        }
        throw FSError.notSupported("\(pathOf(node)): setting \(name)")
    }
}
