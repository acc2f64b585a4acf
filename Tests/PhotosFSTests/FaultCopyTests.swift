// Faults during a 100-file copy: 5xx, 429 and connection resets on uploads and batchCreate → each file committed once.
import APITestSupport
import Foundation
import Harness
import PhotosAPI
import Testing
@testable import PhotosFS

/// What Google holds in one album, seen through a client of the mount's own OAuth client id.
struct AlbumContents {
    /// The album's items (search by albumId, every page).
    let items: [MediaItem]
    /// Each item's `=d` bytes, in item order.
    let bytes: [Data]

    /// Lists the album titled `title` (exactly one must exist) and downloads every item.
    static func fetch(_ client: PhotosClient, title: String) async throws -> AlbumContents {
        let albums = try await client.albums().collect().filter { $0.title == title }
        guard albums.count == 1 else { throw TestFailure("\(albums.count) albums titled '\(title)' in Google Photos, expected 1") }
        let items = try await client.mediaItems(inAlbum: albums[0].id).collect()
        var bytes: [Data] = []
        for item in items { bytes.append(try await client.downloadData(baseUrl: item.baseUrl)) }
        return AlbumContents(items: items, bytes: bytes)
    }
}

/// How often each distinct content occurs (a multiset of byte strings).
func contentCounts(_ all: [Data]) -> [Data: Int] { all.reduce(into: [:]) { $0[$1, default: 0] += 1 } }

@Suite("Faults during a 100-file copy: every file committed exactly once", .serialized)
struct FaultCopyTests {
    /// Transient faults on both upload steps: probabilistic 5xx and resets on the byte uploads, and on batchCreate
    /// answers that are lost or refused (so the 'outcome unknown' reconcile path runs), plus 429s with Retry-After.
    static let faults = [
        "uploads:503:p=0.08", "uploads:500:p=0.04", "uploads:429:p=0.04:retry-after=1", "uploads:reset:p=0.04:after=512",
        "mediaItems.batchCreate:reset:count=2", "mediaItems.batchCreate:503:count=1", "mediaItems.batchCreate:500:count=1",
        "mediaItems.batchCreate:429:count=1:retry-after=1",
    ]

    @Test("cp of 100 photos under 5xx, 429 and resets: the album holds exactly those 100, each once", .timeLimit(.minutes(5)),
          arguments: FSMode.allCases)
    func hundredFilesUnderFaults(mode: FSMode) async throws {
        let seed = ProcessInfo.processInfo.environment["GPHOTOSFS_FAULT_SEED"] ?? String(UInt32.random(in: 0...UInt32.max))
        try await withFS(mode, emulator: ["--seed", seed]) { fs, emu in
            try await fs.mkdir("album/Copy")
            try await emu.faults(FaultCopyTests.faults)
            var written: [String: Data] = [:]
            for i in 0..<100 {
                let name = String(format: "IMG_%04d.jpg", i)
                let data = makeJPEG(tag: "copy-\(seed)-\(i)", padding: 2000 + i * 37)
                try await fs.write("album/Copy/\(name)", data)   // close() returned 0: the file must reach Google once
                written[name] = data
            }
            try await fs.waitForUploads(timeout: 180)
            try await emu.control("DELETE", "faults")

            // What the user sees: 100 names, each read back with the bytes written.
            #expect(try await fs.list("album/Copy") == written.keys.sorted())
            for name in ["IMG_0000.jpg", "IMG_0057.jpg", "IMG_0099.jpg"] {
                #expect(try await fs.read("album/Copy/\(name)") == written[name], "\(name)")
                #expect(try await fs.getxattr("album/Copy/\(name)", "user.gphotos.state") == Data("committed".utf8), "\(name)")
            }

            // What Google holds: exactly 100 items, each file's bytes once, none lost, nothing outside the album.
            let client = try await TestAccount(emu).client()
            let album = try await AlbumContents.fetch(client, title: "Copy")
            #expect(album.items.count == 100, "seed \(seed): the album holds \(album.items.count) items")
            #expect(Set(album.items.map(\.id)).count == album.items.count, "seed \(seed): an item is in the album twice")
            #expect(contentCounts(album.bytes) == contentCounts(Array(written.values)),
                    "seed \(seed): the album's bytes are not each copied file's bytes exactly once")
            #expect(Set(album.items.map(\.filename)) == Set(written.keys), "seed \(seed): file names differ")
            let library = try await client.mediaItems().collect()
            #expect(library.count == 100, "seed \(seed): the library holds \(library.count) items (a duplicate outside the album?)")
            let counts = try await emu.requestCounts()
            print("FaultCopyTests[\(mode)] seed \(seed): requests \(counts.filter { $0.key.hasPrefix("uploads") || $0.key.hasPrefix("mediaItems") })")
        }
    }
}
