// The emulator's state: one SQLite database (a file under --state, or in memory) plus a blob folder for bytes.
import Foundation
import GRDB

/// The emulator's persistent state: SQLite for records, a folder of content-addressed files for bytes.
public final class Store: Sendable {
    /// The database; every write goes through it serially.
    let db: DatabaseQueue
    /// Folder holding uploaded bytes (by SHA-256) and resumable-session spool files.
    let blobDir: URL
    /// Whether blobDir is a temporary folder to delete on close.
    let ownsBlobDir: Bool

    /// Opens (creating when needed) the state in `dir`, or an in-memory database with a temporary blob folder.
    public init(stateDir: URL?) throws {
        var config = Configuration()
        config.busyMode = .timeout(10)
        if let stateDir {
            try FileManager.default.createDirectory(at: stateDir, withIntermediateDirectories: true)
            db = try DatabaseQueue(path: stateDir.appendingPathComponent("emulator.sqlite").path, configuration: config)
            blobDir = stateDir.appendingPathComponent("blobs", isDirectory: true)
            ownsBlobDir = false
        } else {
            db = try DatabaseQueue(configuration: config)
            blobDir = FileManager.default.temporaryDirectory
                .appendingPathComponent("gphotos-emulator-\(getpid())-\(UUID().uuidString.prefix(8))", isDirectory: true)
            ownsBlobDir = true
        }
        try FileManager.default.createDirectory(at: blobDir, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: blobDir.appendingPathComponent("sessions"), withIntermediateDirectories: true)
        try Store.migrator.migrate(db)
    }

    /// Removes a temporary blob folder (in-memory mode); a --state folder is kept.
    public func close() {
        if ownsBlobDir { try? FileManager.default.removeItem(at: blobDir) }
    }

    /// Path of the stored bytes with this SHA-256 (hex).
    func contentURL(sha256: String) -> URL { blobDir.appendingPathComponent(sha256) }
    /// Path of a resumable session's spool file.
    func sessionURL(id: String) -> URL { blobDir.appendingPathComponent("sessions").appendingPathComponent(id) }

    /// Forgets everything: all records and bytes (keeps the server secret).
    func reset() throws {
        try db.write { db in
            for table in Store.tables { try db.execute(sql: "DELETE FROM \(table)") }
            try db.execute(sql: "DELETE FROM meta WHERE key <> 'secret'")
        }
        let fm = FileManager.default
        for name in (try? fm.contentsOfDirectory(atPath: blobDir.path)) ?? [] where name != "sessions" {
            try? fm.removeItem(at: blobDir.appendingPathComponent(name))
        }
        let sessions = blobDir.appendingPathComponent("sessions")
        for name in (try? fm.contentsOfDirectory(atPath: sessions.path)) ?? [] {
            try? fm.removeItem(at: sessions.appendingPathComponent(name))
        }
    }

    /// A value from the meta table.
    func meta(_ key: String) throws -> String? {
        try db.read { try String.fetchOne($0, sql: "SELECT value FROM meta WHERE key = ?", arguments: [key]) }
    }

    /// Sets a value in the meta table.
    func setMeta(_ key: String, _ value: String) throws {
        try db.write { try $0.execute(sql: "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", arguments: [key, value]) }
    }

    /// Every table `reset` empties.
    static let tables = [
        "users", "clients", "auth_codes", "refresh_tokens", "access_tokens", "albums", "media_items", "album_items",
        "enrichments", "upload_tokens", "upload_sessions", "picker_sessions", "picked_items", "quota_usage", "device_codes", "item_visibility",
    ]

