// The file system under test, driven by path: the core called directly (CoreFS) or a real FUSE mount (MountedFS).
// Test bodies take `any FSUnderTest`, so the same body runs against both.
import Foundation
import Testing

/// A failed file operation as a user sees it: the errno.
struct FSOpError: Error, CustomStringConvertible, Equatable {
    /// The errno (positive).
    let errno: Int32
    /// The operation and path.
    let context: String
    var description: String { "\(context): errno \(errno) (\(String(cString: strerror(errno))))" }
}

/// What `stat` shows, in the terms a test asserts.
struct TestStat: Equatable {
    var isDirectory: Bool
    var size: Int64
    var permissions: UInt32
    var mtime: Date
    var ino: UInt64
}

/// Path-based file operations (paths are relative to the mount root, e.g. "album/Trip/a.jpg").
protocol FSUnderTest: Sendable {
    /// "core" or "mount".
    var label: String { get }
    /// create/open(O_TRUNC) + write + close; throws the errno of whichever step failed.
    func write(_ path: String, _ data: Data) async throws
    /// Like write, but fsync() before close (the upload's real result).
    func writeAndFsync(_ path: String, _ data: Data) async throws
    /// open + read to EOF + close.
    func read(_ path: String) async throws -> Data
    /// Names in a directory, sorted, without "." and "..".
    func list(_ path: String) async throws -> [String]
    /// stat.
    func stat(_ path: String) async throws -> TestStat
    /// mkdir.
    func mkdir(_ path: String) async throws
    /// rmdir.
    func rmdir(_ path: String) async throws
    /// unlink.
    func unlink(_ path: String) async throws
    /// rename.
    func rename(_ from: String, _ to: String) async throws
    /// getxattr (nil when absent: ENODATA).
    func getxattr(_ path: String, _ name: String) async throws -> Data?
    /// setxattr.
    func setxattr(_ path: String, _ name: String, _ value: Data) async throws
    /// chmod.
    func chmod(_ path: String, _ mode: UInt32) async throws
    /// Waits until every pending upload is committed or failed (bounded by `timeout`).
    func waitForUploads(timeout: Double) async throws
}

/// Expects `body` to fail with `errno`.
func expectErrno(_ code: Int32, _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
    do {
        try await body()
        Issue.record("\(what): expected errno \(code), got success", sourceLocation: sourceLocation)
    } catch let e as FSOpError {
        #expect(e.errno == code, "\(what): \(e)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("\(what): \(error)", sourceLocation: sourceLocation)
    }
}
