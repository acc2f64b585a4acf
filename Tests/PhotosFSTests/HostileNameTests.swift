// Hostile album titles and filenames from the server, seen through the file system: every name safe, reachable, readable.
import APITestSupport
import Foundation
import Testing
@testable import PhotosFS

@Suite(.serialized) struct HostileNameTests {
    static let clientId = "client-a.apps.googleusercontent.com"

    /// Titles the kernel could not show as they are, nested titles, duplicates and normalization variants.
    static let hostileTitles: [String] = [
        ".", "..", "/", "", "//", "a/./b", "x/../y", "Trips", "Trips/2024/Rome", "dup", "dup",
        "\u{FF0E}", "nul\u{0}in", "line\nbreak\r", "\u{201B}quoted", "slash\u{FF0F}full", " spaced ",
        "tab\tand\u{1B}esc", "caf\u{E9}", "cafe\u{301}", "日本/😀", String(repeating: "🎞", count: 300),
    ]

    /// Filenames for the items of album "Hostile" (ids are fixed, so a literal `name {ID}.ext` can collide).
    static func hostileFiles() -> [(id: String, name: String)] {
        let names = [
            "a/b.jpg", ".", "..", "", "dup.jpg", "dup.jpg", "dup.jpg", "dup {\(fakeID(4))}.jpg", "nul\u{0}.jpg",
            "cr\r\nlf.jpg", "\u{201B}.jpg", "\u{FF0F}.jpg", "\u{2400}.jpg", "caf\u{E9}.jpg", "cafe\u{301}.jpg",
            String(repeating: "😀", count: 255) + ".jpg", String(repeating: "n", count: 1000) + ".jpg",
            String(repeating: "n", count: 1000) + ".jpg", "noext", "noext", ".hidden", "\u{FFFD}.jpg",
        ]
        return names.enumerated().map { (fakeID($0.offset), $0.element) }
    }

    /// Seeds the hostile albums and items for the test account's client; returns album ids by title index and the
    /// bytes of every item of "Hostile".
    static func seed(_ emu: EmulatorProcess) async throws -> (albumIDs: [String], contents: Set<Data>) {
        let files = hostileFiles()
        var items: [[String: Any]] = []
        var contents = Set<Data>()
        for f in files {
            let bytes = makeJPEG(tag: "hostile-\(f.id)")
            contents.insert(bytes)
            items.append(["id": f.id, "ref": f.id, "clientId": clientId, "filename": f.name, "bytesBase64": bytes.base64EncodedString()])
        }
        // One extra item per hostile album, so every album directory has something to read.
        for i in hostileTitles.indices {
            items.append(["ref": "t\(i)", "clientId": clientId, "filename": "in-album.jpg",
                          "bytesBase64": makeJPEG(tag: "title-\(i)").base64EncodedString()])
        }
        var albums: [[String: Any]] = [["title": "Hostile", "clientId": clientId, "items": files.map(\.id)]]
        for (i, t) in hostileTitles.enumerated() { albums.append(["title": t, "clientId": clientId, "items": ["t\(i)"]]) }
        let (status, reply) = try await emu.control("POST", "seed", ["mediaItems": items, "albums": albums])
        try #require(status == 200, "seed failed: \(reply)")
        let ids = (reply["albums"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        try #require(ids.count == albums.count)
        return (Array(ids.dropFirst()), contents)
    }

    /// Asserts the kernel's rules for one directory entry name.
    static func expectSafe(_ name: String, in dir: String) {
        #expect(!name.isEmpty && name != "." && name != "..", "\(dir): bad name \(name.debugDescription)")
        #expect(!name.utf8.contains(0x2F) && !name.utf8.contains(0), "\(dir): \(name.debugDescription) has / or NUL")
        #expect(name.utf8.count <= 255, "\(dir): \(name.utf8.count) bytes")
    }

    /// Walks `path` (bounded depth and entry count): every name safe, unique, stat-able; every file readable.
    /// Returns the bytes of every file found.
    static func walk(_ fs: any FSUnderTest, _ path: String, depth: Int, budget: inout Int) async throws -> [Data] {
        guard depth < 8 else { Issue.record("\(path): deeper than 8"); return [] }
        let names = try await fs.list(path)
        #expect(Set(names).count == names.count, "\(path): duplicate names \(names)")
        var found: [Data] = []
        for name in names {
            budget -= 1
            guard budget > 0 else { Issue.record("walk: too many entries"); return found }
            expectSafe(name, in: path)
            let child = path + "/" + name
            let st = try await fs.stat(child)
            if st.isDirectory {
                found += try await walk(fs, child, depth: depth + 1, budget: &budget)
            } else {
                let data = try await fs.read(child)
                #expect(!data.isEmpty, "\(child): read nothing")
                found.append(data)
            }
        }
        return found
    }

    @Test(arguments: FSMode.allCases)
    func hostileNamesAreSafeReachableAndReadable(mode: FSMode) async throws {
        try await withFS(mode) { fs, emu in
            let (albumIDs, contents) = try await Self.seed(emu)
            var budget = 2_000
            let all = try await Self.walk(fs, "album", depth: 0, budget: &budget)
            // Every item of "Hostile" is listed once and reads back its own bytes.
            let hostile = try await fs.list("album/Hostile")
            #expect(hostile.count == Self.hostileFiles().count, "\(hostile)")
            #expect(Set(all).isSuperset(of: contents))
            // Specific names the rules promise (docs/NAMING.md).
            #expect(hostile.contains("a\u{FF0F}b.jpg"))
            #expect(hostile.contains("\u{FF0E}") && hostile.contains("\u{FF0E}\u{FF0E}"))
            #expect(hostile.contains("{\(fakeID(3))}"))
            for i in 5...6 { #expect(hostile.contains("dup {\(fakeID(i))}.jpg"), "dup \(i): \(hostile)") }
            // "dup {ID4}.jpg" is also a literal name: both it and item 4 take one more id.
            #expect(hostile.contains("dup {\(fakeID(4))} {\(fakeID(4))}.jpg") && hostile.contains("dup {\(fakeID(4))} {\(fakeID(7))}.jpg"))
            #expect(hostile.contains("noext {\(fakeID(18))}") && hostile.contains("noext {\(fakeID(19))}"))
            let top = try await fs.list("album")
            #expect(top.contains("\u{FF0E}") && top.contains("\u{FF0E}\u{FF0E}") && top.contains("\u{FF0F}"))
            #expect(top.contains("{\(albumIDs[3])}"))   // the empty title
            #expect(top.contains("dup {\(albumIDs[9])}") && top.contains("dup {\(albumIDs[10])}"))
            #expect(top.contains("\u{201B}\u{FF0E}"))
            #expect(try await fs.list("album/a/\u{FF0E}/b") == ["in-album.jpg"])
            #expect(try await fs.list("album/x/\u{FF0E}\u{FF0E}/y") == ["in-album.jpg"])
            #expect(try await fs.list("album/Trips/2024/Rome") == ["in-album.jpg"])
            #expect(try await fs.stat("album/Trips").isDirectory)
            #expect(try await fs.list("album/nul\u{2400}in") == ["in-album.jpg"])
            #expect(try await fs.list("album/line\u{240A}break\u{240D}") == ["in-album.jpg"])
        }
    }
}
