// The shared object model: media items and albums as stored, their JSON shapes, visibility, and signed base URLs.
import Crypto
import Foundation
import GRDB

/// A media item row.
struct ItemRecord: Sendable {
    /// A TEXT column read with its full length: GRDB's String decoding stops at an embedded NUL, and Google keeps
    /// titles and filenames with one (docs/EMULATOR.md).
    /// Binds a title or filename with its full length; the SQL stores it with `CAST(? AS TEXT)` (GRDB binds TEXT as
    /// a C string, which ends at an embedded NUL).
    static func fullText(_ s: String) -> Data { Data(s.utf8) }

    /// Selects add `CAST(column AS BLOB) AS column_bytes` for this; without it the column is read as usual.
    static func text(_ row: Row, _ column: String) -> String {
        if let data = row[column + "_bytes"] as Data? { return String(decoding: data, as: UTF8.self) }
        return (row[column] as String?) ?? ""
    }

    let id: String
    let userID: String
    /// The OAuth client that created it; nil for "user library" items no app created.
    let ownerClient: String?
    let sha256: String
    let size: Int
    let filename: String
    let mimeType: String
    /// "photo" or "video".
    let kind: String
    let description: String
    /// Capture time (EXIF) or upload time, seconds since 1970.
    let creationTime: Double
    /// Whether creationTime came from capture metadata (date filters only match those).
    let hasCaptureTime: Bool
    let uploadTime: Double
    let width: Int
    let height: Int
    let cameraMake: String?
    let cameraModel: String?
    let archived: Bool
    let favorite: Bool
    /// Content categories (LANDSCAPES, PETS, ...), for search filters.
    let categories: [String]

    /// Reads an item from a `SELECT *, CAST(filename AS BLOB) AS filename_bytes FROM media_items` row.
    init(row: Row) {
        id = row["id"]; userID = row["user_id"]; ownerClient = row["owner_client"]; sha256 = row["sha256"]
        size = row["size"]; filename = Self.text(row, "filename"); mimeType = row["mime_type"]; kind = row["kind"]
        description = row["description"]; creationTime = row["creation_time"]
        hasCaptureTime = (row["has_capture_time"] as Int) != 0; uploadTime = row["upload_time"]
        width = row["width"]; height = row["height"]; cameraMake = row["camera_make"]; cameraModel = row["camera_model"]
        archived = (row["archived"] as Int) != 0; favorite = (row["favorite"] as Int) != 0
        categories = (row["categories"] as String).split(separator: ",").map(String.init)
    }

    /// Video processing state on the emulator's clock: PROCESSING until the configured delay has passed.
    func videoStatus(now: Double, processingSeconds: Double) -> String {
        now >= uploadTime + processingSeconds ? "READY" : "PROCESSING"
    }
}

/// An album row.
struct AlbumRecord: Sendable {
    let id: String
    let userID: String
    let ownerClient: String?
    let title: String
    let coverItemID: String?
    let createdAt: Double

    /// Reads an album from a `SELECT *, CAST(title AS BLOB) AS title_bytes FROM albums` row.
    init(row: Row) {
        id = row["id"]; userID = row["user_id"]; ownerClient = row["owner_client"]; title = ItemRecord.text(row, "title")
        coverItemID = row["cover_item_id"]; createdAt = row["created_at"]
    }
}

extension Emulator {
    // MARK: Visibility (post-2025: an app sees only what its own OAuth client created)

    /// SQL condition (on alias `m`) for items the client may see; binds client id twice.
    static let visibleItemSQL = "(m.owner_client = ? OR EXISTS (SELECT 1 FROM item_visibility v WHERE v.item_id = m.id AND v.client_id = ?))"

