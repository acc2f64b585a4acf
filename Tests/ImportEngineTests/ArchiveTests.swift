// Tests for ArchiveReader/ArchiveWriter (libarchive: non-ASCII names, foreign archives, bad input, streaming) and TerminalQR.
import CQREncode
import Foundation
import Testing

@testable import ImportEngine

/// A Takeout-style member name with Cyrillic and an emoji (must survive the C/POSIX locale the tests run under).
private let takeoutPhotoName = "Takeout/Google Фото/Photos from 2020/Ёж 🦔.jpg"

/// A zip made by Python's zipfile streaming to a pipe: data descriptors, Zip64 extra fields, UTF-8 name flag.
/// Members: `takeoutPhotoName` (FF D8 FF + "jpeg" x 10) and its ".json" sidecar (`{"title":"Ёж 🦔.jpg"}`).
private let pythonStreamedZipBase64 = """
    UEsDBC0ACAgIAIMYIlAAAAAA//////////82ABQAVGFrZW91dC9Hb29nbGUg0KTQvtGC0L4vUGhvdG9zIGZyb20gMjAyMC/QgdC2\
    IPCfppQuanBnAQAQAAAAAAAAAAAAAAAAAAAAAAD7f+N/VkFqOjEYAFBLBwggEOAyCwAAAAAAAAArAAAAAAAAAFBLAwQtAAgICACD\
    GCJQAAAAAP//////////OwAUAFRha2VvdXQvR29vZ2xlINCk0L7RgtC+L1Bob3RvcyBmcm9tIDIwMjAv0IHQtiDwn6aULmpwZy5q\
    c29uAQAQAAAAAAAAAAAAAAAAAAAAAACrVirJLMlJVbJSutB4YZvCh/nLpuhlFaQr1QIAUEsHCFOMNWccAAAAAAAAABkAAAAAAAAA\
    UEsBAi0DLQAICAgAgxgiUCAQ4DILAAAAKwAAADYAAAAAAAAAAAAAAIABAAAAAFRha2VvdXQvR29vZ2xlINCk0L7RgtC+L1Bob3Rv\
    cyBmcm9tIDIwMjAv0IHQtiDwn6aULmpwZ1BLAQItAy0ACAgIAIMYIlBTjDVnHAAAABkAAAA7AAAAAAAAAAAAAACAAYsAAABUYWtl\
    b3V0L0dvb2dsZSDQpNC+0YLQvi9QaG90b3MgZnJvbSAyMDIwL9CB0LYg8J+mlC5qcGcuanNvblBLBQYAAAAAAgACAM0AAAAsAQAA\
    AAA=
    """

/// A tgz made by `tar --format=gnu -czf x.tgz -C src .` (raw UTF-8 names, no pax headers, "./" prefixes), mtime
/// 2020-01-02T03:04:06Z: directories ./, ./Takeout/, ./Takeout/Google Фото/ and the file ./Takeout/Google Фото/Ёж 🦔.jpg ("abc").
private let gnuTarGzBase64 = """
    H4sIAAAAAAACA+3RvQ2CQBiH8RvlJoA772sEF3ABNIRETTAKA+gM9jbGESyZ4dzEESSUFDYG0Pj8mv+bt32SVAxOtYJz3bb6293a\
    eGVmznvr27/X2grpxAjqQ5XtpRR/KkkX2SYv6yr9pv7BGUX/cfvPy7LY5jJeY/M4xSadsL82wQb6T9s/HuNdPi+3c7LeFR/399a+\
    6W96/YOdaSEV/QeXLVcCAAAAAAAAAAAAAAD8thdw7A6KACgAAA==
    """

/// Runs `body` with a fresh temporary directory, removed afterwards.
private func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archive-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    return try body(dir)
}

/// Every member of the archive at `path` with the data of its regular files.
private func readMembers(_ path: String, limit: Int = 1 << 24) throws -> [(entry: ArchiveEntry, data: Data)] {
    let reader = try ArchiveReader(path: path)
    var members: [(entry: ArchiveEntry, data: Data)] = []
    while let entry = try reader.next() {
        members.append((entry, entry.isRegularFile ? try reader.readAll(limit: limit) : Data()))
    }
    return members
}

