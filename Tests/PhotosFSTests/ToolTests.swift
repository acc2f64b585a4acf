// Standard tools on a real mount, run through /bin/sh with deadlines: cp, cp -r, rsync -a, mv, find, stat, du,
// tar -x, cmp. They need the core's read and write sides; each asserts what a user would see.
import APITestSupport
import Foundation
import Harness
import PhotosFS
import Testing

/// Runs `script` with MNT and SRC set (bounded); fails the test with the output when it exits non-zero.
func tool(_ script: String, mnt: String, src: String = "/nonexistent", timeout: Double = 120) -> String {
    let r = MountProcess.runCapturing("/usr/bin/env", ["MNT=\(mnt)", "SRC=\(src)", "/bin/sh", "-ec", script], timeout: timeout)
    #expect(r.status == 0, "`\(script)` → \(r.status.map(String.init) ?? "timeout"): \(r.output)")
    return r.output
}

/// A source tree of small unique JPEGs: SRC/a.jpg, SRC/b.jpg, SRC/sub/c.jpg.
func jpegTree() -> (TempDir, [String: Data]) {
    let dir = TempDir()
    var files: [String: Data] = [:]
    try? FileManager.default.createDirectory(atPath: dir.file("sub"), withIntermediateDirectories: true)
    for name in ["a.jpg", "b.jpg", "sub/c.jpg"] {
        let d = makeJPEG(padding: 2000)
        _ = FileManager.default.createFile(atPath: dir.file(name), contents: d)
        files[name] = d
    }
    return (dir, files)
}

@Suite("Standard tools on the mount", .serialized)
struct ToolTests {
    @Test("cp into an album, cmp reads the same bytes back, stat shows the size")
    func cpAndCmp() async throws {
        try await withFS(.mount) { fs, _ in
            let (src, files) = jpegTree()
            let m = (fs as! MountedFS).root
            _ = tool("mkdir \"$MNT/album/Cp\" && cp \"$SRC/a.jpg\" \"$MNT/album/Cp/\" && cmp \"$SRC/a.jpg\" \"$MNT/album/Cp/a.jpg\"", mnt: m, src: src.path)
            let size = tool("stat -c %s \"$MNT/album/Cp/a.jpg\"", mnt: m).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(size == "\(files["a.jpg"]!.count)")
            try await fs.waitForUploads(timeout: 60)
            _ = tool("cmp \"$SRC/a.jpg\" \"$MNT/album/Cp/a.jpg\"", mnt: m, src: src.path)
        }
    }

    @Test("cp -r of a folder makes the album and nested album")
    func cpRecursive() async throws {
        try await withFS(.mount) { fs, _ in
            let (src, _) = jpegTree()
            let m = (fs as! MountedFS).root
            _ = tool("cp -r \"$SRC\" \"$MNT/album/Tree\"", mnt: m, src: src.path)
            try await fs.waitForUploads(timeout: 60)
            #expect(try await fs.list("album/Tree") == ["a.jpg", "b.jpg", "sub"])
            #expect(try await fs.list("album/Tree/sub") == ["c.jpg"])
        }
    }

    @Test("rsync -a (temp name + rename) uploads each file once under its final name")
    func rsync() async throws {
        // The write-back delay is what lets rsync's rename land before the upload (-o writeback, default 5 s).
        try await withFS(.mount, options: testOptions { $0.writeback = 2 }) { fs, emu in
            let (src, _) = jpegTree()
            let m = (fs as! MountedFS).root
            _ = tool("mkdir \"$MNT/album/Rsync\" && rsync -a \"$SRC/a.jpg\" \"$SRC/b.jpg\" \"$MNT/album/Rsync/\"", mnt: m, src: src.path)
            try await fs.waitForUploads(timeout: 60)
            #expect(try await fs.list("album/Rsync") == ["a.jpg", "b.jpg"])
            let counts = try await emu.requestCounts()
            #expect((counts["uploads"] ?? 0) == 2, "\(counts)")
        }
    }

    @Test("cp -a (modes, times, a sub-folder) finishes without errors; chmod/utime on committed items are ignored")
    func cpArchive() async throws {
        try await withFS(.mount) { fs, _ in
            let (src, _) = jpegTree()
            let m = (fs as! MountedFS).root
            _ = tool("chmod 600 \"$SRC/a.jpg\" && touch -d 2001-02-03 \"$SRC/b.jpg\" && cp -a \"$SRC\" \"$MNT/album/Archive\"", mnt: m, src: src.path)
            try await fs.waitForUploads(timeout: 60)
            #expect(try await fs.list("album/Archive") == ["a.jpg", "b.jpg", "sub"])
            #expect(try await fs.list("album/Archive/sub") == ["c.jpg"])
            // Once committed, the item shows Google's facts (mode from the mount options), and a second cp -a over it
            // still exits 0 (utimens/chmod accepted and ignored, docs/SEMANTICS.md).
            #expect(try await fs.stat("album/Archive/a.jpg").permissions == 0o644)
            _ = tool("touch -d 2001-02-03 \"$MNT/album/Archive/a.jpg\" && chmod 600 \"$MNT/album/Archive/a.jpg\"", mnt: m)
            _ = tool("cmp \"$SRC/sub/c.jpg\" \"$MNT/album/Archive/sub/c.jpg\"", mnt: m, src: src.path)
        }
    }

