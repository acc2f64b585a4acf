// The upload journal and the write side's other queries: journal rows, committed items, album edits, facts, API usage.
import Foundation
import GRDB

/// A journal row's state (docs/SEMANTICS.md "States").
public enum JournalState: String, Sendable, Codable, CaseIterable {
    /// Open for writing; the spool may be incomplete. Never uploaded in this state.
    case writing
    /// Closed empty: a local placeholder, never uploaded.
    case placeholder
    /// Closed, fsynced, sniffed; waits for `notBefore` (write-back delay or backoff).
    case spooled
    /// Bytes are being sent (a resumable session may be stored).
    case uploading
    /// The upload token is held; waits for batchCreate.
    case uploaded
    /// batchCreate was sent (or is about to be); reconciled before any retry.
    case creating
    /// Google confirmed the item (`itemRow`).
    case committed
    /// Gave up (`error` says why).
    case failed
}

/// One row of the `uploads` table. Times are seconds since 1970 (REAL columns).
public struct JournalRow: Codable, Sendable, Equatable, FetchableRecord, PersistableRecord {
    /// The SQLite table these rows live in (the upload journal).
    public static let databaseTableName = "uploads"
    /// Journal id (uploads.id), nil before insertion; also names the spool file `spoolDir/<id>`.
    public var id: Int64?
    /// The album directory the file was written in (albums.row); nil for upload/.
    public var albumRow: Int64?
    /// The file's name in its directory (follows renames).
    public var name: String
    /// The `JournalState` raw value as stored; use `journalState` for the typed state.
    public var state: String
    /// Local spool file holding the written bytes (`spoolDir/<id>`).
    public var spoolPath: String
    /// Bytes in the spool file (set when the file is closed).
    public var size: Int64
    /// SHA-256 of the spooled bytes, set at close (user.gphotos.original_sha256); nil while writing.
    public var sha256: String?
    /// MIME type sniffed from the spool's first bytes at close; nil until then.
    public var mimeType: String?
    /// Permission bits the file shows (default 0644).
    public var mode: Int64
    /// Modification time the file shows.
    public var mtime: Double
    /// Token from the bytes upload, held for batchCreate; nil before upload or once used.
    public var uploadToken: String?
    /// When `uploadToken` was received; past the token lifetime the bytes are uploaded again.
    public var uploadTokenAt: Double?
    /// JSON of the resumable upload session (`UploadSession`), to resume an interrupted upload.
    public var resumable: String?
    /// The committed item (items.row), set once Google confirms the upload.
    public var itemRow: Int64?
    /// The item this write overwrites (items.row): removed from the album after commit.
    public var replacesItemRow: Int64?
    /// The last failure message; for `failed` rows, why the upload gave up.
    public var error: String?
    /// Failed upload or batchCreate attempts so far; drives backoff and the give-up limit.
    public var attempts: Int64
    /// Earliest time the uploader acts on the row (write-back delay, backoff or quota pause).
    public var notBefore: Double?
    /// When the row was created (the file was first opened for writing).
    public var createdAt: Double
    /// When the row last changed.
    public var updatedAt: Double
    /// Unlinked while its batchCreate was in flight: removed from the album once committed (migration v2-write).
    public var unlinked: Bool

    /// The typed state (unknown text reads as failed).
    public var journalState: JournalState {
        get { JournalState(rawValue: state) ?? .failed }
        set { state = newValue.rawValue }
    }

    /// The row id (0 before insertion).
    public var rowID: Int64 { id ?? 0 }

    /// A new row in state `writing`.
    public init(albumRow: Int64?, name: String, mode: Int64, now: Double, replacesItemRow: Int64?) {
        self.albumRow = albumRow; self.name = name; state = JournalState.writing.rawValue; spoolPath = ""; size = 0
        self.mode = mode; mtime = now; attempts = 0; createdAt = now; updatedAt = now; unlinked = false
        self.replacesItemRow = replacesItemRow
    }
}