/// `count` deterministic pseudo-random bytes (incompressible, so compressed fixtures stay large).
private func pseudoRandomBytes(_ count: Int, seed: UInt64) -> Data {
    var state = seed
    var bytes = [UInt8](repeating: 0, count: count)
    for index in bytes.indices {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        bytes[index] = UInt8(truncatingIfNeeded: state >> 56)
    }
    return Data(bytes)
}

/// Writes `members` to a new archive at `path`.
private func writeArchive(_ path: String, _ format: ArchiveWriter.Format, _ members: [(String, Data, Int64)]) throws {
    let writer = try ArchiveWriter(path: path, format: format)
    for (name, data, mtime) in members { try writer.add(path: name, data: data, mtime: mtime) }
    try writer.close()
}

/// The file extension for an archive format.
private func fileExtension(_ format: ArchiveWriter.Format) -> String { format == .zip ? "zip" : "tgz" }

@Suite struct ArchiveRoundTripTests {
    /// Non-ASCII, long and empty members written by ArchiveWriter come back intact (names, data, sizes, mtimes).
    @Test(arguments: [ArchiveWriter.Format.zip, .tgz])
    func nonASCIINamesRoundTrip(format: ArchiveWriter.Format) throws {
        let longName = "Takeout/" + String(repeating: "Длинное имя ", count: 25) + "🦔.json"
        let members: [(String, Data, Int64)] = [
            (takeoutPhotoName, pseudoRandomBytes(5000, seed: 1), 1_600_000_000),
            (takeoutPhotoName + ".json", Data(#"{"title":"Ёж 🦔.jpg"}"#.utf8), 1_600_000_001),
            (longName, Data(), 1_600_000_002),
            ("Takeout/ascii.txt", Data("plain".utf8), 0),
        ]
        try withTemporaryDirectory { dir in
            let path = "\(dir)/roundtrip.\(fileExtension(format))"
            try writeArchive(path, format, members)
            let got = try readMembers(path)
            #expect(got.map(\.entry.path) == members.map(\.0))
            #expect(got.map(\.data) == members.map(\.1))
            #expect(got.map(\.entry.size) == members.map { Int64($0.1.count) })
            #expect(got.map(\.entry.mtime) == members.map(\.2))
            #expect(got.allSatisfy { $0.entry.isRegularFile && !$0.entry.isDirectory })

            let reader = try ArchiveReader(path: path)
            _ = try reader.next()
            #expect(reader.formatName.contains(format == .zip ? "ZIP" : "pax"))
        }
    }

    /// A zip from another tool (Python, streamed: data descriptors + Zip64) reads with correct non-ASCII names and data.
    @Test func readsPythonStreamedZip() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/python.zip"
            try #require(Data(base64Encoded: pythonStreamedZipBase64, options: .ignoreUnknownCharacters))
                .write(to: URL(fileURLWithPath: path))
            let got = try readMembers(path)
            #expect(got.map(\.entry.path) == [takeoutPhotoName, takeoutPhotoName + ".json"])
            #expect(got.first?.data == Data([0xFF, 0xD8, 0xFF]) + Data(String(repeating: "jpeg", count: 10).utf8))
            #expect(got.last.map { String(decoding: $0.data, as: UTF8.self) } == #"{"title":"Ёж 🦔.jpg"}"#)
            #expect(got.map(\.entry.size) == [43, 25])
        }
    }

