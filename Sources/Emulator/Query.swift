// Query-string parsing that keeps repeated parameters (batchGet's mediaItemIds=a&mediaItemIds=b).
import Foundation

/// The decoded query parameters of a request, in order.
struct Query: Sendable {
    /// Name/value pairs, percent-decoded, in request order.
    let pairs: [(String, String)]

    /// Parses a raw query string (without `?`).
    init(_ raw: String?) {
        guard let raw, !raw.isEmpty else { pairs = []; return }
        pairs = raw.split(separator: "&", omittingEmptySubsequences: true).map { part in
            let kv = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func dec(_ s: Substring) -> String {
                let plus = s.replacingOccurrences(of: "+", with: " ")
                return plus.removingPercentEncoding ?? plus
            }
            return (dec(kv[0]), kv.count > 1 ? dec(kv[1]) : "")
        }
    }

    /// The first value of `name`.
    func first(_ name: String) -> String? { pairs.first { $0.0 == name }?.1 }
    /// Every value of `name`, in order.
    func all(_ name: String) -> [String] { pairs.filter { $0.0 == name }.map(\.1) }
}
