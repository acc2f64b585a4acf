// Tests for PathFilter: glob metacharacters, anchoring, directory rules, default excludes and pattern files.
import Foundation
import Testing

@testable import SyncEngine

/// Whether a lone exclude pattern excludes the file `path`.
func excludesFile(_ pattern: String, _ path: String) throws -> Bool {
    try !PathFilter(include: [], exclude: [pattern], defaultExcludes: false).includes(file: path)
}

@Suite struct GlobTests {
    @Test func star() throws {
        #expect(try excludesFile("*.jpg", "a.jpg"))
        #expect(try excludesFile("*.jpg", "a/b/c.jpg"))
        #expect(try !excludesFile("*.jpg", "a.jpeg"))
        #expect(try excludesFile("IMG_*", "IMG_"))
        // "*" never crosses "/" (an anchored pattern shows it).
        #expect(try !excludesFile("/a*.jpg", "ab/c.jpg"))
        #expect(try excludesFile("/a*.jpg", "abc.jpg"))
    }

    @Test func doubleStar() throws {
        #expect(try excludesFile("/a/**", "a/b/c/d.jpg"))
        #expect(try excludesFile("/a/**.jpg", "a/b/c/d.jpg"))
        #expect(try !excludesFile("/a/**.jpg", "a/b/c/d.png"))
        #expect(try excludesFile("**", "x"))
        #expect(try excludesFile("/**/x.jpg", "a/b/x.jpg"))
    }

    @Test func questionMark() throws {
        #expect(try excludesFile("IMG_????.jpg", "IMG_0001.jpg"))
        #expect(try !excludesFile("IMG_????.jpg", "IMG_001.jpg"))
        #expect(try !excludesFile("/a?b", "a/b"))
    }

    @Test func characterClasses() throws {
        #expect(try excludesFile("[abc].txt", "b.txt"))
        #expect(try !excludesFile("[abc].txt", "d.txt"))
        #expect(try excludesFile("file[0-9].txt", "file7.txt"))
        #expect(try !excludesFile("file[0-9].txt", "fileX.txt"))
        #expect(try excludesFile("[!0-9]*", "x1"))
        #expect(try !excludesFile("[!0-9]*", "1x"))
        #expect(try excludesFile("[^0-9]*", "x1"))
        #expect(try excludesFile("[]]", "]"))
        #expect(try excludesFile("[a-]", "-"))
        #expect(try excludesFile("[\\]x]", "]"))
        #expect(try !excludesFile("/a[/]b", "a/b"))
        #expect(try !excludesFile("/a[!x]b", "a/b"))
    }

    @Test func alternation() throws {
        #expect(try excludesFile("*.{jpg,png,heic}", "x/y.png"))
        #expect(try excludesFile("*.{jpg,png,heic}", "y.heic"))
        #expect(try !excludesFile("*.{jpg,png,heic}", "y.gif"))
        #expect(try excludesFile("IMG{,_E}*.jpg", "IMG_E12.jpg"))
        #expect(try excludesFile("{a*,b?}.txt", "b1.txt"))
        #expect(try excludesFile("{a*,b?}.txt", "abc.txt"))
        #expect(try !excludesFile("{a*,b?}.txt", "b12.txt"))
        #expect(try excludesFile("a,b", "a,b"))  // commas outside braces are literal
    }

    @Test func escapes() throws {
        #expect(try excludesFile("\\*.jpg", "*.jpg"))
        #expect(try !excludesFile("\\*.jpg", "x.jpg"))
        #expect(try excludesFile("what\\?", "what?"))
        #expect(try !excludesFile("what\\?", "whats"))
        #expect(try excludesFile("\\[x\\]", "[x]"))
        #expect(try excludesFile("\\{a\\}", "{a}"))
    }

    @Test func anchoring() throws {
        #expect(try excludesFile("/top.jpg", "top.jpg"))
        #expect(try !excludesFile("/top.jpg", "a/top.jpg"))
        #expect(try excludesFile("b/*.jpg", "a/b/c.jpg"))
        #expect(try excludesFile("b/*.jpg", "b/c.jpg"))
        #expect(try !excludesFile("b/*.jpg", "ab/c.jpg"))  // matches whole components only
        #expect(try !excludesFile("/b/*.jpg", "a/b/c.jpg"))
        #expect(try !excludesFile("c", "a/bc"))
    }

    @Test func pathsAreNormalized() throws {
        #expect(try excludesFile("/a/b.jpg", "./a//b.jpg"))
        #expect(try excludesFile("/a/b.jpg", "/a/b.jpg"))
    }
}

@Suite struct PathFilterRuleTests {
    @Test func directoryOnlyPatterns() throws {
        let f = try PathFilter(include: [], exclude: ["cache/"], defaultExcludes: false)
        #expect(!f.includes(directory: "cache"))
        #expect(!f.includes(directory: "a/cache"))
        #expect(!f.includes(directory: "a/cache/deeper"))
        #expect(!f.includes(file: "a/cache/x.jpg"))
        #expect(f.includes(file: "a/cache"))  // a file named cache is kept
        #expect(f.includes(directory: "a/cached"))
    }