    /// Schema migrations, in order; add new ones at the end.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            try db.execute(sql: """
            CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE users(
                id TEXT PRIMARY KEY,
                has_photos_account INTEGER NOT NULL DEFAULT 1);
            CREATE TABLE clients(
                id TEXT PRIMARY KEY,
                secret TEXT,
                project TEXT NOT NULL,
                testing_mode INTEGER NOT NULL DEFAULT 0,
                created_at REAL NOT NULL);
            CREATE TABLE auth_codes(
                code TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, redirect_uri TEXT NOT NULL,
                scopes TEXT NOT NULL, code_challenge TEXT, challenge_method TEXT, created_at REAL NOT NULL,
                used INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE refresh_tokens(
                token TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, scopes TEXT NOT NULL,
                issued_at REAL NOT NULL, revoked INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE access_tokens(
                token TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, scopes TEXT NOT NULL,
                expires_at REAL NOT NULL, refresh_token TEXT, revoked INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE device_codes(
                device_code TEXT PRIMARY KEY, user_code TEXT NOT NULL, client_id TEXT NOT NULL, scopes TEXT NOT NULL,
                created_at REAL NOT NULL);
            CREATE TABLE albums(
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL, owner_client TEXT,
                title TEXT NOT NULL, cover_item_id TEXT, created_at REAL NOT NULL);
            CREATE TABLE media_items(
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL, owner_client TEXT,
                sha256 TEXT NOT NULL, size INTEGER NOT NULL, filename TEXT NOT NULL, mime_type TEXT NOT NULL,
                kind TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
                creation_time REAL NOT NULL, has_capture_time INTEGER NOT NULL DEFAULT 0, upload_time REAL NOT NULL,
                width INTEGER NOT NULL DEFAULT 0, height INTEGER NOT NULL DEFAULT 0,
                camera_make TEXT, camera_model TEXT,
                archived INTEGER NOT NULL DEFAULT 0, favorite INTEGER NOT NULL DEFAULT 0,
                categories TEXT NOT NULL DEFAULT '');
            CREATE INDEX media_items_user_sha ON media_items(user_id, sha256);
            CREATE TABLE album_items(
                album_id TEXT NOT NULL, item_id TEXT NOT NULL, position REAL NOT NULL,
                added_by TEXT,
                PRIMARY KEY(album_id, item_id));
            CREATE INDEX album_items_pos ON album_items(album_id, position);
            CREATE TABLE item_visibility(item_id TEXT NOT NULL, client_id TEXT NOT NULL, PRIMARY KEY(item_id, client_id));
            CREATE TABLE enrichments(
                id TEXT PRIMARY KEY, album_id TEXT NOT NULL, body TEXT NOT NULL, position REAL NOT NULL);
            CREATE TABLE upload_tokens(
                token TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, sha256 TEXT NOT NULL,
                size INTEGER NOT NULL, filename TEXT, content_type TEXT, created_at REAL NOT NULL,
                used INTEGER NOT NULL DEFAULT 0);
            CREATE TABLE upload_sessions(
                id TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, raw_size INTEGER,
                filename TEXT, content_type TEXT, received INTEGER NOT NULL DEFAULT 0,
                status TEXT NOT NULL DEFAULT 'active', created_at REAL NOT NULL, token TEXT);
            CREATE TABLE picker_sessions(
                id TEXT PRIMARY KEY, client_id TEXT NOT NULL, user_id TEXT NOT NULL, created_at REAL NOT NULL,
                expire_time REAL NOT NULL, max_items INTEGER NOT NULL, media_items_set INTEGER NOT NULL DEFAULT 0,
                deleted INTEGER NOT NULL DEFAULT 0, request_id TEXT);
            CREATE TABLE picked_items(
                session_id TEXT NOT NULL, item_id TEXT NOT NULL, position INTEGER NOT NULL,
                PRIMARY KEY(session_id, item_id));
            CREATE TABLE quota_usage(
                project TEXT NOT NULL, day TEXT NOT NULL, api INTEGER NOT NULL DEFAULT 0,
                media INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(project, day));
            """)
        }
        m.registerMigration("v2-auth") { db in
            // Authorization codes remember access_type=offline; device codes remember the user's answer.
            try db.execute(sql: """
            ALTER TABLE auth_codes ADD COLUMN offline INTEGER NOT NULL DEFAULT 1;
            ALTER TABLE device_codes ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
            ALTER TABLE device_codes ADD COLUMN user_id TEXT;
            """)
        }
        m.registerMigration("v3-library-order") { db in
            // mediaItems.list pages the library newest first: without this index every page sorted the whole
            // library (0.5 s a page at 100,000 items).
            try db.execute(sql: "CREATE INDEX media_items_user_time ON media_items(user_id, creation_time DESC, seq DESC)")
        }
        return m
    }
}