    /// The item if `caller` may see it.
    func visibleItem(_ db: Database, id: String, caller: Caller) throws -> ItemRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT m.*, CAST(m.filename AS BLOB) AS filename_bytes FROM media_items m WHERE m.id = ? AND m.user_id = ? AND \(Emulator.visibleItemSQL)"),
                         arguments: [id, caller.userID, caller.clientID, caller.clientID]).map(ItemRecord.init)
    }

    /// The album if `caller`'s client created it.
    func visibleAlbum(_ db: Database, id: String, caller: Caller) throws -> AlbumRecord? {
        try Row.fetchOne(db.cachedStatement(sql: "SELECT *, CAST(title AS BLOB) AS title_bytes FROM albums WHERE id = ? AND user_id = ? AND owner_client = ?"),
                         arguments: [id, caller.userID, caller.clientID]).map(AlbumRecord.init)
    }

    /// Number of items in an album.
    func albumCount(_ db: Database, albumID: String) throws -> Int {
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM album_items WHERE album_id = ?"), arguments: [albumID]) ?? 0
    }

    /// Adds items to the end of an album (existing members keep their place). Caller checks limits and rights.
    func appendToAlbum(_ db: Database, albumID: String, itemIDs: [String], addedBy: String?) throws {
        var pos = try Double.fetchOne(db.cachedStatement(sql: "SELECT MAX(position) FROM album_items WHERE album_id = ?"), arguments: [albumID]) ?? 0
        for id in itemIDs {
            pos += 1
            try db.execute(sql: "INSERT OR IGNORE INTO album_items(album_id, item_id, position, added_by) VALUES (?, ?, ?, ?)",
                           arguments: [albumID, id, pos, addedBy])
        }
    }

    // MARK: JSON shapes (proto3: int64 as strings, defaults omitted)

    /// A Library API `MediaItem`.
    func mediaItemJSON(_ item: ItemRecord, caller: Caller, base: String, albumID: String? = nil,
                       includeBaseURL: Bool = true) -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(item.id),
            "productUrl": .string(albumID.map { "https://photos.google.com/lr/album/\($0)/photo/\(item.id)" }
                                  ?? "https://photos.google.com/lr/photo/\(item.id)"),
            "mimeType": .string(item.mimeType),
            "filename": .string(item.filename),
        ]
        if !item.description.isEmpty { o["description"] = .string(item.description) }
        if includeBaseURL {
            o["baseUrl"] = .string(mintBaseURL(base: base, itemID: item.id, clientID: caller.clientID, userID: caller.userID, picker: false))
        }
        var meta: [String: JSONValue] = ["creationTime": .string(RFC3339.format(item.creationTime))]
        if item.width > 0 { meta["width"] = .int64(item.width) }
        if item.height > 0 { meta["height"] = .int64(item.height) }
        var detail: [String: JSONValue] = [:]
        if let m = item.cameraMake { detail["cameraMake"] = .string(m) }
        if let m = item.cameraModel { detail["cameraModel"] = .string(m) }
        if item.kind == "video" {
            detail["status"] = .string(item.videoStatus(now: clock.now(), processingSeconds: config.videoProcessingSeconds))
            meta["video"] = .object(detail)
        } else {
            meta["photo"] = .object(detail)
        }
        o["mediaMetadata"] = .object(meta)
        return .object(o)
    }

    /// A Library API `Album`.
    func albumJSON(_ db: Database, _ album: AlbumRecord, caller: Caller, base: String) throws -> JSONValue {
        var o: [String: JSONValue] = [
            "id": .string(album.id),
            "title": .string(album.title),
            "productUrl": .string("https://photos.google.com/lr/album/\(album.id)"),
        ]
        if album.ownerClient == caller.clientID && caller.has(anyOf: [Scope.appendOnly, Scope.editAppCreated]) {
            o["isWriteable"] = .bool(true)
        }
        let count = try albumCount(db, albumID: album.id)
        if count > 0 { o["mediaItemsCount"] = .int64(count) }
        let cover = try album.coverItemID ?? String.fetchOne(db.cachedStatement(sql: "SELECT item_id FROM album_items WHERE album_id = ? ORDER BY position LIMIT 1"), arguments: [album.id])
        if let cover {
            o["coverPhotoMediaItemId"] = .string(cover)
            o["coverPhotoBaseUrl"] = .string(mintBaseURL(base: base, itemID: cover, clientID: caller.clientID, userID: caller.userID, picker: false))
        }
        return .object(o)
    }

    // MARK: Signed base URLs

    /// What a base URL grants: one item's bytes until `expires`.
    struct BaseURLClaim: Sendable {
        let itemID: String
        let clientID: String
        let userID: String
        let expires: Double
        /// Picker URLs need a Bearer token with the picker scope.
        let picker: Bool
    }

    /// Mints a base URL for an item, valid for `baseURLTTL` on the emulator's clock.
    /// Library URLs live under /lr/, picker ones under /pk/; clients append `=d`, `=dv`, `=w…-h…`.
    func mintBaseURL(base: String, itemID: String, clientID: String, userID: String, picker: Bool) -> String {
        let expires = Int(clock.now() + config.baseURLTTL)
        let payload = [itemID, clientID, userID, String(expires), picker ? "p" : "l"].joined(separator: "\u{1F}")
        let p64 = Emulator.base64url(Data(payload.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(p64.utf8), using: secret)
        return "\(base)/\(picker ? "pk" : "lr")/\(p64).\(Emulator.base64url(Data(mac).prefix(18)))"
    }

    /// Checks a base URL token's signature (not its expiry); nil when forged or malformed.
    func verifyBaseURL(token: String, picker: Bool) -> BaseURLClaim? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count < 4096 else { return nil }
        let mac = HMAC<SHA256>.authenticationCode(for: Data(parts[0].utf8), using: secret)
        guard Emulator.base64url(Data(mac).prefix(18)) == parts[1],
              let raw = Emulator.unbase64url(String(parts[0])), let text = String(data: raw, encoding: .utf8) else { return nil }
        let f = text.split(separator: "\u{1F}", omittingEmptySubsequences: false).map(String.init)
        guard f.count == 5, let exp = Double(f[3]), (f[4] == "p") == picker else { return nil }
        return BaseURLClaim(itemID: f[0], clientID: f[1], userID: f[2], expires: exp, picker: picker)
    }

    /// URL-safe base64 without padding.
    static func base64url(_ d: Data) -> String {
        d.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Decodes URL-safe base64 without padding.
    static func unbase64url(_ s: String) -> Data? {
        var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while t.count % 4 != 0 { t += "=" }
        return Data(base64Encoded: t)
    }
}
