// Unit tests of the naming rules (Naming.swift): encoding, decoding, {ID} dedupe, titles, shortening, speed.
import Foundation
import Testing
@testable import PhotosFS

/// A deterministic generator (SplitMix64) so failures can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Characters that stress the encoder: every special and quotable one, controls, dots, spaces, multi-byte text.
let hostileAlphabet: [String] = [
    "/", "\u{0}", "\n", "\r", "\t", "\u{1B}", "\u{7F}", ".", " ", "{", "}", "~",
    "\u{FF0F}", "\u{FF0E}", "\u{2400}", "\u{240A}", "\u{240D}", "\u{201B}", "\u{FFFD}",
    "a", "B", "z", "0", "é", "e\u{301}", "日", "😀", "👩‍👩‍👧", "\u{200D}",
]

/// A random raw name of 0..<maxLength pieces of the hostile alphabet, sometimes a whole special name.
func randomRawName(_ g: inout SeededGenerator, maxLength: Int = 12) -> String {
    let specials = [".", "..", "\u{FF0E}", "\u{FF0E}\u{FF0E}", "", "/", "\u{201B}\u{FF0E}", "a.jpg", "a"]
    if Int.random(in: 0..<8, using: &g) == 0 { return specials.randomElement(using: &g)! }
    let n = Int.random(in: 0..<maxLength, using: &g)
    return (0..<n).map { _ in hostileAlphabet.randomElement(using: &g)! }.joined()
}

/// What the kernel requires of a directory entry name.
func isKernelSafe(_ name: String) -> Bool {
    !name.isEmpty && name != "." && name != ".." && !name.utf8.contains(0x2F) && !name.utf8.contains(0)
        && name.utf8.count <= 255
}

/// A Google-looking id (rclone's findID needs ≥ 55 chars of [A-Za-z0-9_-]).
func fakeID(_ i: Int) -> String { "AKx" + String(repeating: "0", count: 52 - String(i).count) + String(i) }

@Suite struct NamingTests {
    // MARK: encode / decode

    @Test func encodingTable() {
        let table: [(String, String)] = [
            ("plain.jpg", "plain.jpg"),
            ("a/b.jpg", "a\u{FF0F}b.jpg"),          // / → ／ (rclone)
            ("/", "\u{FF0F}"),
            (".", "\u{FF0E}"), ("..", "\u{FF0E}\u{FF0E}"),   // whole-name dots → fullwidth
            ("...", "..."), (".hidden", ".hidden"), ("a.", "a."),   // other dots untouched
            ("\u{FF0E}", "\u{201B}\u{FF0E}"), ("\u{FF0E}\u{FF0E}", "\u{201B}\u{FF0E}\u{201B}\u{FF0E}"),
            ("a\u{0}b", "a\u{2400}b"),               // NUL → ␀
            ("l1\nl2\r", "l1\u{240A}l2\u{240D}"),    // LF CR → ␊ ␍
            ("a\u{FF0F}b", "a\u{201B}\u{FF0F}b"),    // literal ／ is quoted
            ("\u{2400}\u{240A}\u{240D}", "\u{201B}\u{2400}\u{201B}\u{240A}\u{201B}\u{240D}"),
            ("\u{201B}", "\u{201B}\u{201B}"),        // the quote itself
            ("tab\there\u{1B}[0m", "tab\there\u{1B}[0m"),   // other controls: not in the backend's encoding
            ("  spaced  ", "  spaced  "),            // leading/trailing spaces: not in the backend's encoding
            ("bad\u{FFFD}utf8", "bad\u{FFFD}utf8"),  // a real U+FFFD is a valid character
            ("", ""),
        ]
        for (raw, shown) in table {
            #expect(Array(Naming.encode(raw).utf8) == Array(shown.utf8), "encode(\(raw.debugDescription))")
            #expect(Array(Naming.decode(shown).utf8) == Array(raw.utf8), "decode(\(shown.debugDescription))")
        }
    }