/// What Google returned for a committed item (written into `items`).
public struct CommittedItem: Sendable, Equatable {
    /// Google's media item id.
    public var googleId: String
    /// The filename Google stored.
    public var filename: String
    /// MIME type Google reports.
    public var mimeType: String
    /// True for videos (downloaded with `=dv`).
    public var isVideo: Bool
    /// Capture time (seconds since 1970), nil when Google gave none.
    public var creationTime: Double?
    /// Pixel width.
    public var width: Int64
    /// Pixel height.
    public var height: Int64
    /// Link to the item in the Google Photos web app.
    public var productUrl: String
    /// The item's description (caption) as Google stores it.
    public var description: String
    /// The base URL batchCreate returned with the item (valid 60 minutes), so the first read or HEAD needs no batchGet.
    public var baseUrl: String?
    /// Creates a value.
    public init(googleId: String, filename: String, mimeType: String, isVideo: Bool, creationTime: Double?, width: Int64,
                height: Int64, productUrl: String, description: String, baseUrl: String? = nil) {
        self.googleId = googleId; self.filename = filename; self.mimeType = mimeType; self.isVideo = isVideo
        self.creationTime = creationTime; self.width = width; self.height = height; self.productUrl = productUrl
        self.description = description; self.baseUrl = baseUrl
    }
}

/// An item's identity and memberships, for mutations of committed files.
public struct ItemBrief: Sendable, Equatable {
    /// items.row (the file's inode).
    public var row: Int64
    /// Google's media item id.
    public var googleId: String
    /// The filename as Google has it.
    public var filename: String
    /// Rows of the albums the item is in, ascending.
    public var albumRows: [Int64]
    /// SHA-256 of the original bytes (uploads by this mount or a sync run), else nil.
    public var originalSha256: String?
    /// Size of the original bytes, when `originalSha256` is known.
    public var originalSize: Int64?
}

/// An album's identity.
public struct AlbumBrief: Sendable, Equatable {
    /// albums.row (the directory's inode).
    public var row: Int64
    /// Google's album id.
    public var googleId: String
    /// The title as Google has it.
    public var title: String
}

extension MetadataStore {
    /// Adds the write side's columns (registered by `migrator`).
    static func registerWriteMigrations(_ m: inout DatabaseMigrator) {
        m.registerMigration("v2-write") { db in
            try db.execute(sql: """
                ALTER TABLE uploads ADD COLUMN unlinked INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX uploads_item ON uploads(itemRow);
                """)
        }
    }

    // MARK: journal rows

    /// Inserts a new `writing` row; its spool file is `spoolDir/<id>`.
    public func journalCreate(_ row: JournalRow, spoolDir: String) throws(StoreError) -> JournalRow {
        try write { db in
            var r = row
            try r.insert(db)
            r.id = db.lastInsertedRowID
            r.spoolPath = spoolDir + "/" + String(r.rowID)
            try r.update(db)
            return r
        }
    }

    /// One row.
    public func journalRow(_ id: Int64) throws(StoreError) -> JournalRow? {
        try read { db in try JournalRow.fetchOne(db, key: id) }
    }

    /// Reads, changes and writes one row in one transaction: `body` may edit it, set it to nil (delete) or leave it.
    /// Returns `body`'s result; the row passed is nil when it does not exist.
    public func journalModify<T>(_ id: Int64, _ body: (inout JournalRow?) -> T) throws(StoreError) -> T {
        try write { db in
            let before = try JournalRow.fetchOne(db, key: id)
            var row = before
            let result = body(&row)
            if let row, row != before { try row.update(db) } else if row == nil, before != nil { _ = try JournalRow.deleteOne(db, key: id) }
            return result
        }
    }

    /// Rows in any of `states`, oldest first.
    public func journalRows(states: [JournalState]) throws(StoreError) -> [JournalRow] {
        try read { db in
            try JournalRow.filter(states.map(\.rawValue).contains(Column("state"))).order(Column("id")).fetchAll(db)
        }
    }

    /// Every row.
    public func journalAll() throws(StoreError) -> [JournalRow] {
        try read { db in try JournalRow.order(Column("id")).fetchAll(db) }
    }