    @Test("cp of 12 files one after another shares batchCreate calls (-o writeback=0)")
    func cpSharesBatchCreate() async throws {
        try await withFS(.mount) { fs, emu in
            let src = TempDir()
            for i in 1...12 { _ = FileManager.default.createFile(atPath: src.file("p\(i).jpg"), contents: makeJPEG(padding: 2000)) }
            let m = (fs as! MountedFS).root
            _ = tool("mkdir \"$MNT/album/Batch\" && cp \"$SRC\"/*.jpg \"$MNT/album/Batch/\"", mnt: m, src: src.path)
            try await fs.waitForUploads(timeout: 60)
            #expect(try await fs.list("album/Batch").count == 12)
            let counts = try await emu.requestCounts()
            #expect(counts["uploads"] == 12, "\(counts)")
            // cp closes each file only after the previous one was written; one batchCreate per file would be 12.
            #expect((counts["mediaItems.batchCreate"] ?? 0) <= 3, "\(counts)")
        }
    }

    @Test("mv of a committed file between albums")
    func mvBetweenAlbums() async throws {
        try await withFS(.mount) { fs, _ in
            let (src, _) = jpegTree()
            let m = (fs as! MountedFS).root
            _ = tool("mkdir \"$MNT/album/From\" \"$MNT/album/To\" && cp \"$SRC/a.jpg\" \"$MNT/album/From/\"", mnt: m, src: src.path)
            try await fs.waitForUploads(timeout: 60)
            _ = tool("mv \"$MNT/album/From/a.jpg\" \"$MNT/album/To/\"", mnt: m)
            #expect(try await fs.list("album/From") == [])
            #expect(try await fs.list("album/To") == ["a.jpg"])
        }
    }

    @Test("find, du and ls -l walk the tree")
    func findAndDu() async throws {
        try await withFS(.mount) { fs, _ in
            let (src, _) = jpegTree()
            let m = (fs as! MountedFS).root
            _ = tool("mkdir \"$MNT/album/Walk\" && cp \"$SRC/a.jpg\" \"$SRC/b.jpg\" \"$MNT/album/Walk/\"", mnt: m, src: src.path)
            try await fs.waitForUploads(timeout: 60)
            let found = tool("cd \"$MNT\" && find album/Walk -type f | sort", mnt: m)
            #expect(found.split(separator: "\n") == ["album/Walk/a.jpg", "album/Walk/b.jpg"])
            let du = tool("du -sk \"$MNT/album/Walk\" | cut -f1", mnt: m).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect((Int(du) ?? 0) > 0, "du: \(du)")
            _ = tool("ls -l \"$MNT/album/Walk\" \"$MNT/media/all\" >/dev/null", mnt: m)
        }
    }

    @Test("tar -x into an album")
    func tarExtract() async throws {
        try await withFS(.mount) { fs, _ in
            let (src, _) = jpegTree()
            let m = (fs as! MountedFS).root
            let tarball = src.file("../" + UUID().uuidString + ".tar")
            _ = tool("tar -C \"$SRC\" -cf '\(tarball)' a.jpg b.jpg && mkdir \"$MNT/album/Tar\" && tar -C \"$MNT/album/Tar\" -xf '\(tarball)'; rc=$?; rm -f '\(tarball)'; exit $rc",
                     mnt: m, src: src.path)
            try await fs.waitForUploads(timeout: 60)
            #expect(try await fs.list("album/Tar") == ["a.jpg", "b.jpg"])
        }
    }

    @Test("`touch x.jpg; cat a.jpg > x.jpg` works")
    func touchThenWrite() async throws {
        try await withFS(.mount) { fs, _ in
            let (src, files) = jpegTree()
            let m = (fs as! MountedFS).root
            _ = tool("mkdir \"$MNT/album/Touch\" && touch \"$MNT/album/Touch/x.jpg\" && cat \"$SRC/a.jpg\" > \"$MNT/album/Touch/x.jpg\"",
                     mnt: m, src: src.path)
            try await fs.waitForUploads(timeout: 60)
            #expect(try await fs.stat("album/Touch/x.jpg").size == Int64(files["a.jpg"]!.count))
        }
    }

    @Test("rm and rmdir: unlink removes from the album; rmdir of an album is EPERM")
    func rmAndRmdir() async throws {
        try await withFS(.mount) { fs, _ in
            let (src, _) = jpegTree()
            let m = (fs as! MountedFS).root
            _ = tool("mkdir \"$MNT/album/Rm\" && cp \"$SRC/a.jpg\" \"$MNT/album/Rm/\"", mnt: m, src: src.path)
            try await fs.waitForUploads(timeout: 60)
            _ = tool("rm \"$MNT/album/Rm/a.jpg\"", mnt: m)
            #expect(try await fs.list("album/Rm") == [])
            let r = MountProcess.runCapturing("/bin/rmdir", [m + "/album/Rm"], timeout: 30)
            #expect(r.status != 0 && r.output.contains("Operation not permitted"), "\(r.output)")
        }
    }
}
