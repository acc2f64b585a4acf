// Opaque identifiers shaped like Google's: long, URL-safe, not UUIDs.
import Foundation

/// Generators for ids and secrets.
enum Ids {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

    /// A random URL-safe string of `count` characters.
    static func random(_ count: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in alphabet[Int(rng.next(upperBound: UInt64(alphabet.count)))] })
    }

    /// An album or media item id: 76 characters starting with "A", like Google's.
    static func object() -> String { "A" + random(75) }
    /// An OAuth access token, shaped like Google's `ya29.` tokens.
    static func accessToken() -> String { "ya29.emu-" + random(120) }
    /// An OAuth refresh token, shaped like Google's `1//` tokens.
    static func refreshToken() -> String { "1//emu-" + random(96) }
    /// An upload token.
    static func uploadToken() -> String { "CAIS" + random(140) }

    /// Whether `s` looks like an id the API could have minted (URL-safe, bounded length).
    static func plausible(_ s: String) -> Bool {
        !s.isEmpty && s.count <= 512 && s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