    @Test func unchangedNamesAreReturnedAsIs() {
        let s = "IMG_0001 copy (2).JPG"
        #expect(Naming.encode(s) == s)
        #expect(!Naming.mayNeedEncoding(s))
        #expect(!Naming.mayNeedEncoding("日本語の写真.jpg"))   // multi-byte text without E2/EF lead bytes
        #expect(Naming.encode("café – 2024.jpg") == "café – 2024.jpg")   // U+2013 has lead byte E2: slow path, same result
    }

    @Test func decodeAcceptsAnyUserTypedName() {
        // A quote that quotes nothing stays; such names are not canonical (they would show differently once created).
        #expect(Naming.decode("\u{201B}x") == "\u{201B}x")
        #expect(Naming.decode("x\u{201B}") == "x\u{201B}")
        #expect(!Naming.isCanonical("\u{201B}x"))
        #expect(!Naming.isCanonical("a\rb"))     // a raw CR would show as ␍
        #expect(Naming.isCanonical("a\u{FF0F}b"))
        #expect(Naming.decode("a\u{FF0F}b") == "a/b")
        #expect(Naming.decode("\u{FF0E}") == ".")
        #expect(Naming.decode("x\u{FF0E}") == "x\u{FF0E}")   // fullwidth dots inside a name are themselves
        #expect(Naming.isCanonical("Trip 2024"))
    }

    @Test func roundTripsSeededRandom() {
        var g = SeededGenerator(seed: 0x6770_686F_746F_7366)
        for i in 0..<2_000 {
            let raw = randomRawName(&g, maxLength: 16)
            let enc = Naming.encode(raw)
            #expect(Array(Naming.decode(enc).utf8) == Array(raw.utf8), "case \(i): \(raw.debugDescription)")
            #expect(Naming.isCanonical(enc), "case \(i)")
            #expect(raw.isEmpty || isKernelSafe(enc) || enc.utf8.count > 255, "case \(i): \(enc.debugDescription)")
            #expect(!enc.utf8.contains(0x0A) && !enc.utf8.contains(0x0D), "case \(i)")
        }
    }

