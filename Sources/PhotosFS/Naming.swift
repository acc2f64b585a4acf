// PLACEHOLDER naming rules (the naming helper's Naming.swift replaces this file at merge; same signatures).
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

/// Minimal naming: "/" → "／", "." / ".." / "" encoded, duplicates get " {id}" (before the extension for files).
enum Naming {
    /// Encodes one raw name.
    static func encode(_ raw: String) -> String {
        switch raw {
        case "": return "\u{FF3F}"
        case ".": return "\u{FF0E}"
        case "..": return "\u{FF0E}\u{FF0E}"
        default: return raw.replacingOccurrences(of: "/", with: "\u{FF0F}").replacingOccurrences(of: "\0", with: "\u{2400}")
        }
    }

    /// Inverse of encode.
    static func decode(_ name: String) -> String {
        switch name {
        case "\u{FF0E}": return "."
        case "\u{FF0E}\u{FF0E}": return ".."
        default: return name.replacingOccurrences(of: "\u{FF0F}", with: "/")
        }
    }

    /// A title as encoded path components (empty components dropped; at least one component).
    static func titlePath(_ title: String) -> [String] { rawTitlePath(title).map(encode) }

    /// A title as raw path components: what `NameRequest.rawName` takes.
    static func rawTitlePath(_ title: String) -> [String] {
        let parts = title.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        return parts.isEmpty ? [title] : parts
    }

    /// Display names for one directory's entries, in input order (encoded, duplicates suffixed with their id).
    static func displayNames(_ entries: [NameRequest]) -> [String] {
        let encoded = entries.map { encode($0.rawName) }
        var counts: [String: Int] = [:]
        for e in encoded { counts[e, default: 0] += 1 }
        return zip(entries, encoded).map { req, name in
            guard counts[name, default: 0] > 1 else { return name }
            if req.isDirectory { return "\(name) {\(req.id)}" }
            if let dot = name.lastIndex(of: "."), dot != name.startIndex {
                return "\(name[..<dot]) {\(req.id)}\(name[dot...])"
            }
            return "\(name) {\(req.id)}"
        }
    }
}
