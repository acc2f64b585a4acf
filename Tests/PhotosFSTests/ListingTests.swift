// Unit tests of the packed directory listing (TreeState.Listing): names, lookups by name, sizes learned in place.
import Foundation
import Testing
@testable import PhotosFS

@Suite("Packed listings")
struct ListingTests {
    typealias Entry = (name: String, ino: UInt64, size: Int64?, mtime: Double, directory: Bool)

    static let entries: [Entry] = [
        ("b.jpg", NodeID.item(3).ino, 300, 1_000, false),
        ("Trips", NodeID.album(1).ino, 0, 0, true),
        ("a.jpg", NodeID.item(9).ino, nil, 2_000.5, false),
        ("é {x}.jpg", NodeID.item(4).ino, nil, 3_000, false),
        ("", NodeID.item(5).ino, 5, 0, false),
        ("a.jpg", NodeID.item(7).ino, 7, 0, false),
    ]

    @Test("names, nodes and sizes come back as they went in; lookups compare bytes and find the first of equal names")
    func roundTrip() {
        let l = TreeState.Listing(Self.entries, count: Self.entries.count, deps: ["media"])
        #expect(l.count == 6)
        #expect((0..<l.count).map { l.name($0) } == Self.entries.map(\.name))
        #expect(l.node(1) == .album(1))
        #expect(l.node(2) == .item(9))
        #expect(l.slots[2].mtime == 2_000.5)
        #expect(l.slots[1].isDirectory && !l.slots[0].isDirectory)
        #expect(l.size(0) == 300 && l.size(2) == nil && l.size(4) == 5)
        #expect(l.find("a.jpg") == 2, "the first of two equal names")
        #expect(l.find("é {x}.jpg") == 3)
        #expect(l.find("e {x}.jpg") == nil)
        #expect(l.find("") == 4)
        #expect(l.find("b.jp") == nil)
        #expect(l.find("zzz") == nil)
    }

    @Test("learned sizes patch unknown entries in place; known ones and other inodes are left alone")
    func learnedSizes() {
        let l = TreeState.Listing(Self.entries, count: Self.entries.count, deps: [])
        #expect(l.hasUnknownSizes)
        let copy = l   // an open directory's snapshot
        /// Learns one size; true when an entry changed.
        func learn(_ row: Int64, _ size: Int64) -> Bool { l.learned(ino: NodeID.item(row).ino, size: size) }
        #expect(!learn(3, 1), "b.jpg's size was known")
        #expect(!learn(42, 1), "not in this listing")
        #expect(learn(9, 900))
        #expect(!learn(9, 901), "learned once")
        #expect(l.size(2) == 900)
        #expect(l.hasUnknownSizes)
        #expect(learn(4, 400))
        #expect(!l.hasUnknownSizes)
        #expect(l.size(0) == 300)
        #expect(copy.size(2) == 900 && !copy.hasUnknownSizes, "copies share the sizes: nothing is copied to learn one")
        #expect(l.id != TreeState.Listing([Entry](), count: 0, deps: []).id, "every build has its own id")
    }
}
