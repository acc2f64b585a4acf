// POST /v1/mediaItems:batchCreate: turn upload tokens into media items (sniffed, EXIF-dated, deduplicated), optionally
// placed in an app album; plus a control route that lists an album's items in order, for tests.
import Foundation
import GRDB
import Hummingbird

extension Emulator {
    static let batchCreateRoutes: [Route] = [
        Route(method: "POST", pattern: "/v1/mediaItems:batchCreate", endpoint: "mediaItems.batchCreate",
              kind: .api(scopes: [Scope.appendOnly], write: true)) { call in
            try call.emulator.batchCreate(call)
        },
    ]

    static let albumItemsRoutes: [Route] = [
        Route(method: "GET", pattern: "/emulator/v1/albums/{albumId}/items", endpoint: "control.albumItems", kind: .control) { call in
            let album = call.param("albumId")
            let ids = try call.emulator.store.db.read { db in
                try String.fetchAll(db, sql: "SELECT item_id FROM album_items WHERE album_id = ? ORDER BY position, rowid",
                                    arguments: [album])
            }
            return HTTPOut.json(.object(["mediaItemIds": .array(ids.map { .string($0) })]))
        },
    ]

    /// The per-item failure Google returns for bad tokens and unusable bytes.
    static let createFailed = RPCStatus(code: 3, message: "Failed: There was an error while trying to create this media item.")

    /// One validated entry of `newMediaItems`.
    private struct NewItem {
        let uploadToken: String
        let fileName: String?
        let description: String
    }

    /// What the content of one token turned out to be (read from disk before the write transaction).
    private struct Prepared {
        let sha: String
        let size: Int
        let filename: String
        let info: MediaInfo
        let capture: Double?
        let make: String?
        let model: String?
    }

    /// Where new album members go.
    private enum Placement {
        case last
        case first
        case afterItem(String)
        case afterEnrichment(String)
    }