    /// Rows shown in a directory (album row, or nil for upload/): everything not committed and not unlinked.
    public func journalRows(inAlbum albumRow: Int64?) throws(StoreError) -> [JournalRow] {
        // Asked by every lookup in an album (usually answering nothing): one cached statement, no transaction.
        try readStatement { db in
            let shown = "state != '\(JournalState.committed.rawValue)' AND unlinked = 0 ORDER BY id"
            guard let albumRow else {
                return try JournalRow.fetchAll(db.cachedStatement(sql: "SELECT * FROM uploads WHERE albumRow IS NULL AND " + shown))
            }
            return try JournalRow.fetchAll(db.cachedStatement(sql: "SELECT * FROM uploads WHERE albumRow = ? AND " + shown), arguments: [albumRow])
        }
    }

    /// The shown (not committed, not unlinked) row called `name` in a directory.
    public func journalRow(inAlbum albumRow: Int64?, name: String) throws(StoreError) -> JournalRow? {
        try journalRows(inAlbum: albumRow).first { $0.name == name }
    }

    /// Items committed through upload/ (what upload/ lists besides pending rows).
    public func journalUploadDirItemRows() throws(StoreError) -> [Int64] {
        try read { db in
            try Int64.fetchAll(db, sql: """
                SELECT DISTINCT itemRow FROM uploads WHERE albumRow IS NULL AND state = 'committed' AND unlinked = 0
                AND itemRow IS NOT NULL ORDER BY id
                """)
        }
    }

