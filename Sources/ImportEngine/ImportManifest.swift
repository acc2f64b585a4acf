// The import manifest (GRDB, in the dataset's .gphotos-import/ folder): every archive member catalogued, every item's
// content hash, every file placed, every picked item, so a re-run is a no-op and an interrupted run resumes.
import Foundation
import GRDB
import SyncEngine

/// A catalogued member of a Takeout part: a media file, a sidecar or album JSON, or something else.
struct CatalogEntry: Sendable, Equatable {
    /// Row id.
    var id: Int64
    /// The part (archive or folder) row it came from.
    var part: Int64
    /// Path inside the part, as stored.
    var path: String
    /// Folder key: the member's folder below the Google Photos folder (e.g. "Photos from 2020", "Trip").
    var folder: String
    /// File name.
    var name: String
    /// Size in bytes.
    var size: Int64
    /// mtime stored in the archive (seconds).
    var mtime: Int64
    /// "media", "sidecar", "album" or "other".
    var kind: String
    /// The parsed JSON (Sidecar or AlbumInfo), for sidecar and album rows.
    var json: Data?
    /// Content hash once extracted.
    var sha256: String?

    init(row: Row) {
        id = row["id"]; part = row["part"]; path = row["path"]; folder = row["folder"]; name = row["name"]
        size = row["size"]; mtime = row["mtime"]; kind = row["kind"]; json = row["json"]; sha256 = row["sha256"]
    }

    init(part: Int64, path: String, folder: String, name: String, size: Int64, mtime: Int64, kind: String, json: Data?) {
        id = 0; self.part = part; self.path = path; self.folder = folder; self.name = name; self.size = size
        self.mtime = mtime; self.kind = kind; self.json = json
    }
}

/// A picked item already saved.
struct PickedRecord: Sendable, Equatable {
    /// The picked item's id (stable across sessions).
    var id: String
    /// Where it was saved, relative to the dataset.
    var path: String
}

/// The manifest database of one dataset.
final class ImportManifest: Sendable {
    let db: DatabaseQueue
    /// The file, or nil for a dry run's in-memory manifest.
    let path: String?

    /// Opens (creating, migrating) `path`; nil opens an in-memory manifest (dry runs write nothing).
    init(path: String?) throws(SyncError) {
        self.path = path
        do {
            var config = Configuration()
            config.busyMode = .timeout(10)
            if let path {
                db = try DatabaseQueue(path: path, configuration: config)
                try db.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL") }
            } else {
                db = try DatabaseQueue(configuration: config)
            }
            try Self.migrator.migrate(db)
        } catch {
            throw SyncError(.fatal, "\(path ?? "memory"): can't open the import manifest: \(error) "
                + "(if the file is damaged, move it away: the next run imports again and skips files already in place)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE parts (
                    id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER NOT NULL, mtime INTEGER NOT NULL,
                    catalogued INTEGER NOT NULL DEFAULT 0);
                CREATE TABLE entries (
                    id INTEGER PRIMARY KEY, part INTEGER NOT NULL REFERENCES parts(id) ON DELETE CASCADE,
                    path TEXT NOT NULL, folder TEXT NOT NULL, name TEXT NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL,
                    kind TEXT NOT NULL, json BLOB, sha256 TEXT, UNIQUE (part, path));
                CREATE INDEX entries_folder ON entries(folder);
                CREATE INDEX entries_sha ON entries(sha256);
                CREATE TABLE placements (sha256 TEXT NOT NULL, path TEXT NOT NULL PRIMARY KEY, xmp INTEGER NOT NULL DEFAULT 0,
                    exif INTEGER NOT NULL DEFAULT 0);
                CREATE INDEX placements_sha ON placements(sha256);
                CREATE TABLE picked (id TEXT PRIMARY KEY, session TEXT NOT NULL, path TEXT NOT NULL, saved REAL NOT NULL);
                CREATE TABLE sessions (id TEXT PRIMARY KEY, created REAL NOT NULL, picker_uri TEXT NOT NULL, state TEXT NOT NULL);
                """)
        }
        return m
    }

    /// Runs a read, mapping database errors to a fatal SyncError naming the manifest.
    func read<T>(_ body: (Database) throws -> T) throws(SyncError) -> T {
        do { return try db.read(body) } catch { throw wrap(error) }
    }

    /// Runs a write transaction, mapping database errors the same way.
    func write<T>(_ body: (Database) throws -> T) throws(SyncError) -> T {
        do { return try db.write(body) } catch { throw wrap(error) }
    }

    private func wrap(_ error: any Error) -> SyncError {
        if let e = error as? SyncError { return e }
        if let e = error as? DatabaseError, e.resultCode == .SQLITE_FULL {
            return SyncError(.fatal, "\(path ?? "manifest"): the disk is full (free some space and run again: the import resumes)")
        }
        return SyncError(.fatal, "\(path ?? "manifest"): import manifest: \(error)")
    }

    // MARK: Parts and entries

    /// The part row for `path` (size, mtime); a part whose size or mtime changed is catalogued again from scratch.
    func part(path: String, size: Int64, mtime: Int64) throws(SyncError) -> (id: Int64, catalogued: Bool) {
        try write { db in
            if let row = try Row.fetchOne(db, sql: "SELECT id, size, mtime, catalogued FROM parts WHERE path = ?", arguments: [path]) {
                let id: Int64 = row["id"]
                if row["size"] as Int64 == size && row["mtime"] as Int64 == mtime { return (id, (row["catalogued"] as Int) != 0) }
                try db.execute(sql: "DELETE FROM entries WHERE part = ?", arguments: [id])
                try db.execute(sql: "UPDATE parts SET size = ?, mtime = ?, catalogued = 0 WHERE id = ?", arguments: [size, mtime, id])
                return (id, false)
            }
            try db.execute(sql: "INSERT INTO parts (path, size, mtime) VALUES (?, ?, ?)", arguments: [path, size, mtime])
            return (db.lastInsertedRowID, false)
        }
    }

    /// Stores a part's whole catalogue and marks it catalogued (one transaction: a crash mid-way catalogues again).
    func storeCatalogue(part: Int64, _ entries: [CatalogEntry]) throws(SyncError) {
        try write { db in
            try db.execute(sql: "DELETE FROM entries WHERE part = ?", arguments: [part])
            let stmt = try db.makeStatement(sql: """
                INSERT INTO entries (part, path, folder, name, size, mtime, kind, json) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for e in entries {
                try stmt.execute(arguments: [part, e.path, e.folder, e.name, e.size, e.mtime, e.kind, e.json])
            }
            try db.execute(sql: "UPDATE parts SET catalogued = 1 WHERE id = ?", arguments: [part])
        }
    }