    @Test func excludedDirectoryCoversItsFiles() throws {
        let f = try PathFilter(include: [], exclude: ["/private", "tmp*"], defaultExcludes: false)
        #expect(!f.includes(directory: "private"))
        #expect(!f.includes(file: "private/a/b.jpg"))
        #expect(f.includes(file: "x/private/b.jpg"))
        #expect(!f.includes(file: "x/tmp1/b.jpg"))
        #expect(f.includes(directory: ""))  // the root is always walked
    }

    @Test func trailingDoubleStarSkipsTheDirectory() throws {
        let f = try PathFilter(include: [], exclude: ["/2023/**"], defaultExcludes: false)
        #expect(!f.includes(directory: "2023"))
        #expect(!f.includes(file: "2023/01/a.jpg"))
        #expect(f.includes(directory: "2024"))
    }

    @Test func defaultExcludes() throws {
        let f = try PathFilter(include: [], exclude: [])
        #expect(!f.includes(file: "a/@eaDir/x.jpg"))
        #expect(!f.includes(directory: "a/@eaDir"))
        #expect(!f.includes(file: ".zfs/snapshot/auto-2025/photos/a.jpg"))
        #expect(!f.includes(directory: ".zfs"))
        #expect(!f.includes(file: "x/._IMG.jpg"))
        #expect(!f.includes(file: "x/.DS_Store"))
        #expect(!f.includes(file: "Thumbs.db"))
        #expect(f.includes(file: "x/IMG.jpg"))
        #expect(f.includes(file: "x/_IMG.jpg"))
        #expect(PathFilter.defaultExcludePatterns == [".zfs", "@eaDir", ".DS_Store", "Thumbs.db", "._*"])
        let off = try PathFilter(include: [], exclude: [], defaultExcludes: false)
        #expect(off.includes(file: "a/@eaDir/x.jpg"))
        #expect(off.includes(directory: ".zfs"))
    }

    @Test func includeAndExcludeTogether() throws {
        let f = try PathFilter(include: ["*.jpg", "*.heic"], exclude: ["/2020/**", "*_thumb.jpg"])
        #expect(f.includes(file: "2021/a.jpg"))
        #expect(f.includes(file: "b.HEIC") == false)  // case-sensitive
        #expect(f.includes(file: "b.heic"))
        #expect(!f.includes(file: "2021/a.png"))
        #expect(!f.includes(file: "2020/a.jpg"))
        #expect(!f.includes(file: "2021/a_thumb.jpg"))
        #expect(!f.includes(file: "2021/@eaDir/a.jpg"))
        // Includes never stop directories from being walked.
        #expect(f.includes(directory: "2021/sub"))
        #expect(!f.includes(directory: "2020"))
    }

    @Test func includeSubtree() throws {
        let f = try PathFilter(include: ["/2024/**"], exclude: [])
        #expect(f.includes(directory: "2023"))
        #expect(!f.includes(file: "2023/a.jpg"))
        #expect(f.includes(file: "2024/01/a.jpg"))
        let dirs = try PathFilter(include: ["albums/"], exclude: [])
        #expect(dirs.includes(file: "x/albums/trip/a.jpg"))
        #expect(!dirs.includes(file: "x/other/a.jpg"))
        #expect(!dirs.includes(file: "albums"))
    }

    @Test func patternsFromFile() throws {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("syncparts-filter-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        let text = "# comment\n; another comment\n\n*.jpg   \r\n  \n/2020/**\t\n@eaDir/\nlast"
        try Data(text.utf8).write(to: url)
        let patterns = try PathFilter.patterns(fromFile: url.path)
        #expect(patterns == ["*.jpg", "/2020/**", "@eaDir/", "last"])
        let missing = message { _ = try PathFilter.patterns(fromFile: "/nonexistent/dir/filter.txt") }
        #expect(missing?.contains("/nonexistent/dir/filter.txt") == true)
    }

    @Test(arguments: [
        ("[abc", ["[abc", "never closed", "]"]),
        ("x[!", ["x[!", "never closed"]),
        ("{a,b", ["{a,b", "never closed", "}"]),
        ("{a,{b}}", ["nested"]),
        ("abc\\", ["abc\\", "escape"]),
        ("", ["empty"]),
        ("/", ["empty"]),
        ("[z-a]", ["z-a", "backwards"]),
    ])
    func invalidPatterns(pattern: String, fragments: [String]) {
        let error = message { _ = try PathFilter(include: [pattern], exclude: []) }
        #expect(error != nil, "\"\(pattern)\" should not compile")
        for fragment in fragments {
            #expect(error?.contains(fragment) == true, "\(error ?? "nil") should mention \(fragment)")
        }
        let asExclude = message { _ = try PathFilter(include: [], exclude: [pattern]) }
        #expect(asExclude == error)
    }

    @Test func longPathsStayFast() throws {
        let f = try PathFilter(include: ["**a**a**a**a**b"], exclude: [])
        let path = String(repeating: "a/", count: 200) + "c"
        let start = ContinuousClock.now
        #expect(!f.includes(file: path))
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}
