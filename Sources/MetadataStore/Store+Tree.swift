// Store+Tree: the read side's queries: albums, items, membership, date buckets, refresh stamps, content-cache index.
import Foundation
import GRDB

/// An album as the tree needs it.
public struct AlbumRecord: Sendable, Equatable {
    /// albums.row (the directory's inode).
    public var row: Int64
    /// Google's album id.
    public var googleId: String
    /// The title as Google has it.
    public var title: String
    /// productUrl.
    public var productUrl: String?
    /// Whether this app may add items.
    public var isWriteable: Bool
}

/// A media item as the tree needs it.
public struct ItemRecord: Sendable, Equatable {
    /// items.row (the file's inode).
    public var row: Int64
    /// Google's media item id.
    public var googleId: String
    /// The filename as Google has it.
    public var filename: String
    /// MIME type.
    public var mimeType: String
    /// True for videos (download with `=dv`).
    public var isVideo: Bool
    /// Capture time (seconds since 1970), nil when unknown.
    public var creationTime: Double?
    /// Pixel width.
    public var width: Int64?
    /// Pixel height.
    public var height: Int64?
    /// productUrl.
    public var productUrl: String?
    /// Bytes a download returns, nil until learned.
    public var size: Int64?
    /// The last base URL (valid 60 minutes from baseUrlAt).
    public var baseUrl: String?
    /// When baseUrl was fetched.
    public var baseUrlAt: Double?
    /// SHA-256 of the original bytes (uploads by this mount or a sync run).
    public var originalSha256: String?
    /// Size of the original bytes.
    public var originalSize: Int64?
    /// No longer returned by the API.
    public var gone: Bool

    static let columns = "i.row, i.googleId, CAST(i.filename AS BLOB), i.mimeType, i.isVideo, i.creationTime, i.width, i.height, i.productUrl, "
        + "i.size, i.baseUrl, i.baseUrlAt, i.originalSha256, i.originalSize, i.gone"

    /// One item by row (a cached statement).
    static let byRowSQL = "SELECT \(columns) FROM items i WHERE i.row = ?"

    /// Items of a query selecting `columns`, read through a cursor: a listing of 100,000 items never holds
    /// 100,000 GRDB rows at once besides the records (docs/PERFORMANCE.md, RSS).
    static func fetch(_ db: Database, _ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> [ItemRecord] {
        var out: [ItemRecord] = []
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let r = try cursor.next() { out.append(ItemRecord(r)) }
        return out
    }

    init(_ r: Row) {
        row = r[0]; googleId = r[1]; filename = r.text(2); mimeType = r[3]; isVideo = r[4]; creationTime = r[5]
        width = r[6]; height = r[7]; productUrl = r[8]; size = r[9]; baseUrl = r[10]; baseUrlAt = r[11]
        originalSha256 = r[12]; originalSize = r[13]; gone = r[14]
    }
}

/// What a directory listing needs of an item: a third of an `ItemRecord`, so building a 100,000-entry listing holds
/// less (docs/PERFORMANCE.md, RSS).
public struct ListedItem: Sendable, Equatable {
    /// items.row (the file's inode).
    public var row: Int64
    /// Google's media item id (names duplicates).
    public var googleId: String
    /// The filename as Google has it.
    public var filename: String
    /// Bytes a download returns, nil until learned.
    public var size: Int64?
    /// Capture time (seconds since 1970), nil when unknown.
    public var creationTime: Double?

    /// The columns `fetch` reads, in order (items aliased `i`).
    static let columns = "i.row, i.googleId, CAST(i.filename AS BLOB), i.size, i.creationTime"

    /// Items of a query selecting `columns`, read through a cursor (no array of GRDB rows besides the items).
    static func fetch(_ db: Database, _ sql: String, _ arguments: StatementArguments = StatementArguments()) throws -> [ListedItem] {
        var out: [ListedItem] = []
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: arguments)
        while let r = try cursor.next() {
            out.append(ListedItem(row: r[0], googleId: r[1], filename: r.text(2), size: r[3], creationTime: r[4]))
        }
        return out
    }
}