    /// After a restart the write-back delay has no purpose (nobody is renaming the files any more): first attempts
    /// become due now; backoffs are kept.
    public func journalResetDelays(now: Double) throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                UPDATE uploads SET notBefore = ? WHERE state IN ('spooled', 'uploading', 'uploaded') AND attempts = 0
                AND notBefore > ?
                """, arguments: [now, now])
        }
    }

    /// Moves every row of `ids` that is in `from` to `to` (setting `updatedAt`), atomically; returns the moved rows.
    public func journalTransition(_ ids: [Int64], from: [JournalState], to: JournalState, now: Double) throws(StoreError) -> [JournalRow] {
        try write { db in
            var moved: [JournalRow] = []
            for id in ids {
                guard var r = try JournalRow.fetchOne(db, key: id), from.contains(r.journalState) else { continue }
                r.journalState = to
                r.updatedAt = now
                try r.update(db)
                moved.append(r)
            }
            return moved
        }
    }

    /// Counts of rows per state.
    public func journalCounts() throws(StoreError) -> [String: Int] {
        try read { db in
            var out: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM uploads GROUP BY state") {
                out[row["state"]] = row["n"]
            }
            return out
        }
    }

    /// Records a commit in one transaction: upserts the item (with the original's hash and size), adds it to the album
    /// (unless `member` is false), drops the memberships `dropMembers` of the album (items it replaced), marks the row.
    /// Returns the item's row.
    public func journalCommit(_ id: Int64, item: CommittedItem, albumRow: Int64?, member: Bool = true, dropMembers: [Int64] = [],
                              sha256: String?, size: Int64, now: Double) throws(StoreError) -> Int64 {
        try write { db in
            try db.execute(sql: """
                INSERT INTO items (googleId, filename, mimeType, isVideo, creationTime, width, height, productUrl, description,
                                   originalSha256, originalSize, seenAt, baseUrl, baseUrlAt)
                VALUES (?, CAST(? AS TEXT), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(googleId) DO UPDATE SET filename = excluded.filename, mimeType = excluded.mimeType,
                    isVideo = excluded.isVideo, creationTime = COALESCE(excluded.creationTime, creationTime),
                    width = excluded.width, height = excluded.height, productUrl = excluded.productUrl,
                    originalSha256 = COALESCE(originalSha256, excluded.originalSha256),
                    originalSize = COALESCE(originalSize, excluded.originalSize), seenAt = max(seenAt, excluded.seenAt), gone = 0,
                    baseUrl = COALESCE(excluded.baseUrl, baseUrl), baseUrlAt = COALESCE(excluded.baseUrlAt, baseUrlAt)
                """, arguments: [item.googleId, FullText(item.filename), item.mimeType, item.isVideo, item.creationTime, item.width,
                                 item.height, item.productUrl, item.description, sha256, size, now,
                                 item.baseUrl, item.baseUrl == nil ? nil : now])
            guard let itemRow = try Int64.fetchOne(db, sql: "SELECT row FROM items WHERE googleId = ?", arguments: [item.googleId]) else {
                throw StoreError("item \(item.googleId) vanished during commit")
            }
            if let albumRow {
                for r in dropMembers where r != itemRow {
                    try db.execute(sql: "DELETE FROM albumItems WHERE albumRow = ? AND itemRow = ?", arguments: [albumRow, r])
                }
                if member { try Self.addAlbumItem(db, albumRow: albumRow, itemRow: itemRow) }
            }
            try db.execute(sql: """
                UPDATE uploads SET state = 'committed', itemRow = ?, error = NULL, uploadToken = NULL, resumable = NULL,
                    notBefore = NULL, updatedAt = ? WHERE id = ?
                """, arguments: [itemRow, now, id])
            return itemRow
        }
    }

    private static func addAlbumItem(_ db: Database, albumRow: Int64, itemRow: Int64) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO albumItems (albumRow, itemRow, position)
            VALUES (?, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM albumItems WHERE albumRow = ?))
            """, arguments: [albumRow, itemRow, albumRow])
    }

    // MARK: items and albums

    /// An item's identity and the albums it is in.
    public func itemBrief(_ row: Int64) throws(StoreError) -> ItemBrief? {
        try read { db in
            guard let r = try Row.fetchOne(db, sql: "SELECT googleId, CAST(filename AS BLOB) AS filename, originalSha256, originalSize FROM items WHERE row = ?",
                                           arguments: [row]) else { return nil }
            let albums = try Int64.fetchAll(db, sql: "SELECT albumRow FROM albumItems WHERE itemRow = ? ORDER BY albumRow", arguments: [row])
            return ItemBrief(row: row, googleId: r["googleId"], filename: r.text(1), albumRows: albums,
                             originalSha256: r["originalSha256"], originalSize: r["originalSize"])
        }
    }

    /// The item row of a Google id.
    public func itemRow(googleId: String) throws(StoreError) -> Int64? {
        try read { db in try Int64.fetchOne(db, sql: "SELECT row FROM items WHERE googleId = ?", arguments: [googleId]) }
    }

    /// Google ids of the items known to be in an album (reconciliation skips them).
    public func knownItemIds(albumRow: Int64) throws(StoreError) -> [String] {
        try read { db in
            try String.fetchAll(db, sql: """
                SELECT i.googleId FROM albumItems a JOIN items i ON i.row = a.itemRow WHERE a.albumRow = ?
                """, arguments: [albumRow])
        }
    }

    /// Hides an item from upload/'s listing (it was replaced there; the library keeps it).
    public func hideUploadDirItem(_ itemRow: Int64) throws(StoreError) {
        try write { db in
            try db.execute(sql: "UPDATE uploads SET unlinked = 1 WHERE albumRow IS NULL AND state = 'committed' AND itemRow = ?",
                           arguments: [itemRow])
        }
    }

    /// Every album.
    public func albumBriefs() throws(StoreError) -> [AlbumBrief] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT row, googleId, CAST(title AS BLOB) AS title FROM albums ORDER BY title")
                .map { AlbumBrief(row: $0["row"], googleId: $0["googleId"], title: $0.text(2)) }
        }
    }

    /// The items of an album (row, filename), in album order.
    public func albumItemBriefs(albumRow: Int64) throws(StoreError) -> [(row: Int64, filename: String)] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT i.row, CAST(i.filename AS BLOB) AS filename FROM albumItems a JOIN items i ON i.row = a.itemRow WHERE a.albumRow = ? ORDER BY a.position
                """, arguments: [albumRow]).map { (row: $0["row"], filename: $0.text(1)) }
        }
    }

    /// Adds an item to an album locally (after batchAddMediaItems).
    public func addAlbumItem(albumRow: Int64, itemRow: Int64) throws(StoreError) {
        try write { db in try Self.addAlbumItem(db, albumRow: albumRow, itemRow: itemRow) }
    }

    /// Removes an item from an album locally (after batchRemoveMediaItems).
    public func removeAlbumItem(albumRow: Int64, itemRow: Int64) throws(StoreError) {
        try write { db in
            try db.execute(sql: "DELETE FROM albumItems WHERE albumRow = ? AND itemRow = ?", arguments: [albumRow, itemRow])
        }
    }

    /// An album's identity.
    public func albumBrief(_ row: Int64) throws(StoreError) -> AlbumBrief? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT row, googleId, CAST(title AS BLOB) AS title FROM albums WHERE row = ?", arguments: [row])
                .map { AlbumBrief(row: $0["row"], googleId: $0["googleId"], title: $0.text(2)) }
        }
    }

    /// Committed items in an album plus shown journal rows (for rmdir's ENOTEMPTY).
    public func albumEntryCount(_ row: Int64) throws(StoreError) -> Int {
        try read { db in
            let items = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM albumItems WHERE albumRow = ?", arguments: [row]) ?? 0
            let pending = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM uploads WHERE albumRow = ? AND state != 'committed' AND unlinked = 0
                """, arguments: [row]) ?? 0
            return items + pending
        }
    }

    /// Albums whose title starts with `prefix + "/"` (nested titles under a directory).
    public func albumCount(titlePrefix prefix: String) throws(StoreError) -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM albums WHERE substr(title, 1, ?) = ?",
                             arguments: [prefix.count + 1, prefix + "/"]) ?? 0
        }
    }

    /// Records an album this mount created (albums.create's answer).
    public func insertAlbum(googleId: String, title: String, productUrl: String, now: Double) throws(StoreError) -> Int64 {
        try write { db in
            try db.execute(sql: """
                INSERT INTO albums (googleId, title, productUrl, mediaItemsCount, isWriteable, itemsRefreshedAt, seenAt)
                VALUES (?, ?, ?, 0, 1, ?, ?)
                ON CONFLICT(googleId) DO UPDATE SET title = excluded.title, seenAt = excluded.seenAt
                """, arguments: [googleId, title, productUrl, now, now])
            return try Int64.fetchOne(db, sql: "SELECT row FROM albums WHERE googleId = ?", arguments: [googleId]) ?? 0
        }
    }

    /// Records an album's new title (albums.patch's answer).
    public func setAlbumTitle(_ row: Int64, title: String) throws(StoreError) {
        try write { db in try db.execute(sql: "UPDATE albums SET title = ? WHERE row = ?", arguments: [title, row]) }
    }

    // MARK: facts, usage, cache size

    /// A fact's value.
    public func fact(_ key: String) throws(StoreError) -> String? {
        try read { db in try String.fetchOne(db, sql: "SELECT value FROM facts WHERE key = ?", arguments: [key]) }
    }

    /// Sets (or with nil removes) a fact.
    public func setFact(_ key: String, _ value: String?) throws(StoreError) {
        try write { db in
            if let value {
                try db.execute(sql: "INSERT OR REPLACE INTO facts (key, value) VALUES (?, ?)", arguments: [key, value])
            } else {
                try db.execute(sql: "DELETE FROM facts WHERE key = ?", arguments: [key])
            }
        }
    }

    /// Adds API requests and downloads to a day's count.
    public func addAPIUsage(day: String, requests: Int, downloads: Int) throws(StoreError) {
        guard requests != 0 || downloads != 0 else { return }
        try write { db in
            try db.execute(sql: """
                INSERT INTO apiUsage (day, requests, downloads) VALUES (?, ?, ?)
                ON CONFLICT(day) DO UPDATE SET requests = requests + excluded.requests, downloads = downloads + excluded.downloads
                """, arguments: [day, requests, downloads])
        }
    }

    /// A day's API requests and downloads.
    public func apiUsage(day: String) throws(StoreError) -> (requests: Int, downloads: Int) {
        try read { db in
            let r = try Row.fetchOne(db, sql: "SELECT requests, downloads FROM apiUsage WHERE day = ?", arguments: [day])
            return (r?["requests"] ?? 0, r?["downloads"] ?? 0)
        }
    }

    /// Bytes held by the content cache.
    public func contentCacheBytes() throws(StoreError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(size), 0) FROM contentCache") ?? 0 }
    }
}
