// CoreFS: FSUnderTest over PhotosFS called directly (no kernel): paths are walked with lookup, files opened by handle.
import APITestSupport
import Foundation
import PhotosAPI
@testable import PhotosFS

/// The core driven the way the FUSE adapter drives it.
struct CoreFS: FSUnderTest {
    let fs: PhotosFS
    var label: String { "core" }

    /// Maps the core's error to what a user would see.
    private func op<T>(_ what: String, _ path: String, _ body: () async throws(FSError) -> T) async throws -> T {
        do { return try await body() } catch { throw FSOpError(errno: error.errno, context: "\(what) \(path): \(error.message)") }
    }

    /// The inode of `path` ("" = root).
    func ino(_ path: String) async throws -> UInt64 {
        var ino: UInt64 = 1
        for part in path.split(separator: "/") {
            let parent = ino
            ino = try await op("lookup", path) { () async throws(FSError) in
                try await fs.lookup(parent: parent, name: String(part)).attributes.ino
            }
        }
        return ino
    }

    /// Parent inode and last component.
    func split(_ path: String) async throws -> (UInt64, String) {
        let parts = path.split(separator: "/").map(String.init)
        let parent = try await ino(parts.dropLast().joined(separator: "/"))
        return (parent, parts.last ?? "")
    }

    func write(_ path: String, _ data: Data) async throws { try await write(path, data, fsync: false) }
    func writeAndFsync(_ path: String, _ data: Data) async throws { try await write(path, data, fsync: true) }

    private func write(_ path: String, _ data: Data, fsync: Bool) async throws {
        let (parent, name) = try await split(path)
        let flags = OpenFlags(raw: O_WRONLY | O_CREAT | O_TRUNC)
        let existing = try? await op("lookup", path) { () async throws(FSError) in try await fs.lookup(parent: parent, name: name) }
        let (ino, handle): (UInt64, UInt64)
        if let existing {
            ino = existing.attributes.ino
            handle = try await op("open", path) { () async throws(FSError) in try await fs.open(ino, flags: flags).handle }
        } else {
            let r = try await op("create", path) { () async throws(FSError) in
                try await fs.create(parent: parent, name: name, mode: 0o644, flags: flags)
            }
            ino = r.0.attributes.ino
            handle = r.1.handle
        }
        var failure: (any Error)?
        do {
            var offset = 0
            while offset < data.count {   // bounded: each pass writes at least one byte or throws
                let chunk = data[offset..<min(data.count, offset + (1 << 20))]
                let n = try await op("write", path) { () async throws(FSError) in
                    try await fs.write(ino, handle: handle, offset: Int64(offset), data: Data(chunk))
                }
                guard n > 0 else { throw FSOpError(errno: EIO, context: "write \(path): wrote 0 bytes") }
                offset += n
            }
            if fsync { try await op("fsync", path) { () async throws(FSError) in try await fs.fsync(ino, handle: handle, dataOnly: false) } }
            try await op("close", path) { () async throws(FSError) in try await fs.flush(ino, handle: handle) }
        } catch { failure = error }
        do {
            try await op("release", path) { () async throws(FSError) in try await fs.release(ino, handle: handle) }
        } catch { if failure == nil { failure = error } }
        if let failure { throw failure }
    }

    func read(_ path: String) async throws -> Data {
        let ino = try await ino(path)
        let h = try await op("open", path) { () async throws(FSError) in try await fs.open(ino, flags: OpenFlags(raw: O_RDONLY)).handle }
        var out = Data()
        var failure: (any Error)?
        do {
            for _ in 0..<100_000 {   // bounded: 100,000 × 128 KiB = 12.5 GiB
                let offset = Int64(out.count)
                let chunk = try await op("read", path) { () async throws(FSError) in
                    try await fs.read(ino, handle: h, offset: offset, size: 128 << 10)
                }
                if chunk.isEmpty { break }
                out.append(chunk)
            }
        } catch { failure = error }
        _ = try? await op("release", path) { () async throws(FSError) in try await fs.release(ino, handle: h) }
        if let failure { throw failure }
        return out
    }

    func list(_ path: String) async throws -> [String] {
        let ino = try await ino(path)
        let h = try await op("opendir", path) { () async throws(FSError) in try await fs.opendir(ino) }
        defer { fs.releasedir(h) }
        let entries = try await op("readdir", path) { () async throws(FSError) in try fs.readdir(ino, handle: h, offset: 0) }
        return entries.map(\.name).sorted()
    }

    func stat(_ path: String) async throws -> TestStat {
        let ino = try await ino(path)
        let a = try await op("stat", path) { () async throws(FSError) in try await fs.getattr(ino) }
        return TestStat(isDirectory: a.kind == .directory, size: a.size, permissions: a.permissions, mtime: a.mtime, ino: a.ino)
    }

    func mkdir(_ path: String) async throws {
        let (p, n) = try await split(path)
        _ = try await op("mkdir", path) { () async throws(FSError) in try await fs.mkdir(parent: p, name: n, mode: 0o755) }
    }

    func rmdir(_ path: String) async throws {
        let (p, n) = try await split(path)
        try await op("rmdir", path) { () async throws(FSError) in try await fs.rmdir(parent: p, name: n) }
    }

    func unlink(_ path: String) async throws {
        let (p, n) = try await split(path)
        try await op("unlink", path) { () async throws(FSError) in try await fs.unlink(parent: p, name: n) }
    }

    func rename(_ from: String, _ to: String) async throws {
        let (p, n) = try await split(from)
        let (np, nn) = try await split(to)
        try await op("rename", from) { () async throws(FSError) in
            try await fs.rename(parent: p, name: n, newParent: np, newName: nn, noReplace: false)
        }
    }

    func getxattr(_ path: String, _ name: String) async throws -> Data? {
        let ino = try await ino(path)
        do { return try await fs.getxattr(ino, name: name) } catch {
            if error.errno == ENODATA { return nil }
            throw FSOpError(errno: error.errno, context: "getxattr \(path) \(name): \(error.message)")
        }
    }

    func setxattr(_ path: String, _ name: String, _ value: Data) async throws {
        let ino = try await ino(path)
        try await op("setxattr", path) { () async throws(FSError) in try await fs.setxattr(ino, name: name, value: value) }
    }

    func chmod(_ path: String, _ mode: UInt32) async throws {
        let ino = try await ino(path)
        _ = try await op("chmod", path) { () async throws(FSError) in try await fs.setattr(ino, SetAttributes(mode: mode), handle: nil) }
    }

    func waitForUploads(timeout: Double) async throws {
        try await op("waitForUploads", "") { () async throws(FSError) in try await fs.waitForUploads(timeout: timeout) }
    }
}