/// A media item as an API listing returned it (no size: the API never reports one).
public struct ItemUpsert: Sendable, Equatable {
    /// Google's media item id.
    public var googleId: String
    /// The filename as Google has it.
    public var filename: String
    /// MIME type from the listing.
    public var mimeType: String
    /// True for videos (download with `=dv`).
    public var isVideo: Bool
    /// Capture time (seconds since 1970), nil when unknown.
    public var creationTime: Double?
    /// Pixel width, nil when the listing gave none.
    public var width: Int64?
    /// Pixel height, nil when the listing gave none.
    public var height: Int64?
    /// Link to the item in the Google Photos web app.
    public var productUrl: String?
    /// The item's description (caption).
    public var description: String?
    /// Base URL from this listing (valid 60 minutes); nil or empty keeps the stored one.
    public var baseUrl: String?
    /// Creates an upsert.
    public init(googleId: String, filename: String, mimeType: String, isVideo: Bool, creationTime: Double?, width: Int64?,
                height: Int64?, productUrl: String?, description: String?, baseUrl: String?) {
        self.googleId = googleId; self.filename = filename; self.mimeType = mimeType; self.isVideo = isVideo
        self.creationTime = creationTime; self.width = width; self.height = height; self.productUrl = productUrl
        self.description = description; self.baseUrl = baseUrl
    }
}

/// An album as albums.list returned it.
public struct AlbumUpsert: Sendable, Equatable {
    /// Google's album id.
    public var googleId: String
    /// The title as Google has it.
    public var title: String
    /// Link to the album in the Google Photos web app.
    public var productUrl: String?
    /// Number of items Google reports in the album.
    public var mediaItemsCount: Int64
    /// Whether this app may add items (albums it created).
    public var isWriteable: Bool
    /// Creates an upsert.
    public init(googleId: String, title: String, productUrl: String?, mediaItemsCount: Int64, isWriteable: Bool) {
        self.googleId = googleId; self.title = title; self.productUrl = productUrl
        self.mediaItemsCount = mediaItemsCount; self.isWriteable = isWriteable
    }
}

/// One content-cache index row.
public struct ContentRecord: Sendable, Equatable {
    /// The cached item (items.row).
    public var itemRow: Int64
    /// The cache file holding the item's bytes (as served by =d / =dv).
    public var path: String
    /// Bytes in the cache file (0 while a download starts; the full size once complete).
    public var size: Int64
    /// True once the download finished; incomplete rows (left by a crash) are removed at start.
    public var complete: Bool
    /// Creates a row.
    public init(itemRow: Int64, path: String, size: Int64, complete: Bool) {
        self.itemRow = itemRow; self.path = path; self.size = size; self.complete = complete
    }
}

/// A date bucket of the media/by-* trees: start (inclusive) and end (exclusive) in seconds since 1970, UTC.
public struct DateSpan: Sendable, Equatable {
    /// First second of the bucket (inclusive).
    public var start: Double
    /// End of the bucket (exclusive).
    public var end: Double
    /// Creates a span.
    public init(start: Double, end: Double) { self.start = start; self.end = end }
}

