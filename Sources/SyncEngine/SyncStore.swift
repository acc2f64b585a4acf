// gphotos-sync's own SQLite file (GRDB): the ledger that remembers each pushed file's hash and where Google put it,
// so unchanged files are never hashed or uploaded again. Never the mount's SQLite file.
import Foundation
import GRDB

/// One ledger row: a source file as last seen (size, mtime → sha256) and the destination path that holds its bytes.
public struct LedgerEntry: Sendable, Equatable {
    /// Source path relative to the source root.
    public var path: String
    /// Size when hashed.
    public var size: Int64
    /// mtime (ns) when hashed.
    public var mtimeNs: Int64
    /// SHA-256 of the bytes, lowercase hex.
    public var sha256: String
    /// Destination path (relative to the destination root) that holds these bytes: the same name, or the name
    /// Google kept when it already had the bytes; nil when not (yet) confirmed there.
    public var destPath: String?
}

/// gphotos-sync's state database.
public final class SyncStore: Sendable {
    let db: DatabaseQueue

    /// Opens (creating, migrating) the database at `path`.
    public init(path: String) throws(SyncError) {
        do {
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            var config = Configuration()
            config.busyMode = .timeout(10)
            db = try DatabaseQueue(path: path, configuration: config)
            try Self.migrator.migrate(db)
        } catch {
            throw SyncError(.fatal, "\(path): can't open gphotos-sync's state database: \(error)")
        }
    }

    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-ledger") { db in
            try db.execute(sql: """
                CREATE TABLE ledger (
                    source TEXT NOT NULL, dest TEXT NOT NULL, path TEXT NOT NULL,
                    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL,
                    dest_path TEXT, updated REAL NOT NULL,
                    PRIMARY KEY (source, dest, path)
                ) WITHOUT ROWID
                """)
        }
        registerTaskMigrations(&m)
        return m
    }

    /// Every ledger row of the pair (source root, destination root), by source path.
    public func ledger(source: String, dest: String) throws(SyncError) -> [String: LedgerEntry] {
        do {
            return try db.read { db in
                var out: [String: LedgerEntry] = [:]
                let rows = try Row.fetchCursor(db, sql: "SELECT path, size, mtime_ns, sha256, dest_path FROM ledger WHERE source = ? AND dest = ?",
                                               arguments: [source, dest])
                while let r = try rows.next() {
                    let e = LedgerEntry(path: r[0], size: r[1], mtimeNs: r[2], sha256: r[3], destPath: r[4])
                    out[e.path] = e
                }
                return out
            }
        } catch { throw SyncError(.fatal, "reading the ledger: \(error)") }
    }

    /// Stores (replaces) rows of the pair.
    public func record(source: String, dest: String, _ entries: [LedgerEntry]) throws(SyncError) {
        guard !entries.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        do {
            try db.write { db in
                for e in entries {
                    try db.execute(sql: """
                        INSERT OR REPLACE INTO ledger (source, dest, path, size, mtime_ns, sha256, dest_path, updated)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, arguments: [source, dest, e.path, e.size, e.mtimeNs, e.sha256, e.destPath, now])
                }
            }
        } catch { throw SyncError(.fatal, "writing the ledger: \(error)") }
    }

    /// Forgets rows of the pair (sources that are gone).
    public func forget(source: String, dest: String, paths: [String]) throws(SyncError) {
        guard !paths.isEmpty else { return }
        do {
            try db.write { db in
                for p in paths {
                    try db.execute(sql: "DELETE FROM ledger WHERE source = ? AND dest = ? AND path = ?", arguments: [source, dest, p])
                }
            }
        } catch { throw SyncError(.fatal, "writing the ledger: \(error)") }
    }
}