    func batchCreate(_ call: Call) throws -> Response {
        let me = try call.me
        let o = try call.jsonObject()
        try call.onlyFields(o, ["albumId", "newMediaItems", "albumPosition"])
        guard let list = o["newMediaItems"]?.array, !list.isEmpty else {
            throw APIError.invalid("Request must contain at least one newMediaItem.")
        }
        guard list.count <= 50 else { throw APIError.invalid("Request must have less than 50 items.") }
        var items: [NewItem] = []
        for (i, v) in list.enumerated() {
            guard let m = v.object else { throw APIError.invalid("Invalid JSON payload received. newMediaItems[\(i)] is not an object.") }
            try call.onlyFields(m, ["description", "simpleMediaItem"], in: "newMediaItems[\(i)]")
            guard let simple = m["simpleMediaItem"]?.object else {
                throw APIError.invalid("newMediaItems[\(i)].simpleMediaItem is required.")
            }
            try call.onlyFields(simple, ["uploadToken", "fileName"], in: "newMediaItems[\(i)].simpleMediaItem")
            let description = m["description"]?.string ?? ""
            guard description.count <= 1000 else {
                throw APIError.invalid("The description of newMediaItems[\(i)] is longer than 1000 characters.")
            }
            let fileName = simple["fileName"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            if let f = fileName, f.count > 255 {
                throw APIError.invalid("The fileName of newMediaItems[\(i)] is longer than 255 characters.")
            }
            items.append(NewItem(uploadToken: simple["uploadToken"]?.string ?? "", fileName: fileName, description: description))
        }
        let albumID = o["albumId"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        var placement = Placement.last
        if let pos = o["albumPosition"], pos != .null {
            guard albumID != nil else { throw APIError.invalid("albumPosition requires albumId.") }
            guard let p = pos.object else { throw APIError.invalid("Invalid JSON payload received. albumPosition is not an object.") }
            try call.onlyFields(p, ["position", "relativeMediaItemId", "relativeEnrichmentItemId"], in: "albumPosition")
            switch p["position"]?.string ?? "POSITION_TYPE_UNSPECIFIED" {
            case "POSITION_TYPE_UNSPECIFIED", "LAST_IN_ALBUM": placement = .last
            case "FIRST_IN_ALBUM": placement = .first
            case "AFTER_MEDIA_ITEM":
                guard let r = p["relativeMediaItemId"]?.string, !r.isEmpty else {
                    throw APIError.invalid("albumPosition AFTER_MEDIA_ITEM requires relativeMediaItemId.")
                }
                placement = .afterItem(r)
            case "AFTER_ENRICHMENT_ITEM":
                guard let r = p["relativeEnrichmentItemId"]?.string, !r.isEmpty else {
                    throw APIError.invalid("albumPosition AFTER_ENRICHMENT_ITEM requires relativeEnrichmentItemId.")
                }
                placement = .afterEnrichment(r)
            case let other:
                throw APIError.invalid("Invalid value at 'album_position.position' (type.googleapis.com/google.photos.library.v1.AlbumPosition.PositionType), \"\(other)\"")
            }
        }
        let cfg = config
        let now = clock.now()
        // Check the album before touching any token.
        if let albumID {
            let ok = try store.db.read { db in try visibleAlbum(db, id: albumID, caller: me) != nil }
            guard ok else { throw APIError.invalid("No permission to add media items to this album.") }
        }
        // Read every usable token's bytes before the write transaction.
        var prepared: [String: Prepared] = [:]
        let tokens = Set(items.map(\.uploadToken).filter { !$0.isEmpty && $0.count < 1024 })
        let rows = try store.db.read { db in
            try tokens.compactMap { t in try Row.fetchOne(db, sql: "SELECT * FROM upload_tokens WHERE token = ?", arguments: [t]) }
        }
        for row in rows {
            let token: String = row["token"]
            guard (row["client_id"] as String) == me.clientID, (row["user_id"] as String) == me.userID,
                  (row["created_at"] as Double) + cfg.uploadTokenTTL >= now else { continue }
            if cfg.uploadTokenSingleUse, (row["used"] as Int) != 0 { continue }
            let sha: String = row["sha256"]
            let size: Int = row["size"]
            guard let handle = try? FileHandle(forReadingFrom: store.contentURL(sha256: sha)) else { continue }
            let head = (try? handle.read(upToCount: MediaSniff.prefixLength)) ?? Data()
            try? handle.close()
            guard let info = MediaSniff.sniff(head) else { continue }
            if info.kind == "photo", Int64(size) > cfg.maxPhotoBytes { continue }
            if info.kind == "video", Int64(size) > cfg.maxVideoBytes { continue }
            let exif = info.mimeType == "image/jpeg" ? Exif.parse(head) : nil
            prepared[token] = Prepared(sha: sha, size: size, filename: (row["filename"] as String?) ?? "", info: info, capture: exif?.captureTime,
                                       make: exif?.make, model: exif?.model)
        }

        let base = publicBase(call.request)
        let results: [JSONValue] = try store.db.write { db -> [JSONValue] in
            var out: [(String, ItemRecord?)] = []
            var newMembers: [String] = []
            for item in items {
                guard let p = prepared[item.uploadToken] else { out.append((item.uploadToken, nil)); continue }
                if cfg.uploadTokenSingleUse {
                    let used = try Int.fetchOne(db, sql: "SELECT used FROM upload_tokens WHERE token = ?", arguments: [item.uploadToken]) ?? 1
                    if used != 0 { out.append((item.uploadToken, nil)); continue }
                }
                try db.execute(sql: "UPDATE upload_tokens SET used = 1 WHERE token = ?", arguments: [item.uploadToken])
                // Same bytes in this user's library: the same item, first filename kept.
                let existing = try Row.fetchOne(db, sql: "SELECT *, CAST(filename AS BLOB) AS filename_bytes FROM media_items WHERE user_id = ? AND sha256 = ? ORDER BY seq LIMIT 1",
                                                arguments: [me.userID, p.sha]).map(ItemRecord.init)
                let record: ItemRecord
                if let existing {
                    record = existing
                    if existing.ownerClient != me.clientID, cfg.dedupForeignVisible {
                        try db.execute(sql: "INSERT OR IGNORE INTO item_visibility(item_id, client_id) VALUES (?, ?)",
                                       arguments: [existing.id, me.clientID])
                    }
                } else {
                    let id = Ids.object()
                    var name = item.fileName ?? p.filename
                    if name.isEmpty { name = Emulator.defaultFileName(p.info) }
                    try db.execute(sql: """
                        INSERT INTO media_items(id, user_id, owner_client, sha256, size, filename, mime_type, kind, description,
                            creation_time, has_capture_time, upload_time, width, height, camera_make, camera_model)
                        VALUES (?, ?, ?, ?, ?, CAST(? AS TEXT), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [id, me.userID, me.clientID, p.sha, p.size, ItemRecord.fullText(name), p.info.mimeType, p.info.kind, item.description,
                                         p.capture ?? now, p.capture != nil ? 1 : 0, now, p.info.width, p.info.height,
                                         p.make.flatMap { $0.isEmpty ? nil : $0 }, p.model.flatMap { $0.isEmpty ? nil : $0 }])
                    guard let row = try Row.fetchOne(db, sql: "SELECT *, CAST(filename AS BLOB) AS filename_bytes FROM media_items WHERE id = ?", arguments: [id]) else {
                        throw APIError.internalError()
                    }
                    record = ItemRecord(row: row)
                }
                out.append((item.uploadToken, record))
                if !newMembers.contains(record.id) { newMembers.append(record.id) }
            }
            if let albumID, !newMembers.isEmpty {
                let present = Set(try String.fetchAll(db, sql: "SELECT item_id FROM album_items WHERE album_id = ?", arguments: [albumID]))
                let adding = newMembers.filter { !present.contains($0) }
                if present.count + adding.count > cfg.maxAlbumItems {
                    throw APIError.invalid("The album would hold more than \(cfg.maxAlbumItems) media items.")
                }
                try place(db, albumID: albumID, itemIDs: adding, placement: placement, addedBy: me.clientID)
            }
            return out.map { token, record in
                var r: [String: JSONValue] = ["uploadToken": .string(token)]
                if let record {
                    r["status"] = RPCStatus(code: 0, message: "Success").json
                    r["mediaItem"] = mediaItemJSON(record, caller: me, base: base, albumID: albumID,
                                                   includeBaseURL: cfg.batchCreateReturnsBaseURL)
                } else {
                    r["status"] = Emulator.createFailed.json
                }
                return .object(r)
            }
        }
        return HTTPOut.json(.object(["newMediaItemResults": .array(results)]))
    }

    /// A file name for bytes uploaded without one.
    static func defaultFileName(_ info: MediaInfo) -> String {
        let ext = info.mimeType.split(separator: "/").last.map(String.init) ?? "bin"
        return "IMG.\(ext == "jpeg" ? "jpg" : ext)"
    }

    /// Inserts new album members at `placement`, between their neighbours' REAL positions (enrichments included).
    private func place(_ db: Database, albumID: String, itemIDs: [String], placement: Placement, addedBy: String) throws {
        guard !itemIDs.isEmpty else { return }
        let n = Double(itemIDs.count)
        func bounds() throws -> (Double?, Double?) {
            let lo = try Double.fetchOne(db, sql: """
                SELECT MIN(p) FROM (SELECT position AS p FROM album_items WHERE album_id = ?
                                    UNION ALL SELECT position FROM enrichments WHERE album_id = ?)
                """, arguments: [albumID, albumID])
            let hi = try Double.fetchOne(db, sql: """
                SELECT MAX(p) FROM (SELECT position AS p FROM album_items WHERE album_id = ?
                                    UNION ALL SELECT position FROM enrichments WHERE album_id = ?)
                """, arguments: [albumID, albumID])
            return (lo, hi)
        }
        func after(_ anchor: Double) throws -> [Double] {
            let next = try Double.fetchOne(db, sql: """
                SELECT MIN(p) FROM (SELECT position AS p FROM album_items WHERE album_id = ? AND position > ?
                                    UNION ALL SELECT position FROM enrichments WHERE album_id = ? AND position > ?)
                """, arguments: [albumID, anchor, albumID, anchor])
            guard let next else { return (1...itemIDs.count).map { anchor + Double($0) } }
            return (1...itemIDs.count).map { anchor + (next - anchor) * Double($0) / (n + 1) }
        }
        let positions: [Double]
        switch placement {
        case .last:
            let hi = try bounds().1 ?? 0
            positions = (1...itemIDs.count).map { hi + Double($0) }
        case .first:
            let lo = try bounds().0 ?? (n + 1)
            positions = (1...itemIDs.count).map { lo - (n + 1) + Double($0) }
        case .afterItem(let rel):
            guard let anchor = try Double.fetchOne(db, sql: "SELECT position FROM album_items WHERE album_id = ? AND item_id = ?",
                                                   arguments: [albumID, rel]) else {
                throw APIError.invalid("Request contains an invalid media item id.")
            }
            positions = try after(anchor)
        case .afterEnrichment(let rel):
            guard let anchor = try Double.fetchOne(db, sql: "SELECT position FROM enrichments WHERE album_id = ? AND id = ?",
                                                   arguments: [albumID, rel]) else {
                throw APIError.invalid("Request contains an invalid enrichment item id.")
            }
            positions = try after(anchor)
        }
        for (id, pos) in zip(itemIDs, positions) {
            try db.execute(sql: "INSERT OR IGNORE INTO album_items(album_id, item_id, position, added_by) VALUES (?, ?, ?, ?)",
                           arguments: [albumID, id, pos, addedBy])
        }
    }
}