    /// A GNU-format tgz (raw UTF-8 names, "./" prefixes, directories) reads with normalized non-ASCII paths.
    @Test func readsGNUTarGz() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/gnu.tgz"
            try #require(Data(base64Encoded: gnuTarGzBase64, options: .ignoreUnknownCharacters))
                .write(to: URL(fileURLWithPath: path))
            let got = try readMembers(path)
            #expect(got.map(\.entry.path) == ["", "Takeout", "Takeout/Google Фото", "Takeout/Google Фото/Ёж 🦔.jpg"])
            #expect(got.map(\.entry.isDirectory) == [true, true, true, false])
            #expect(got.last?.entry.isRegularFile == true)
            #expect(got.last?.data == Data("abc".utf8))
            #expect(got.last?.entry.mtime == 1_577_934_246)
            let reader = try ArchiveReader(path: path)
            _ = try reader.next()
            #expect(reader.formatName == "GNU tar format")
        }
    }

    /// Leading "./" and "/" and a directory's trailing "/" are removed from member paths.
    @Test func pathNormalization() {
        #expect(ArchiveEntry.normalize("./Takeout/a.jpg") == "Takeout/a.jpg")
        #expect(ArchiveEntry.normalize("/Takeout/a.jpg") == "Takeout/a.jpg")
        #expect(ArchiveEntry.normalize(".//./x") == "x")
        #expect(ArchiveEntry.normalize("Takeout/") == "Takeout")
        #expect(ArchiveEntry.normalize("./") == "")
        #expect(ArchiveEntry.normalize(".hidden/a") == ".hidden/a")
    }
}

@Suite struct ArchiveBadInputTests {
    /// Random bytes are rejected with an ArchiveError naming the file.
    @Test func rejectsRandomBytes() throws {
        try withTemporaryDirectory { dir in
            for (index, size) in [1, 100, 512, 4096, 70_000].enumerated() {
                let path = "\(dir)/random-\(index).zip"
                try pseudoRandomBytes(size, seed: UInt64(index + 7)).write(to: URL(fileURLWithPath: path))
                let error = #expect(throws: ArchiveError.self) { _ = try readMembers(path) }
                #expect(error?.path == path)
                #expect(error?.description.contains(path) == true)
            }
        }
    }

    /// A missing file and an empty file are rejected with an ArchiveError naming the file.
    @Test func rejectsMissingAndEmptyFiles() throws {
        try withTemporaryDirectory { dir in
            let missing = "\(dir)/missing.zip"
            let missingError = #expect(throws: ArchiveError.self) { _ = try ArchiveReader(path: missing) }
            #expect(missingError?.path == missing)

            let empty = "\(dir)/empty.tgz"
            #expect(FileManager.default.createFile(atPath: empty, contents: Data()))
            let emptyError = #expect(throws: ArchiveError.self) { _ = try readMembers(empty) }
            #expect(emptyError?.path == empty)
        }
    }

    /// A tgz or zip cut in half fails with an ArchiveError (at next() or while reading data), never crashes or hangs.
    @Test(arguments: [ArchiveWriter.Format.zip, .tgz])
    func rejectsTruncatedArchive(format: ArchiveWriter.Format) throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/whole.\(fileExtension(format))"
            try writeArchive(path, format, [
                ("Takeout/a.jpg", pseudoRandomBytes(2 << 20, seed: 3), 1),
                ("Takeout/a.jpg.json", Data("{}".utf8), 1),
            ])
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            let cut = "\(dir)/half.\(fileExtension(format))"
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: cut))
            let error = #expect(throws: ArchiveError.self) { _ = try readMembers(cut) }
            #expect(error?.path == cut)
        }
    }

    /// Every prefix of a small tgz either fails with an ArchiveError or reads; nothing crashes or hangs.
    @Test func truncationSweepNeverCrashes() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/small.tgz"
            try writeArchive(path, .tgz, [(takeoutPhotoName, pseudoRandomBytes(3000, seed: 5), 1)])
            let whole = try Data(contentsOf: URL(fileURLWithPath: path))
            let cut = "\(dir)/cut.tgz"
            var errors = 0
            for length in stride(from: 0, to: whole.count, by: 7) {
                try whole.prefix(length).write(to: URL(fileURLWithPath: cut))
                do { _ = try readMembers(cut) } catch is ArchiveError { errors += 1 }
            }
            // gzip's trailer makes every proper prefix of a tgz detectably incomplete.
            #expect(errors == (whole.count + 6) / 7)
        }
    }

    /// A corrupted member's data fails with an ArchiveError rather than yielding wrong bytes silently.
    @Test func corruptMemberDataFails() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/corrupt.zip"
            try writeArchive(path, .zip, [("a.bin", Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7919 >> 3) }), 0)])
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            bytes[bytes.count / 2] ^= 0x55
            try bytes.write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: ArchiveError.self) { _ = try readMembers(path) }
            #expect(error?.path == path)
        }
    }

    /// An mtree manifest (text that libarchive would treat as a list of local files) is not accepted as an archive.
    @Test func rejectsMtreeManifest() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/manifest.zip"
            try Data("#mtree\nsecret type=file size=4 contents=/etc/hostname\n".utf8).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: ArchiveError.self) { _ = try readMembers(path) }
            #expect(error?.path == path)
        }
    }
}

