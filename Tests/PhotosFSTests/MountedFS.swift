// MountedFS: FSUnderTest over a real FUSE mount of the gphotosfs binary (STUB to be replaced by the mount work).
import APITestSupport
import Foundation
import Harness
import PhotosFS

/// A real mount driven by POSIX calls.
struct MountedFS: FSUnderTest {
    let root: String
    var label: String { "mount" }

    /// Mounts `gphotosfs` for `account` in a temp dir for the length of `body`; always unmounts.
    static func with<T>(account: TestAccount, cacheDir: String, options: MountOptions,
                        _ body: (MountedFS) async throws -> T) async throws -> T {
        throw TestFailure("the FUSE mount driver is not built yet")
    }

    func write(_ path: String, _ data: Data) async throws { throw TestFailure("stub") }
    func writeAndFsync(_ path: String, _ data: Data) async throws { throw TestFailure("stub") }
    func read(_ path: String) async throws -> Data { throw TestFailure("stub") }
    func list(_ path: String) async throws -> [String] { throw TestFailure("stub") }
    func stat(_ path: String) async throws -> TestStat { throw TestFailure("stub") }
    func mkdir(_ path: String) async throws { throw TestFailure("stub") }
    func rmdir(_ path: String) async throws { throw TestFailure("stub") }
    func unlink(_ path: String) async throws { throw TestFailure("stub") }
    func rename(_ from: String, _ to: String) async throws { throw TestFailure("stub") }
    func getxattr(_ path: String, _ name: String) async throws -> Data? { throw TestFailure("stub") }
    func setxattr(_ path: String, _ name: String, _ value: Data) async throws { throw TestFailure("stub") }
    func chmod(_ path: String, _ mode: UInt32) async throws { throw TestFailure("stub") }
    func waitForUploads(timeout: Double) async throws { throw TestFailure("stub") }
}