    /// What a server can hand us: Swift strings are always valid Unicode, so invalid UTF-8 and lone surrogates
    /// arrive as U+FFFD or not at all, and encode keeps them safe either way.
    @Test func loneSurrogatesFromJSONAreSafe() {
        struct T: Decodable { let t: String }
        let json = Data(#"{"t":"a\ud800b\udfff"}"#.utf8)
        if let t = try? JSONDecoder().decode(T.self, from: json) {
            #expect(isKernelSafe(Naming.encode(t.t)))
            #expect(Naming.decode(Naming.encode(t.t)) == t.t)
        }
        let bytes = String(decoding: [0x61, 0xFF, 0xC3, 0x62] as [UInt8], as: UTF8.self)   // invalid UTF-8 → U+FFFD
        #expect(Naming.encode(bytes) == "a\u{FFFD}\u{FFFD}b")
    }

    // MARK: duplicates

    @Test func duplicateFilesGetTheirIDBeforeTheExtension() {
        let names = Naming.displayNames([
            NameRequest(rawName: "a.jpg", id: "X", isDirectory: false),
            NameRequest(rawName: "b.jpg", id: "Y", isDirectory: false),
            NameRequest(rawName: "a.jpg", id: "Z", isDirectory: false),
        ])
        #expect(names == ["a {X}.jpg", "b.jpg", "a {Z}.jpg"])
    }

    @Test func duplicatesWithoutExtensionThreeWay() {
        let names = Naming.displayNames((0..<3).map { NameRequest(rawName: "README", id: "I\($0)", isDirectory: false) })
        #expect(names == ["README {I0}", "README {I1}", "README {I2}"])
        let tgz = Naming.displayNames((0..<3).map { NameRequest(rawName: "x.tar.gz", id: "I\($0)", isDirectory: false) })
        #expect(tgz == ["x.tar {I0}.gz", "x.tar {I1}.gz", "x.tar {I2}.gz"])   // rclone's path.Ext: last dot only
    }

    @Test func duplicateDirectoriesGetTitleSpaceID() {
        let names = Naming.displayNames([
            NameRequest(rawName: "v1.2", id: "A", isDirectory: true),
            NameRequest(rawName: "v1.2", id: "B", isDirectory: true),
            NameRequest(rawName: "Other", id: "C", isDirectory: true),
        ])
        #expect(names == ["v1.2 {A}", "v1.2 {B}", "Other"])   // no extension split for directories
    }

    @Test func fileAndDirectoryWithTheSameNameClash() {
        let names = Naming.displayNames([
            NameRequest(rawName: "Rome", id: "A", isDirectory: true),
            NameRequest(rawName: "Rome", id: "M", isDirectory: false),
        ])
        #expect(names == ["Rome {A}", "Rome {M}"])
    }

    @Test func emptyNamesBecomeTheID() {
        let names = Naming.displayNames([
            NameRequest(rawName: "", id: "X", isDirectory: false),
            NameRequest(rawName: "", id: "Y", isDirectory: true),
            NameRequest(rawName: ".hidden", id: "P", isDirectory: false),
            NameRequest(rawName: ".hidden", id: "Q", isDirectory: false),
        ])
        #expect(names == ["{X}", "{Y}", "{P}.hidden", "{Q}.hidden"])
    }

    @Test func clashesAreOnTheEncodedNameAndCaseSensitive() {
        let names = Naming.displayNames([
            NameRequest(rawName: "a/b.jpg", id: "X", isDirectory: false),
            NameRequest(rawName: "a\u{FF0F}b.jpg", id: "Y", isDirectory: false),   // different once encoded
            NameRequest(rawName: "A.jpg", id: "P", isDirectory: false),
            NameRequest(rawName: "a.jpg", id: "Q", isDirectory: false),
            NameRequest(rawName: ".", id: "D", isDirectory: true),
            NameRequest(rawName: "\u{FF0E}", id: "E", isDirectory: true),
        ])
        #expect(names == ["a\u{FF0F}b.jpg", "a\u{201B}\u{FF0F}b.jpg", "A.jpg", "a.jpg", "\u{FF0E}", "\u{201B}\u{FF0E}"])
    }

    @Test func unicodeNormalizationVariantsClash() {
        // Linux would take both byte strings, but a String-keyed lookup could not tell them apart: both get the id.
        let names = Naming.displayNames([
            NameRequest(rawName: "caf\u{E9}.jpg", id: "N", isDirectory: false),
            NameRequest(rawName: "cafe\u{301}.jpg", id: "D", isDirectory: false),
        ])
        #expect(Array(names[0].utf8) == Array("caf\u{E9} {N}.jpg".utf8))
        #expect(Array(names[1].utf8) == Array("cafe\u{301} {D}.jpg".utf8))
    }

    @Test func suffixThatCollidesWithALiteralNameStillYieldsUniqueNames() {
        let input = [
            NameRequest(rawName: "a.jpg", id: "X", isDirectory: false),
            NameRequest(rawName: "a.jpg", id: "Y", isDirectory: false),
            NameRequest(rawName: "a {X}.jpg", id: "Z", isDirectory: false),
        ]
        let names = Naming.displayNames(input)
        #expect(names == ["a {X} {X}.jpg", "a {Y}.jpg", "a {X} {Z}.jpg"])
        // Order-independent: the same entry gets the same name in any order.
        let reversed = Naming.displayNames(input.reversed())
        #expect(reversed == names.reversed())
    }

    @Test func repeatedIDsFallBackToNumbers() {
        let input = (0..<3).map { _ in NameRequest(rawName: "same.jpg", id: "ID", isDirectory: false) }
            + [NameRequest(rawName: "same {ID}~2.jpg", id: "K", isDirectory: false)]
        let names = Naming.displayNames(input)
        #expect(Set(names).count == names.count, "\(names)")
        #expect(names.allSatisfy(isKernelSafe))
    }

    @Test func randomListingsAreSafeAndUnique() {
        var g = SeededGenerator(seed: 42)
        for round in 0..<200 {
            let n = Int.random(in: 1..<40, using: &g)
            let ids = (0..<n).map { _ in "id\(Int.random(in: 0..<(n + 3), using: &g))" }   // some ids repeat
            let input = (0..<n).map {
                NameRequest(rawName: randomRawName(&g, maxLength: Int.random(in: 1..<300, using: &g)),
                            id: ids[$0], isDirectory: Bool.random(using: &g))
            }
            let names = Naming.displayNames(input)
            #expect(names.count == n)
            #expect(Set(names).count == n, "round \(round): \(names)")
            #expect(Set(names.map { Data($0.utf8) }).count == n, "round \(round)")
            for name in names { #expect(isKernelSafe(name), "round \(round): \(name.debugDescription)") }
            #expect(Naming.displayNames(input) == names, "round \(round): not deterministic")
        }
    }

    // MARK: album titles

    @Test func nestedTitles() {
        #expect(Naming.titlePath("Trips/2024/Rome") == ["Trips", "2024", "Rome"])
        #expect(Naming.titlePath("/Trips//Rome/") == ["Trips", "Rome"])          // empty components dropped
        #expect(Naming.titlePath("Plain") == ["Plain"])
        #expect(Naming.titlePath("a/./b") == ["a", "\u{FF0E}", "b"])             // no path.Clean: "." stays reachable
        #expect(Naming.titlePath("a/../b") == ["a", "\u{FF0E}\u{FF0E}", "b"])
        #expect(Naming.titlePath("Line\nbreak/x") == ["Line\u{240A}break", "x"])
    }

    @Test func titlesWithoutComponents() {
        #expect(Naming.titlePath(".") == ["\u{FF0E}"])
        #expect(Naming.titlePath("..") == ["\u{FF0E}\u{FF0E}"])
        #expect(Naming.titlePath("/") == ["\u{FF0F}"])
        #expect(Naming.titlePath("//") == ["\u{FF0F}\u{FF0F}"])
        #expect(Naming.titlePath("") == [""])
        #expect(Naming.rawTitlePath("") == [""])
        #expect(Naming.rawTitlePath("/") == ["/"])
        #expect(Naming.rawTitlePath("a/./b") == ["a", ".", "b"])
        // displayNames gives the empty title its id, like rclone; "/" keeps its encoded form.
        let names = Naming.displayNames([NameRequest(rawName: "", id: "ALB", isDirectory: true),
                                         NameRequest(rawName: "/", id: "ALC", isDirectory: true)])
        #expect(names == ["{ALB}", "\u{FF0F}"])
    }

    @Test func titlePathIsRawTitlePathEncoded() {
        var g = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let t = randomRawName(&g, maxLength: 20)
            #expect(Naming.titlePath(t) == Naming.rawTitlePath(t).map(Naming.encode))
            #expect(!Naming.titlePath(t).isEmpty)
            #expect(Naming.titlePath(t).allSatisfy { !$0.utf8.contains(0x2F) && $0 != "." && $0 != ".." })
        }
    }

    // MARK: long names

    @Test func longNameIsShortenedStablyWithItsExtension() {
        let raw = String(repeating: "L", count: 1000) + ".jpg"
        let name = Naming.displayNames([NameRequest(rawName: raw, id: "X", isDirectory: false)])[0]
        // SHA-256("L"×1000 + ".jpg") starts with 8f2311f3: the same name on every run and every machine.
        #expect(name == String(repeating: "L", count: 242) + "~8f2311f3.jpg")
        #expect(name.utf8.count == 255)
    }

    @Test func longNamesSharingAPrefixStayUnique() {
        let stem = String(repeating: "é", count: 900)   // 2 bytes each: the cut must fall between characters
        let input = (0..<50).map { NameRequest(rawName: stem + "\($0).heic", id: fakeID($0), isDirectory: false) }
        let names = Naming.displayNames(input)
        #expect(Set(names).count == 50)
        for name in names {
            #expect(name.utf8.count <= 255)
            #expect(name.hasSuffix(".heic"))
            #expect(name.hasPrefix("éé"))
        }
        #expect(Naming.displayNames(input) == names)
    }

    @Test func longDuplicatesKeepTheIDAndExtension() {
        let raw = String(repeating: "😀", count: 1000) + ".mp4"   // 4-byte characters
        let input = [NameRequest(rawName: raw, id: fakeID(1), isDirectory: false),
                     NameRequest(rawName: raw, id: fakeID(2), isDirectory: false)]
        let names = Naming.displayNames(input)
        #expect(names[0] != names[1])
        #expect(names[0].hasSuffix(" {\(fakeID(1))}.mp4"))
        #expect(names[1].hasSuffix(" {\(fakeID(2))}.mp4"))
        #expect(names.allSatisfy(isKernelSafe))
        let dirs = Naming.displayNames([NameRequest(rawName: String(repeating: "T", count: 1000), id: "A1", isDirectory: true),
                                        NameRequest(rawName: String(repeating: "T", count: 1000), id: "A2", isDirectory: true)])
        #expect(dirs[0].hasSuffix(" {A1}") && dirs[1].hasSuffix(" {A2}") && dirs.allSatisfy(isKernelSafe))
    }

    @Test func hostileLongExtensionsAndIDs() {
        let input = [
            NameRequest(rawName: "a." + String(repeating: "e", count: 400), id: "X", isDirectory: false),
            NameRequest(rawName: "a." + String(repeating: "e", count: 400), id: "Y", isDirectory: false),
            NameRequest(rawName: "b.jpg", id: String(repeating: "I", count: 600), isDirectory: false),
            NameRequest(rawName: "b.jpg", id: String(repeating: "I", count: 600) + "J", isDirectory: false),
            NameRequest(rawName: "c.jpg", id: "id/with\u{0}bad..chars", isDirectory: false),
            NameRequest(rawName: "c.jpg", id: "", isDirectory: false),
        ]
        let names = Naming.displayNames(input)
        #expect(Set(names).count == names.count, "\(names)")
        #expect(names.allSatisfy(isKernelSafe), "\(names)")
        #expect(names[4] == "c {id\u{FF0F}with\u{2400}bad..chars}.jpg")
        #expect(names[5] == "c {}.jpg")
    }

    // MARK: speed

    @Test func tenThousandEntriesTiming() {
        // Realistic: mostly unique camera names, 10% duplicates, a few that need encoding.
        func listing(_ n: Int) -> [NameRequest] {
            (0..<n).map { i in
                let name = i % 10 == 0 ? "IMG_\(i / 10).JPG" : (i % 97 == 0 ? "a/b \(i).jpg" : "IMG_\(i).JPG")
                return NameRequest(rawName: name, id: fakeID(i), isDirectory: false)
            }
        }
        let ten = listing(10_000)
        let clock = ContinuousClock()
        var names: [String] = []
        let t10 = clock.measure { names = Naming.displayNames(ten) }
        #expect(Set(names).count == 10_000)
        let hundred = listing(100_000)
        var names100: [String] = []
        let t100 = clock.measure { names100 = Naming.displayNames(hundred) }
        #expect(Set(names100).count == 100_000)
        print("Naming.displayNames: 10,000 entries in \(t10), 100,000 in \(t100)")
    }
}
