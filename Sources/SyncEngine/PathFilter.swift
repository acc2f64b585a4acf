// rclone-style include/exclude glob filtering of relative "/"-separated paths, with NAS default excludes.
import Foundation

/// Decides which files and directories of a tree to sync, from include and exclude glob patterns.
public struct PathFilter: Sendable {
    /// Names skipped everywhere unless `defaultExcludes` is false: ZFS snapshots, Synology and macOS/Windows litter.
    public static let defaultExcludePatterns: [String] = [".zfs", "@eaDir", ".DS_Store", "Thumbs.db", "._*"]

    /// Most alternatives a single `{...}` may hold.
    static let maxAlternatives = 256

    let includePatterns: [GlobPattern]
    let excludePatterns: [GlobPattern]

    /// Compiles the patterns; throws a `SyncError` naming the first invalid pattern.
    public init(include: [String], exclude: [String], defaultExcludes: Bool = true) throws {
        includePatterns = try include.map(GlobPattern.init)
        excludePatterns = try ((defaultExcludes ? Self.defaultExcludePatterns : []) + exclude).map(GlobPattern.init)
    }

    /// Reads patterns from a file: one per line, trailing whitespace trimmed, blank and `#`/`;` comment lines skipped.
    public static func patterns(fromFile path: String) throws -> [String] {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw SyncError(.usage, 
                "Cannot read filter file \"\(path)\": \(error.localizedDescription) (expected a readable text file)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw SyncError(.usage, "Cannot read filter file \"\(path)\": it is not UTF-8 text")
        }
        var result: [String] = []
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = Substring(rawLine)
            while let last = line.last, last.isWhitespace { line = line.dropLast() }
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            result.append(String(line))
        }
        return result
    }

    /// True when the file at `relativePath` should be synced.
    public func includes(file relativePath: String) -> Bool {
        let components = Self.components(relativePath)
        guard !components.isEmpty else { return false }
        let path = components.joined(separator: "/")
        if excludePatterns.contains(where: { !$0.directoryOnly && $0.matches(path, asDirectory: false) }) { return false }
        let parents = (1..<components.count).map { components[0..<$0].joined(separator: "/") }
        for parent in parents where excludePatterns.contains(where: { $0.matches(parent, asDirectory: true) }) {
            return false
        }
        if includePatterns.isEmpty { return true }
        if includePatterns.contains(where: { !$0.directoryOnly && $0.matches(path, asDirectory: false) }) { return true }
        // A directory-only include ("2024/") takes in everything below a matching directory.
        let dirIncludes = includePatterns.filter(\.directoryOnly)
        return parents.contains { parent in dirIncludes.contains { $0.matches(parent, asDirectory: true) } }
    }

    /// False when the directory at `relativePath` (or one above it) is excluded, so its whole subtree is skipped.
    public func includes(directory relativePath: String) -> Bool {
        let components = Self.components(relativePath)
        for depth in 0..<components.count {
            let path = components[0...depth].joined(separator: "/")
            if excludePatterns.contains(where: { $0.matches(path, asDirectory: true) }) { return false }
        }
        return true
    }

    /// Path components without empty and "." parts ("./a//b/" → ["a", "b"]).
    static func components(_ path: String) -> [Substring] {
        path.split(separator: "/").filter { $0 != "." }
    }
}

/// One compiled glob pattern.
struct GlobPattern: Sendable {
    enum Token: Sendable, Equatable {
        case literal(Character)
        case anyCharacter
        case star
        case doubleStar
        case characterClass(negated: Bool, items: [ClosedRange<Character>])
        case alternatives([[Token]])

        /// Whether this single-character token accepts `c` (never "/").
        func accepts(_ c: Character) -> Bool {
            switch self {
            case .literal(let l): return c == l
            case .anyCharacter: return c != "/"
            case let .characterClass(negated, items):
                guard c != "/" else { return false }
                return items.contains { $0.contains(c) } != negated
            default: return false
            }
        }
    }

    let source: String
    let tokens: [Token]
    let anchored: Bool
    let directoryOnly: Bool
    /// Ends in `**`, so matching "dir/" means everything under dir matches too.
    let endsWithDoubleStar: Bool

    init(_ source: String) throws {
        self.source = source
        var body = Substring(source)
        func fail(_ why: String) -> SyncError {
            SyncError(.usage, "Invalid filter pattern \"\(source)\": \(why)")
        }
        directoryOnly = body.hasSuffix("/") && !body.hasSuffix("\\/")
        if directoryOnly { body = body.dropLast() }
        anchored = body.hasPrefix("/")
        if anchored { body = body.dropFirst() }
        guard !body.isEmpty else { throw fail("the pattern is empty (expected a name or glob such as *.jpg)") }
        tokens = try Self.tokenize(Array(body), source: source)
        endsWithDoubleStar = tokens.last == .doubleStar
    }