    /// Every entry of the given parts.
    func entries(parts: [Int64]) throws(SyncError) -> [CatalogEntry] {
        guard !parts.isEmpty else { return [] }
        return try read { db in
            // A cursor, not fetchAll: all rows as Row values at once were the run's peak memory.
            var out: [CatalogEntry] = []
            let rows = try Row.fetchCursor(db, sql: "SELECT * FROM entries WHERE part IN (\(parts.map { _ in "?" }.joined(separator: ",")))",
                                           arguments: StatementArguments(parts))
            while let row = try rows.next() { out.append(CatalogEntry(row: row)) }
            return out
        }
    }

    /// Records the content hashes of extracted entries.
    func setHashes(_ hashes: [(entry: Int64, sha256: String)]) throws(SyncError) {
        guard !hashes.isEmpty else { return }
        try write { db in
            for h in hashes { try db.execute(sql: "UPDATE entries SET sha256 = ? WHERE id = ?", arguments: [h.sha256, h.entry]) }
        }
    }

    // MARK: Placements

    /// Every placement: path → sha256.
    func placements() throws(SyncError) -> [String: String] {
        try read { db in
            var out: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT path, sha256 FROM placements") { out[row["path"]] = row["sha256"] }
            return out
        }
    }

    /// Records placed files.
    func addPlacements(_ items: [(sha256: String, path: String, xmp: Bool, exif: Bool)]) throws(SyncError) {
        guard !items.isEmpty else { return }
        try write { db in
            for p in items {
                try db.execute(sql: "INSERT OR REPLACE INTO placements (sha256, path, xmp, exif) VALUES (?, ?, ?, ?)",
                               arguments: [p.sha256, p.path, p.xmp, p.exif])
            }
        }
    }

    // MARK: Picker

    /// Picked items already saved, by id.
    func picked() throws(SyncError) -> [String: PickedRecord] {
        try read { db in
            var out: [String: PickedRecord] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, path FROM picked") { out[row["id"]] = PickedRecord(id: row["id"], path: row["path"]) }
            return out
        }
    }

    /// Records one saved picked item.
    func addPicked(id: String, session: String, path: String) throws(SyncError) {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO picked (id, session, path, saved) VALUES (?, ?, ?, ?)",
                           arguments: [id, session, path, Date().timeIntervalSince1970])
        }
    }

    /// The newest session still open (state "open"), if any.
    func openSession() throws(SyncError) -> (id: String, created: Double, pickerUri: String)? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT id, created, picker_uri FROM sessions WHERE state = 'open' ORDER BY created DESC LIMIT 1")
                .map { ($0["id"], $0["created"], $0["picker_uri"]) }
        }
    }

    /// Records a session's state ("open", "done", "expired", "timed-out").
    func setSession(id: String, created: Double, pickerUri: String, state: String) throws(SyncError) {
        try write { db in
            try db.execute(sql: """
                INSERT INTO sessions (id, created, picker_uri, state) VALUES (?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET state = excluded.state
                """, arguments: [id, created, pickerUri, state])
        }
    }
}