@Suite struct ArchiveStreamingTests {
    /// A ~50 MB member (written from a file) streams in bounded chunks and is counted and verified, not collected.
    @Test(arguments: [ArchiveWriter.Format.zip, .tgz])
    func streamsLargeMemberInBoundedChunks(format: ArchiveWriter.Format) throws {
        try withTemporaryDirectory { dir in
            let block = pseudoRandomBytes(1 << 20, seed: 11)
            let blocks = 50
            let source = "\(dir)/big.src"
            #expect(FileManager.default.createFile(atPath: source, contents: nil))
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: source))
            for _ in 0..<blocks { try handle.write(contentsOf: block) }
            try handle.close()

            let path = "\(dir)/big.\(fileExtension(format))"
            let writer = try ArchiveWriter(path: path, format: format)
            try writer.add(path: "Takeout/Google Фото/видео 🦔.mp4", contentsOf: source, mtime: 1_700_000_000)
            try writer.add(path: "Takeout/after.json", data: Data("{}".utf8), mtime: 1)
            try writer.close()

            let reader = try ArchiveReader(path: path, blockSize: 1 << 20)
            let entry = try #require(try reader.next())
            #expect(entry.size == Int64(blocks << 20))
            var total = 0
            var largestChunk = 0
            var mismatches = 0
            try block.withUnsafeBytes { (expected: UnsafeRawBufferPointer) in
                try reader.readData { chunk in
                    largestChunk = max(largestChunk, chunk.count)
                    var done = 0
                    while done < chunk.count {
                        let position = (total + done) % expected.count
                        let run = min(chunk.count - done, expected.count - position)
                        if memcmp(chunk.baseAddress! + done, expected.baseAddress! + position, run) != 0 { mismatches += 1 }
                        done += run
                    }
                    total += chunk.count
                }
            }
            #expect(total == blocks << 20)
            #expect(mismatches == 0)
            #expect(largestChunk <= 1 << 20)
            #expect(try reader.next()?.path == "Takeout/after.json")
            #expect(try reader.next() == nil)
        }
    }

    /// An unread member is skipped by next().
    @Test func nextSkipsUnreadData() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/skip.tgz"
            try writeArchive(path, .tgz, [("a", pseudoRandomBytes(300_000, seed: 2), 0), ("b", Data("b".utf8), 0)])
            let reader = try ArchiveReader(path: path)
            #expect(try reader.next()?.path == "a")
            #expect(try reader.next()?.path == "b")
            #expect(try reader.readAll(limit: 10) == Data("b".utf8))
            #expect(try reader.next() == nil)
            #expect(try reader.next() == nil)
        }
    }

    /// readAll enforces its limit; reads without a current member fail; body errors are rethrown and reading continues.
    @Test func readAllLimitsAndMisuse() throws {
        try withTemporaryDirectory { dir in
            let path = "\(dir)/limits.zip"
            try writeArchive(path, .zip, [
                ("big.json", Data(repeating: 0x20, count: 5000), 0),
                ("small.json", Data("{}".utf8), 0),
                ("last.json", Data("[]".utf8), 0),
            ])
            let reader = try ArchiveReader(path: path)
            #expect(throws: ArchiveError.self) { _ = try reader.readAll(limit: 100) }
            #expect(throws: ArchiveError.self) { try reader.readData { _ in } }

            _ = try reader.next()
            let tooLarge = #expect(throws: ArchiveError.self) { _ = try reader.readAll(limit: 4999) }
            #expect(tooLarge?.message.contains("big.json") == true)

            _ = try reader.next()
            struct Stop: Error {}
            #expect(throws: Stop.self) { try reader.readData { _ in throw Stop() } }

            #expect(try reader.next()?.path == "last.json")
            #expect(try reader.readAll(limit: 2) == Data("[]".utf8))
            #expect(try reader.readAll(limit: 2).isEmpty)
            #expect(try reader.next() == nil)
            #expect(throws: ArchiveError.self) { _ = try reader.readAll(limit: 100) }
        }
    }

    /// Writer errors name the archive: missing source file, directory source, empty name, use after close.
    @Test func writerErrors() throws {
        try withTemporaryDirectory { dir in
            #expect(throws: ArchiveError.self) { _ = try ArchiveWriter(path: "\(dir)/no/such/dir.zip", format: .zip) }
            let path = "\(dir)/w.tgz"
            let writer = try ArchiveWriter(path: path, format: .tgz)
            let missing = #expect(throws: ArchiveError.self) { try writer.add(path: "x", contentsOf: "\(dir)/nope", mtime: 0) }
            #expect(missing?.path == path)
            #expect(throws: ArchiveError.self) { try writer.add(path: "x", contentsOf: dir, mtime: 0) }
            #expect(throws: ArchiveError.self) { try writer.add(path: "", data: Data(), mtime: 0) }
            try writer.close()
            #expect(throws: ArchiveError.self) { try writer.add(path: "x", data: Data(), mtime: 0) }
        }
    }
}