    static func tokenize(_ chars: [Character], source: String) throws -> [Token] {
        func fail(_ why: String) -> SyncError {
            SyncError(.usage, "Invalid filter pattern \"\(source)\": \(why)")
        }
        var tokens: [Token] = []
        var i = 0
        // Inside "{...}": the alternatives so far and the tokens of the current one.
        var group: (done: [[Token]], current: [Token], start: Int)?
        func emit(_ token: Token) {
            if group != nil { group?.current.append(token) } else { tokens.append(token) }
        }
        while i < chars.count {
            let c = chars[i]
            switch c {
            case "\\":
                guard i + 1 < chars.count else {
                    throw fail("it ends with a lone \"\\\" (expected a character after the escape)")
                }
                emit(.literal(chars[i + 1]))
                i += 2
            case "*":
                var j = i
                while j < chars.count && chars[j] == "*" { j += 1 }
                emit(j - i >= 2 ? .doubleStar : .star)
                i = j
            case "?":
                emit(.anyCharacter)
                i += 1
            case "[":
                let (token, next) = try parseClass(chars, from: i, fail: fail)
                emit(token)
                i = next
            case "{":
                guard group == nil else {
                    throw fail("nested \"{\" at position \(i + 1) (alternatives cannot be nested)")
                }
                group = ([], [], i)
                i += 1
            case "," where group != nil:
                if var g = group {
                    g.done.append(g.current)
                    g.current = []
                    group = g
                }
                i += 1
            case "}" where group != nil:
                if let g = group {
                    let alternatives = g.done + [g.current]
                    guard alternatives.count <= PathFilter.maxAlternatives else {
                        throw fail("more than \(PathFilter.maxAlternatives) alternatives in one \"{...}\"")
                    }
                    group = nil
                    tokens.append(.alternatives(alternatives))
                }
                i += 1
            default:
                emit(.literal(c))
                i += 1
            }
        }
        if let g = group {
            throw fail("\"{\" at position \(g.start + 1) is never closed (expected \"}\")")
        }
        return tokens
    }

    /// Parses "[...]" starting at `start` (the "["); returns the token and the index after "]".
    static func parseClass(
        _ chars: [Character], from start: Int, fail: (String) -> SyncError
    ) throws -> (Token, Int) {
        var i = start + 1
        var negated = false
        if i < chars.count && (chars[i] == "!" || chars[i] == "^") {
            negated = true
            i += 1
        }
        var items: [ClosedRange<Character>] = []
        var first = true
        while i < chars.count {
            var c = chars[i]
            if c == "]" && !first {
                return (.characterClass(negated: negated, items: items), i + 1)
            }
            first = false
            if c == "\\" {
                guard i + 1 < chars.count else { break }
                i += 1
                c = chars[i]
            }
            i += 1
            // A range "a-z" unless the "-" is last before "]".
            if i + 1 < chars.count && chars[i] == "-" && chars[i + 1] != "]" {
                var end = chars[i + 1]
                i += 2
                if end == "\\" {
                    guard i < chars.count else { break }
                    end = chars[i]
                    i += 1
                }
                guard c <= end else {
                    throw fail("character range \"\(c)-\(end)\" runs backwards (expected the lower character first)")
                }
                items.append(c...end)
            } else {
                items.append(c...c)
            }
        }
        throw fail("\"[\" at position \(start + 1) is never closed (expected \"]\")")
    }

    /// Whether the pattern matches `path` (already normalized); directories also try "path/" for trailing `**`.
    func matches(_ path: String, asDirectory: Bool) -> Bool {
        if directoryOnly && !asDirectory { return false }
        let chars = Array(path)
        if matches(chars) { return true }
        return asDirectory && endsWithDoubleStar && matches(chars + ["/"])
    }

    /// Runs the glob over `text` as a set-of-positions automaton (no backtracking, O(tokens × length)).
    func matches(_ text: [Character]) -> Bool {
        let n = text.count
        var state = [Bool](repeating: false, count: n + 1)
        state[0] = true
        if !anchored {
            // Unanchored: may start at any component boundary, i.e. match the last N components.
            for j in 1..<max(n, 1) where text[j - 1] == "/" { state[j] = true }
        }
        for token in tokens {
            state = Self.step(state, token, text)
            if !state.contains(true) { return false }
        }
        return state[n]
    }

    static func step(_ state: [Bool], _ token: Token, _ text: [Character]) -> [Bool] {
        let n = text.count
        var next = [Bool](repeating: false, count: n + 1)
        switch token {
        case .star:
            for j in 0...n { next[j] = state[j] || (j > 0 && next[j - 1] && text[j - 1] != "/") }
        case .doubleStar:
            for j in 0...n { next[j] = state[j] || (j > 0 && next[j - 1]) }
        case .alternatives(let alternatives):
            for alternative in alternatives {
                var s = state
                for t in alternative { s = step(s, t, text) }
                for j in 0...n where s[j] { next[j] = true }
            }
        default:
            for j in 1...max(n, 1) where j <= n && state[j - 1] && token.accepts(text[j - 1]) { next[j] = true }
        }
        return next
    }
}