extension MetadataStore {
    /// The read side's schema additions: an album `gone` flag (albums vanish softly, keeping their inode) and a
    /// per-membership `seenAt` so an album refresh can drop the memberships it no longer saw.
    static func registerTreeMigration(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2-tree") { db in
            try db.execute(sql: """
                ALTER TABLE albums ADD COLUMN gone INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE albumItems ADD COLUMN seenAt REAL NOT NULL DEFAULT 0;
                CREATE INDEX albumItems_position ON albumItems(albumRow, position);
                CREATE INDEX items_gone ON items(gone);
                """)
        }
    }

    // MARK: refresh stamps

    /// When `key` ('albums', 'media', 'album:<googleId>') was last refreshed; nil = never.
    public func refreshedAt(_ key: String) throws(StoreError) -> Double? {
        try read { db in try Double.fetchOne(db, sql: "SELECT at FROM refreshes WHERE key = ?", arguments: [key]) }
    }

    /// Records a completed refresh of `key`.
    public func setRefreshed(_ key: String, at: Double) throws(StoreError) {
        try write { db in
            try db.execute(sql: "INSERT INTO refreshes(key, at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET at = excluded.at",
                           arguments: [key, at])
        }
    }

    /// Every refresh key with its stamp.
    public func refreshKeys() throws(StoreError) -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT key FROM refreshes") }
    }

    // MARK: albums

    /// Every album not gone, by row.
    public func albums() throws(StoreError) -> [AlbumRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT row, googleId, CAST(title AS BLOB), productUrl, isWriteable FROM albums WHERE gone = 0 ORDER BY row")
                .map { AlbumRecord(row: $0[0], googleId: $0[1], title: $0.text(2), productUrl: $0[3], isWriteable: $0[4]) }
        }
    }

    /// One album (gone ones included: check `albumIsGone`).
    public func album(row: Int64) throws(StoreError) -> AlbumRecord? {
        try readStatement { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT row, googleId, CAST(title AS BLOB), productUrl, isWriteable FROM albums WHERE row = ? AND gone = 0"),
                             arguments: [row])
                .map { AlbumRecord(row: $0[0], googleId: $0[1], title: $0.text(2), productUrl: $0[3], isWriteable: $0[4]) }
        }
    }

    /// Upserts one page of albums.list in one transaction (clears `gone`).
    public func upsertAlbums(_ albums: [AlbumUpsert], seenAt: Double) throws(StoreError) {
        try write { db in
            let st = try db.cachedStatement(sql: """
                INSERT INTO albums(googleId, title, productUrl, mediaItemsCount, isWriteable, seenAt, gone)
                VALUES (?, CAST(? AS TEXT), ?, ?, ?, ?, 0)
                ON CONFLICT(googleId) DO UPDATE SET title = excluded.title, productUrl = excluded.productUrl,
                    mediaItemsCount = excluded.mediaItemsCount, isWriteable = excluded.isWriteable, seenAt = excluded.seenAt, gone = 0
                """)
            for a in albums {
                try st.execute(arguments: [a.googleId, FullText(a.title), a.productUrl, a.mediaItemsCount, a.isWriteable, seenAt])
            }
        }
    }

    /// Marks albums albums.list no longer returned (not seen since `before`) gone; returns their rows.
    @discardableResult
    public func markAlbumsGone(notSeenSince before: Double) throws(StoreError) -> [Int64] {
        try write { db in
            let rows = try Int64.fetchAll(db, sql: "SELECT row FROM albums WHERE gone = 0 AND seenAt < ?", arguments: [before])
            try db.execute(sql: "UPDATE albums SET gone = 1 WHERE gone = 0 AND seenAt < ?", arguments: [before])
            return rows
        }
    }

    /// Marks one album gone (its search answered 404).
    public func markAlbumGone(row: Int64) throws(StoreError) {
        try write { db in try db.execute(sql: "UPDATE albums SET gone = 1 WHERE row = ?", arguments: [row]) }
    }

    // MARK: items

    /// Upserts one page of items in one transaction, keeping learned sizes; the listing's base URL replaces the old one.
    /// With `album` (a page of an album refresh), also records membership at positions `firstPosition...`, stamped with
    /// the refresh's start. Returns the rows in input order.
    /// An item's `seenAt` only moves forward: an album refresh that started before a library refresh may write its page
    /// after the library's, and an older stamp would make the library refresh take the item for gone.
    @discardableResult
    public func upsertItems(_ items: [ItemUpsert], seenAt: Double,
                            album: (row: Int64, seenAt: Double, firstPosition: Int)? = nil) throws(StoreError) -> [Int64] {
        try write { db in
            let st = try db.cachedStatement(sql: """
                INSERT INTO items(googleId, filename, mimeType, isVideo, creationTime, width, height, productUrl, description,
                                  baseUrl, baseUrlAt, seenAt, gone)
                VALUES (?, CAST(? AS TEXT), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
                ON CONFLICT(googleId) DO UPDATE SET filename = excluded.filename, mimeType = excluded.mimeType,
                    isVideo = excluded.isVideo, creationTime = excluded.creationTime, width = excluded.width,
                    height = excluded.height, productUrl = excluded.productUrl, description = excluded.description,
                    baseUrl = coalesce(excluded.baseUrl, baseUrl), baseUrlAt = coalesce(excluded.baseUrlAt, baseUrlAt),
                    seenAt = max(seenAt, excluded.seenAt), gone = 0
                RETURNING row
                """)
            let member = try db.cachedStatement(sql: """
                INSERT INTO albumItems(albumRow, itemRow, position, seenAt) VALUES (?, ?, ?, ?)
                ON CONFLICT(albumRow, itemRow) DO UPDATE SET position = excluded.position, seenAt = excluded.seenAt
                """)
            var rows: [Int64] = []
            rows.reserveCapacity(items.count)
            for (i, it) in items.enumerated() {
                let url = (it.baseUrl?.isEmpty ?? true) ? nil : it.baseUrl
                guard let row = try Int64.fetchOne(st, arguments: [
                    it.googleId, FullText(it.filename), it.mimeType, it.isVideo, it.creationTime, it.width, it.height, it.productUrl,
                    it.description, url, url == nil ? nil : seenAt, seenAt,
                ]) else { continue }
                rows.append(row)
                if let album { try member.execute(arguments: [album.row, row, album.firstPosition + i, album.seenAt]) }
            }
            return rows
        }
    }

    /// Drops memberships of `album` that its last full listing (started at `before`) did not return.
    public func dropAlbumMembers(album: Int64, notSeenSince before: Double, refreshedAt: Double) throws(StoreError) {
        try write { db in
            try db.execute(sql: "DELETE FROM albumItems WHERE albumRow = ? AND seenAt < ?", arguments: [album, before])
            try db.execute(sql: "UPDATE albums SET itemsRefreshedAt = ? WHERE row = ?", arguments: [refreshedAt, album])
        }
    }

    /// Marks items mediaItems.list no longer returned (not seen since `before`) gone and drops their memberships;
    /// returns their rows.
    @discardableResult
    public func markItemsGone(notSeenSince before: Double) throws(StoreError) -> [Int64] {
        try write { db in
            let rows = try Int64.fetchAll(db, sql: "SELECT row FROM items WHERE gone = 0 AND seenAt < ?", arguments: [before])
            try db.execute(sql: "UPDATE items SET gone = 1 WHERE gone = 0 AND seenAt < ?", arguments: [before])
            try db.execute(sql: "DELETE FROM albumItems WHERE itemRow IN (SELECT row FROM items WHERE gone = 1)")
            return rows
        }
    }

    /// Marks items gone by Google id (batchGet answered NOT_FOUND); returns their rows.
    @discardableResult
    public func markItemsGone(googleIds: [String]) throws(StoreError) -> [Int64] {
        guard !googleIds.isEmpty else { return [] }
        return try write { db in
            var rows: [Int64] = []
            for id in googleIds {
                if let r = try Int64.fetchOne(db, sql: "UPDATE items SET gone = 1 WHERE googleId = ? RETURNING row", arguments: [id]) {
                    rows.append(r)
                    try db.execute(sql: "DELETE FROM albumItems WHERE itemRow = ?", arguments: [r])
                }
            }
            return rows
        }
    }

    /// One item (gone ones included).
    public func item(row: Int64) throws(StoreError) -> ItemRecord? {
        try readStatement { db in
            try Row.fetchOne(db.cachedStatement(sql: ItemRecord.byRowSQL), arguments: [row]).map(ItemRecord.init)
        }
    }

    /// Items by row (gone ones included), in no particular order.
    public func items(rows: [Int64]) throws(StoreError) -> [ItemRecord] {
        guard !rows.isEmpty else { return [] }
        return try read { db in
            try ItemRecord.fetch(db, "SELECT \(ItemRecord.columns) FROM items i WHERE i.row IN (\(rows.map { _ in "?" }.joined(separator: ",")))",
                                 StatementArguments(rows))
        }
    }

    /// An album's items in album order (`ListedItem`).
    public func albumItems(album: Int64) throws(StoreError) -> [ListedItem] {
        try read { db in
            try ListedItem.fetch(db, """
                SELECT \(ListedItem.columns) FROM albumItems a JOIN items i ON i.row = a.itemRow
                WHERE a.albumRow = ? AND i.gone = 0 ORDER BY a.position
                """, [album])
        }
    }

    /// Every item not gone (media/all), by capture time (`ListedItem`).
    public func allItems() throws(StoreError) -> [ListedItem] {
        try read { db in
            try ListedItem.fetch(db, "SELECT \(ListedItem.columns) FROM items i WHERE i.gone = 0 ORDER BY i.creationTime, i.row")
        }
    }

    /// Items with a capture time in `span` (a date directory), by capture time (`ListedItem`).
    public func items(in span: DateSpan) throws(StoreError) -> [ListedItem] {
        try read { db in
            try ListedItem.fetch(db, """
                SELECT \(ListedItem.columns) FROM items i WHERE i.creationTime >= ? AND i.creationTime < ? AND i.gone = 0
                ORDER BY i.creationTime, i.row
                """, [span.start, span.end])
        }
    }

    /// Distinct UTC date keys of items in `span`, formatted with strftime `format` ('%Y', '%Y-%m', '%Y-%m-%d').
    public func dateKeys(_ format: String, in span: DateSpan) throws(StoreError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT DISTINCT strftime(?, creationTime, 'unixepoch') AS k FROM items
                WHERE creationTime >= ? AND creationTime < ? AND gone = 0 AND k IS NOT NULL ORDER BY k
                """, arguments: [format, span.start, span.end])
        }
    }

    /// The newest capture time in `span` (nil when empty).
    public func newestCreation(in span: DateSpan) throws(StoreError) -> Double? {
        try read { db in
            try Double.fetchOne(db, sql: "SELECT MAX(creationTime) FROM items WHERE creationTime >= ? AND creationTime < ? AND gone = 0",
                                arguments: [span.start, span.end])
        }
    }

    /// The newest capture time of an album's items (nil when empty).
    public func newestCreation(album: Int64) throws(StoreError) -> Double? {
        try read { db in
            try Double.fetchOne(db, sql: """
                SELECT MAX(i.creationTime) FROM albumItems a JOIN items i ON i.row = a.itemRow WHERE a.albumRow = ? AND i.gone = 0
                """, arguments: [album])
        }
    }

    /// Items this mount uploaded to upload/ (no album) and committed, not gone (`ListedItem`).
    public func uploadDirItems() throws(StoreError) -> [ListedItem] {
        try read { db in
            try ListedItem.fetch(db, """
                SELECT \(ListedItem.columns) FROM items i WHERE i.gone = 0 AND i.row IN
                    (SELECT itemRow FROM uploads WHERE albumRow IS NULL AND state = 'committed' AND itemRow IS NOT NULL)
                ORDER BY i.row
                """)
        }
    }

    /// Number of items not gone.
    public func itemCount() throws(StoreError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT COUNT(*) FROM items WHERE gone = 0") ?? 0 }
    }

    /// Stores a learned size (for good: items never change).
    public func setItemSize(row: Int64, size: Int64) throws(StoreError) {
        try write { db in try db.cachedStatement(sql: "UPDATE items SET size = ? WHERE row = ?").execute(arguments: [size, row]) }
    }

    /// Stores fresh base URLs by Google id.
    public func setBaseUrls(_ urls: [(googleId: String, baseUrl: String)], at: Double) throws(StoreError) {
        try write { db in
            let st = try db.cachedStatement(sql: "UPDATE items SET baseUrl = ?, baseUrlAt = ? WHERE googleId = ?")
            for u in urls { try st.execute(arguments: [u.baseUrl, at, u.googleId]) }
        }
    }

    /// Google ids of other items (not gone) whose base URL is older than `before` or missing, at most `limit`,
    /// preferring the most recently used ones (cheap to refresh together in one batchGet).
    public func staleBaseUrlIds(before: Double, excluding: Int64, limit: Int) throws(StoreError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT googleId FROM items WHERE gone = 0 AND row <> ? AND (baseUrlAt IS NULL OR baseUrlAt < ?)
                ORDER BY COALESCE(baseUrlAt, seenAt) DESC LIMIT ?
                """, arguments: [excluding, before, limit])
        }
    }

    // MARK: content cache

    /// The cache index row of an item.
    public func contentEntry(item: Int64) throws(StoreError) -> ContentRecord? {
        try readStatement { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT itemRow, path, size, complete FROM contentCache WHERE itemRow = ?"), arguments: [item])
                .map { ContentRecord(itemRow: $0[0], path: $0[1], size: $0[2], complete: $0[3]) }
        }
    }

    /// Records (or restarts) a cache file.
    public func putContent(_ c: ContentRecord, lastUsed: Double) throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                INSERT INTO contentCache(itemRow, path, size, complete, lastUsed) VALUES (?, ?, ?, ?, ?)
                ON CONFLICT(itemRow) DO UPDATE SET path = excluded.path, size = excluded.size, complete = excluded.complete,
                    lastUsed = excluded.lastUsed
                """, arguments: [c.itemRow, c.path, c.size, c.complete, lastUsed])
        }
    }

    /// Completes a download: the cache row and the item's size (the real length) in one transaction.
    public func completeContent(item: Int64, size: Int64, at: Double) throws(StoreError) {
        try write { db in
            try db.execute(sql: "UPDATE contentCache SET size = ?, complete = 1, lastUsed = ? WHERE itemRow = ?", arguments: [size, at, item])
            try db.execute(sql: "UPDATE items SET size = ? WHERE row = ?", arguments: [size, item])
        }
    }

    /// Marks a cache file used now.
    public func touchContent(item: Int64, at: Double) throws(StoreError) {
        try write { db in try db.cachedStatement(sql: "UPDATE contentCache SET lastUsed = ? WHERE itemRow = ?").execute(arguments: [at, item]) }
    }

    /// Forgets a cache row.
    public func removeContent(item: Int64) throws(StoreError) {
        try write { db in try db.execute(sql: "DELETE FROM contentCache WHERE itemRow = ?", arguments: [item]) }
    }

    /// Bytes held by the cache (complete or not).
    public func contentBytes() throws(StoreError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM contentCache") ?? 0 }
    }

    /// Cache rows oldest-used first (eviction candidates), at most `limit`.
    public func contentLRU(limit: Int) throws(StoreError) -> [ContentRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT itemRow, path, size, complete FROM contentCache ORDER BY lastUsed LIMIT ?", arguments: [limit])
                .map { ContentRecord(itemRow: $0[0], path: $0[1], size: $0[2], complete: $0[3]) }
        }
    }

    /// Incomplete cache rows (left by a crash): removed at start.
    public func incompleteContent() throws(StoreError) -> [ContentRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT itemRow, path, size, complete FROM contentCache WHERE complete = 0")
                .map { ContentRecord(itemRow: $0[0], path: $0[1], size: $0[2], complete: $0[3]) }
        }
    }
}
