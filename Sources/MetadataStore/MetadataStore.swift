// MetadataStore: the mount's SQLite file (GRDB, WAL): metadata cache of the API, upload journal, content-cache index.
import Foundation
import GRDB

/// Errors of the store layer (mapped to errno in PhotosFS/FSError.swift).
public struct StoreError: Error, Sendable, CustomStringConvertible {
    /// What failed, naming the database file.
    public let description: String
    /// Creates an error with a message.
    public init(_ description: String) { self.description = description }
}

/// The mount's SQLite state. Synchronous and thread-safe (GRDB `DatabasePool`): callable from any thread.
public final class MetadataStore: Sendable {
    /// The pool (WAL: readers never wait for the writer).
    public let pool: DatabasePool
    /// The database file.
    public let path: String

    /// Opens (creating when missing) and migrates the database at `path`.
    public init(path: String) throws(StoreError) {
        self.path = path
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            var config = Configuration()
            config.prepareDatabase { db in
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
                try db.execute(sql: "PRAGMA foreign_keys = ON")
            }
            config.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: config)
            try Self.migrator.migrate(pool)
        } catch let e as StoreError {
            throw e
        } catch {
            throw StoreError("can't open the state database \(path): \(error)")
        }
    }

    /// Runs a read transaction, wrapping GRDB errors.
    public func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.read(body) } catch { throw StoreError("state database \(path): \(error)") }
    }

    /// Runs one statement's read without a transaction around it (a single SELECT is consistent on its own): the
    /// per-stat lookups by row spend less on BEGIN/COMMIT than on the query.
    public func readStatement<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.unsafeRead(body) } catch { throw StoreError("state database \(path): \(error)") }
    }

    /// Runs a write transaction, wrapping GRDB errors.
    public func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try pool.write(body) } catch { throw StoreError("state database \(path): \(error)") }
    }

    /// The schema, one migration per change; never edit a shipped migration.
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1") { db in
            // Albums the app created (albums.list), keyed by a local row id that becomes the directory's inode.
            try db.execute(sql: """
                CREATE TABLE albums (
                    row INTEGER PRIMARY KEY,
                    googleId TEXT NOT NULL UNIQUE,
                    title TEXT NOT NULL,
                    productUrl TEXT,
                    mediaItemsCount INTEGER,
                    isWriteable INTEGER NOT NULL DEFAULT 1,
                    itemsRefreshedAt REAL,          -- last full item listing of this album (NULL: never listed)
                    seenAt REAL NOT NULL            -- last albums.list that returned it
                );
                -- Media items; row = the file's inode. size = bytes a download returns (NULL until a HEAD or download).
                CREATE TABLE items (
                    row INTEGER PRIMARY KEY,
                    googleId TEXT NOT NULL UNIQUE,
                    filename TEXT NOT NULL,
                    mimeType TEXT NOT NULL DEFAULT '',
                    isVideo INTEGER NOT NULL DEFAULT 0,
                    creationTime REAL,              -- capture time (mtime)
                    width INTEGER,
                    height INTEGER,
                    productUrl TEXT,
                    description TEXT,
                    size INTEGER,
                    baseUrl TEXT,
                    baseUrlAt REAL,                 -- when baseUrl was fetched (valid 60 min)
                    originalSha256 TEXT,            -- for items this mount or a sync uploaded
                    originalSize INTEGER,
                    seenAt REAL NOT NULL,
                    gone INTEGER NOT NULL DEFAULT 0 -- no longer returned by the API (readers get ESTALE)
                );
                CREATE INDEX items_creation ON items(creationTime);
                CREATE TABLE albumItems (
                    albumRow INTEGER NOT NULL REFERENCES albums(row) ON DELETE CASCADE,
                    itemRow INTEGER NOT NULL REFERENCES items(row) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    PRIMARY KEY (albumRow, itemRow)
                );
                CREATE INDEX albumItems_item ON albumItems(itemRow);
                -- The upload journal: one row per file written through the mount until Google confirms it.
                -- state: writing | placeholder | spooled | uploading | uploaded (token held) | creating (batchCreate sent)
                --        | committed | failed      (docs/SEMANTICS.md "Durability")
                CREATE TABLE uploads (
                    id INTEGER PRIMARY KEY,
                    albumRow INTEGER REFERENCES albums(row),   -- NULL: upload/ (no album)
                    name TEXT NOT NULL,             -- the name in its directory (follows renames)
                    state TEXT NOT NULL,
                    spoolPath TEXT NOT NULL,
                    size INTEGER NOT NULL DEFAULT 0,
                    sha256 TEXT,
                    mimeType TEXT,
                    mode INTEGER NOT NULL DEFAULT 420,
                    mtime REAL NOT NULL,
                    uploadToken TEXT,
                    uploadTokenAt REAL,
                    resumable TEXT,                 -- JSON of a resumable session
                    itemRow INTEGER REFERENCES items(row),     -- the committed item
                    replacesItemRow INTEGER REFERENCES items(row), -- overwrite: removed from the album after commit
                    error TEXT,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    notBefore REAL,                 -- backoff / quota pause
                    createdAt REAL NOT NULL,
                    updatedAt REAL NOT NULL
                );
                CREATE INDEX uploads_state ON uploads(state);
                CREATE INDEX uploads_dir ON uploads(albumRow, name);
                -- What the content cache holds (bytes as served by =d / =dv).
                CREATE TABLE contentCache (
                    itemRow INTEGER PRIMARY KEY REFERENCES items(row) ON DELETE CASCADE,
                    path TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    complete INTEGER NOT NULL DEFAULT 0,
                    lastUsed REAL NOT NULL
                );
                CREATE INDEX contentCache_lru ON contentCache(lastUsed);
                -- Freshness of listings: 'albums', 'media', 'album:<googleId>'.
                CREATE TABLE refreshes (key TEXT PRIMARY KEY, at REAL NOT NULL);
                -- API requests per Pacific-time day, against the 10,000 / 75,000 quotas.
                CREATE TABLE apiUsage (day TEXT PRIMARY KEY, requests INTEGER NOT NULL DEFAULT 0,
                                       downloads INTEGER NOT NULL DEFAULT 0);
                -- Small facts: quota pause until, auth failure, account.
                CREATE TABLE facts (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        registerTreeMigration(&m)
        registerWriteMigrations(&m)
        return m
    }
}

extension Row {
    /// A TEXT column that was selected as `CAST(x AS BLOB)`. GRDB reads TEXT as a C string, which ends at an embedded
    /// NUL; titles and filenames come from the server and may carry one (docs/SEMANTICS.md, "Names").
    func text(_ index: Int) -> String {
        if let data = self[index] as Data? { return String(decoding: data, as: UTF8.self) }
        return (self[index] as String?) ?? ""
    }
}

/// A string bound with its full length, for SQL that stores it with `CAST(? AS TEXT)`. GRDB binds TEXT as a C string,
/// which ends at an embedded NUL; server titles and filenames may carry one (docs/SEMANTICS.md, "Names").
struct FullText: DatabaseValueConvertible {
    let string: String
    init(_ string: String) { self.string = string }
    var databaseValue: DatabaseValue { Data(string.utf8).databaseValue }
    static func fromDatabaseValue(_ dbValue: DatabaseValue) -> FullText? {
        (Data.fromDatabaseValue(dbValue)).map { FullText(String(decoding: $0, as: UTF8.self)) }
    }
}
