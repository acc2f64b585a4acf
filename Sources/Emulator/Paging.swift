// Pagination the way Google does it: opaque page tokens, per-method size limits, short pages that still carry a token.
import Crypto
import Foundation

/// The page size rules of one list method.
struct PageRule: Sendable {
    /// Size when pageSize is absent or 0.
    let defaultSize: Int
    /// Largest allowed size.
    let maxSize: Int
    /// Whether oversize is always coerced (Picker API documents coercion), ignoring the knob.
    var alwaysCoerce = false

    static let albums = PageRule(defaultSize: 20, maxSize: 50)
    static let mediaItems = PageRule(defaultSize: 25, maxSize: 100)
    static let picker = PageRule(defaultSize: 50, maxSize: 100, alwaysCoerce: true)
}

/// One page cut from a full ordered result.
struct Page<T: Sendable>: Sendable {
    let items: [T]
    let nextPageToken: String?
}

extension Emulator {
    /// Resolves the effective page size, or throws 400 for a negative or (by knob) oversized value.
    func pageSize(_ requested: Int?, rule: PageRule) throws(APIError) -> Int {
        guard let n = requested, n != 0 else { return rule.defaultSize }
        if n < 0 { throw .invalid("Page size must be non-negative.") }
        if n > rule.maxSize {
            if rule.alwaysCoerce || config.oversizedPageSize == "coerce" { return rule.maxSize }
            throw .invalid("Page size must be less than or equal to \(rule.maxSize).")
        }
        return n
    }

    /// Cuts page `token` from `all`. `queryKey` names the query; with `bindPageTokens` a token from another query is a 400.
    /// With `shortPageEvery` = N, every Nth page of a listing holds fewer items (possibly none) and still has a token.
    func paginate<T: Sendable>(_ all: [T], size: Int, token: String?, queryKey: String) throws(APIError) -> Page<T> {
        try paginate(size: size, token: token, queryKey: queryKey) { offset, limit in
            let start = min(offset, all.count)
            return Array(all[start..<min(all.count, start + limit)])
        }
    }

    /// The same page, with `fetch(offset, limit)` reading only the rows the page needs (SQL LIMIT/OFFSET over an
    /// index), so a page deep in a 100,000-item album costs one page, not one scan of every id.
    func paginate<T: Sendable>(size: Int, token: String?, queryKey: String,
                               fetch: (_ offset: Int, _ limit: Int) throws -> [T]) throws(APIError) -> Page<T> {
        var offset = 0
        var ordinal = 1
        let qhash = Emulator.base64url(Data(SHA256.hash(data: Data(queryKey.utf8))).prefix(9))
        if let token, !token.isEmpty {
            guard let raw = Emulator.unbase64url(token), let text = String(data: raw, encoding: .utf8) else {
                throw .invalid("Invalid page token.")
            }
            let f = text.split(separator: "|").map(String.init)
            guard f.count == 4, f[0] == "pt1", let o = Int(f[1]), let k = Int(f[2]), o >= 0, k >= 1 else {
                throw .invalid("Invalid page token.")
            }
            if config.bindPageTokens && f[3] != qhash {
                throw .invalid("The page token does not match the request it is used with.")
            }
            offset = o; ordinal = k
        }
        func makeToken(_ o: Int, _ k: Int) -> String { Emulator.base64url(Data("pt1|\(o)|\(k)|\(qhash)".utf8)) }
        // One row past the page says whether another page follows.
        let window: [T]
        do { window = try fetch(offset, size + 1) } catch { throw .internalError() }
        var take = min(size, window.count)
        let every = config.shortPageEvery
        if every > 0 && ordinal % every == 0 && !window.isEmpty {
            // Alternate between empty and half-size pages so clients meet both.
            take = (ordinal / every) % 2 == 1 ? 0 : take / 2
        }
        let next = window.count > take ? makeToken(offset + take, ordinal + 1) : nil
        return Page(items: Array(window[0..<take]), nextPageToken: next)
    }
}
