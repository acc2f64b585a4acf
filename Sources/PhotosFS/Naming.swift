// The naming rules of the mount: rclone-compatible encoding, `{ID}` dedupe and 255-byte shortening (pure, no I/O).
import Crypto
import Foundation

/// One entry of a directory before naming.
struct NameRequest: Sendable, Equatable {
    /// The name as Google has it (filename or album title component), not encoded.
    var rawName: String
    /// The media item or album id, used for the `{ID}` suffix.
    var id: String
    /// Directories get `Title {ID}`; files get `name {ID}.ext`.
    var isDirectory: Bool
}

/// rclone-compatible, kernel-safe names.
///
/// Encoding is rclone's default for the googlephotos backend, `Slash,CrLf,InvalidUtf8,Dot` (= `encoder.Base |
/// EncodeCrLf | EncodeInvalidUtf8`; Base also always encodes NUL). See docs/NAMING.md for the table.
enum Naming {
    /// Longest name the kernel takes (bytes of UTF-8, NAME_MAX).
    static let maxNameBytes = 255
    /// rclone's quote rune `‛` (U+201B): marks a character that stands for itself.
    static let quote: Unicode.Scalar = "\u{201B}"
    /// Extensions longer than this (bytes, dot included) are not kept apart when a name is shortened.
    static let maxExtensionBytes = 32
    /// Rounds of `{ID}` suffixing before the numeric fallback (each round only touches names that still clash).
    static let maxSuffixRounds = 4

    // MARK: Encoding

    /// Encodes one raw name (no dedupe): rclone's default encoding where the kernel can't carry a character.
    static func encode(_ raw: String) -> String {
        if !mayNeedEncoding(raw) { return raw }
        switch raw {
        case ".": return "\u{FF0E}"
        case "..": return "\u{FF0E}\u{FF0E}"
        case "\u{FF0E}": return "\u{201B}\u{FF0E}"
        case "\u{FF0E}\u{FF0E}": return "\u{201B}\u{FF0E}\u{201B}\u{FF0E}"
        default: break
        }
        var out = String.UnicodeScalarView()
        for s in raw.unicodeScalars {
            switch s.value {
            case 0x00, 0x0A, 0x0D: out.append(Unicode.Scalar(0x2400 + s.value)!)   // NUL LF CR → ␀ ␊ ␍
            case 0x2F: out.append("\u{FF0F}")                                        // / → ／
            case 0x2400, 0x240A, 0x240D, 0xFF0F, 0x201B: out.append(quote); out.append(s)  // literal ␀ ␊ ␍ ／ ‛
            default: out.append(s)
            }
        }
        return String(out)
    }

    /// Decodes a name typed by the user (mkdir/create/rename) into the raw title/filename to send to Google; inverse of encode.
    /// A `‛` not followed by a character encode quotes stays as it is (so any name decodes; see `isCanonical`).
    static func decode(_ name: String) -> String {
        if !mayNeedEncoding(name) { return name }
        switch name {
        case "\u{FF0E}": return "."
        case "\u{FF0E}\u{FF0E}": return ".."
        default: break
        }
        var out = String.UnicodeScalarView()
        var quoted = false
        for s in name.unicodeScalars {
            if quoted {
                quoted = false
                switch s.value {
                case 0x2400, 0x240A, 0x240D, 0xFF0F, 0x201B, 0xFF0E: out.append(s); continue
                default: out.append(quote)   // a lone quote is literal; fall through for `s`
                }
            }
            switch s.value {
            case 0x201B: quoted = true
            case 0x2400, 0x240A, 0x240D: out.append(Unicode.Scalar(s.value - 0x2400)!)
            case 0xFF0F: out.append("/")
            default: out.append(s)
            }
        }
        if quoted { out.append(quote) }
        return String(out)
    }

    /// True when `name` is exactly what the listing would show for `decode(name)`: a user-typed name that is not
    /// canonical (say a raw CR, or a `‛` that quotes nothing) would show differently after it is created.
    static func isCanonical(_ name: String) -> Bool {
        encode(decode(name)).utf8.elementsEqual(name.utf8)
    }

    /// Quick byte scan: false when the string certainly needs no encoding or decoding (the common case).
    /// Every special character is NUL, LF, CR, '/', '.'-only names, or a scalar whose UTF-8 lead byte is 0xE2/0xEF.
    @inline(__always)
    static func mayNeedEncoding(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { buf -> Bool in
            if buf.count <= 2, buf.allSatisfy({ $0 == 0x2E }) { return true }   // ".", ".."
            for b in buf {
                switch b {
                case 0x00, 0x0A, 0x0D, 0x2F, 0xE2, 0xEF: return true
                default: continue
                }
            }
            return false
        }
    }

    // MARK: Album titles

    /// An album title as path components under album/ ("Trips/2024/Rome" → ["Trips","2024","Rome"]), each encoded
    /// like a name; empty components dropped; a title that yields no component (e.g. "/" or "") becomes one encoded component.
    /// `titlePath("")` is `[""]`: only `displayNames` can name it (`{ID}`).
    static func titlePath(_ title: String) -> [String] {
        rawTitlePath(title).map(encode)
    }

    /// The same components NOT encoded: what to pass as `NameRequest.rawName` (displayNames encodes; passing
    /// `titlePath` output there would encode twice).
    static func rawTitlePath(_ title: String) -> [String] {
        let parts = title.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        return parts.isEmpty ? [title] : parts
    }