@Suite struct TerminalQRTests {
    /// A 100-character https URL renders as equal-width lines of modules + 4 quiet-zone columns, two rows per line.
    @Test func renderShape() throws {
        let url = "https://accounts.example.com/o/oauth2/device?user_code=ABCD-EFGH&client=gphotosfs&x="
            + String(repeating: "z", count: 16)
        #expect(url.count == 100)
        let lines = try #require(TerminalQR.render(url))
        let reference = try #require(QRcode_encodeString8bit(url, 0, QR_ECLEVEL_M))
        defer { QRcode_free(reference) }
        let modules = Int(reference.pointee.width)
        #expect(Set(lines.map(\.count)) == [modules + 4])
        #expect(lines.count == (modules + 4 + 1) / 2)
        #expect(lines.allSatisfy { $0.allSatisfy { "▀▄█ ".contains($0) } })
    }

    /// The module matrix decoded from the rendered lines equals libqrencode's (inverted: blocks are light modules).
    @Test func renderedModulesMatchLibqrencode() throws {
        let url = "https://photos.example.com/share/AF1QipN-0123456789abcdefghijklmnopqrstuvwxyz?key=Ёж🦔"
        let lines = try #require(TerminalQR.render(url))
        let reference = try #require(QRcode_encodeString8bit(url, 0, QR_ECLEVEL_M))
        defer { QRcode_free(reference) }
        let modules = Int(reference.pointee.width)
        let size = modules + 4
        var light = [[Bool]](repeating: [Bool](repeating: false, count: size), count: lines.count * 2)
        for (line, text) in lines.enumerated() {
            for (column, character) in text.enumerated() {
                light[2 * line][column] = character == "█" || character == "▀"
                light[2 * line + 1][column] = character == "█" || character == "▄"
            }
        }
        var mismatches = 0
        var darkInQuietZone = 0
        for y in 0..<size {
            for x in 0..<size {
                if (2..<modules + 2).contains(x) && (2..<modules + 2).contains(y) {
                    let dark = reference.pointee.data[(y - 2) * modules + (x - 2)] & 1 == 1
                    if dark == light[y][x] { mismatches += 1 }
                } else if !light[y][x] {
                    darkInQuietZone += 1
                }
            }
        }
        #expect(mismatches == 0)
        #expect(darkInQuietZone == 0)
        if size % 2 == 1 { #expect(!light[size].contains(true)) }
    }

    /// Text libqrencode cannot encode (too long, empty) gives nil.
    @Test func unencodableTextGivesNil() {
        #expect(TerminalQR.render(String(repeating: "x", count: 5000)) == nil)
        #expect(TerminalQR.render("") == nil)
    }
}