    // MARK: Directory listings

    /// Display names for one directory's entries, in input order: encoded, deduplicated (`name {ID}.ext` for files,
    /// `Title {ID}` for directories, both entries of a clash get the suffix, as rclone does), each ≤ 255 bytes UTF-8
    /// (long names shortened deterministically, keeping the extension and the {ID} so they stay unique and reachable),
    /// never "", ".", "..", never containing "/" or NUL.
    ///
    /// Clashes are found with Swift `String` equality, so names equal up to Unicode normalization also clash: a
    /// String-keyed lookup of the result is never ambiguous. The result never depends on input order except in the
    /// last-resort fallback (same raw name AND same id several times), where later entries get `~2`, `~3`…
    static func displayNames(_ entries: [NameRequest]) -> [String] {
        let n = entries.count
        if n == 0 { return [] }
        var encoded = [String](); encoded.reserveCapacity(n)
        var level = [Int](repeating: 0, count: n)   // how many " {ID}" suffixes each entry carries
        var names = [String](); names.reserveCapacity(n)
        for (i, e) in entries.enumerated() {
            let enc = encode(e.rawName)
            encoded.append(enc)
            if enc.isEmpty { level[i] = 1 }   // rclone: an empty name becomes `{ID}`
            // Fast path: most names are shown as they are.
            names.append(level[i] == 0 && enc.utf8.count <= maxNameBytes ? enc : render(enc, entry: e, level: level[i]))
        }
        // Rounds: every entry whose current name is shared gets one more `{ID}`. Bounded; each round is O(n).
        for _ in 0..<maxSuffixRounds {
            let clashing = clashes(names)
            if clashing.isEmpty { return names }
            for i in clashing {
                level[i] += 1
                names[i] = render(encoded[i], entry: entries[i], level: level[i])
            }
        }
        // Fallback (only when ids repeat): keep the first holder of a name, number the others.
        var taken = Set<String>(minimumCapacity: n)
        var dup = [Int]()
        for i in 0..<n where !taken.insert(names[i]).inserted { dup.append(i) }
        for i in dup {
            // Bounded: `taken` holds at most n names, so one of n + 1 distinct candidates is free.
            for k in 2...(n + 2) {
                let candidate = render(encoded[i], entry: entries[i], level: level[i], tag: "~\(k)")
                if taken.insert(candidate).inserted { names[i] = candidate; break }
            }
        }
        return names
    }

    /// Indices whose name occurs more than once.
    private static func clashes(_ names: [String]) -> [Int] {
        var first = [String: Int](minimumCapacity: names.count)
        var shared = [Bool](repeating: false, count: names.count)
        var any = false
        for (i, name) in names.enumerated() {
            if let j = first.updateValue(i, forKey: name) { shared[j] = true; shared[i] = true; any = true; first[name] = j }
        }
        return any ? shared.indices.filter { shared[$0] } : []
    }

    /// `encoded` with `level` × ` {ID}` (and an optional fallback tag) before the extension of a file, then shortened
    /// to ≤ 255 bytes if needed.
    private static func render(_ encoded: String, entry: NameRequest, level: Int, tag: String = "") -> String {
        let (base, ext) = entry.isDirectory ? (encoded, "") : splitExtension(encoded)
        var suffix = ""
        if level > 0 {
            let id = "{" + encode(entry.id) + "}"
            suffix = base.isEmpty ? id : " " + id
            for _ in 1..<max(level, 1) { suffix += " " + id }
        }
        suffix += tag
        let name = base + suffix + ext
        if name.utf8.count <= maxNameBytes { return name }
        return shorten(base: base, suffix: suffix, ext: ext, entry: entry)
    }

    /// rclone's `path.Ext`: from the last "." (included) to the end; "" when there is no dot.
    static func splitExtension(_ name: String) -> (base: String, ext: String) {
        guard let dot = name.utf8.lastIndex(of: 0x2E) else { return (name, "") }
        return (String(name[..<dot]), String(name[dot...]))
    }

    /// `prefix~HASH8 {ID}.ext` ≤ 255 bytes: the prefix is cut at a character boundary; HASH8 = first 8 hex digits of
    /// SHA-256 of the raw name, so two long names sharing a prefix stay apart. An over-long extension or id part
    /// is given up (and the id moves into the hash) rather than overflowing.
    private static func shorten(base: String, suffix: String, ext: String, entry: NameRequest) -> String {
        var ext = ext, suffix = suffix, hashInput = entry.rawName
        if ext.utf8.count > maxExtensionBytes { ext = "" }
        let hashBytes = 9   // "~" + 8 hex
        if hashBytes + suffix.utf8.count + ext.utf8.count > maxNameBytes - 16 {
            ext = ""
            if hashBytes + suffix.utf8.count > maxNameBytes - 16 {
                hashInput += "\u{0}" + entry.id + "\u{0}" + suffix
                suffix = ""
            }
        }
        let digest = SHA256.hash(data: Data(hashInput.utf8))
        let hex = digest.prefix(4).map { String(format: "%02x", $0) }.joined()
        let tail = "~" + hex + suffix + ext
        let budget = maxNameBytes - tail.utf8.count
        var prefix = ""
        var used = 0
        for ch in base {   // grapheme boundaries; stops at the budget, so at most ~255 bytes are walked
            let size = ch.utf8.count
            if used + size > budget { break }
            prefix.append(ch)
            used += size
        }
        return prefix + tail
    }
}
