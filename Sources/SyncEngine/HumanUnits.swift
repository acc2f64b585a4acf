// Human-readable sizes, rates and durations, the shared size-suffix parser, and the one-line progress display.
import Foundation

/// Formatting and parsing of byte counts, rates and durations for people to read.
public enum HumanUnits {
    /// A byte count with binary units and three significant digits: "0 B", "1023 B", "1.00 KiB", "12.3 MiB", "456 GiB".
    public static func bytes(_ n: Int64) -> String {
        let sign = n < 0 ? "-" : ""
        let magnitude = n.magnitude
        if magnitude < 1024 { return "\(sign)\(magnitude) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var unit = 0
        var value = Double(magnitude) / 1024
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        var text = threeDigits(value)
        if text.rounded >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
            text = threeDigits(value)
        }
        return "\(sign)\(text.string) \(units[unit])"
    }

    /// A transfer rate such as "12.3 MiB/s"; negative or non-finite rates show as "0 B/s".
    public static func rate(_ bytesPerSecond: Double) -> String {
        guard bytesPerSecond.isFinite, bytesPerSecond > 0 else { return "0 B/s" }
        let clamped = min(bytesPerSecond.rounded(), 9.0e18)
        return bytes(Int64(clamped)) + "/s"
    }

    /// A compact duration: "45s", "3m07s", "2h05m", "3d04h"; non-finite values show as "--".
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "--" }
        let total = seconds <= 0 ? 0 : Int64(min(seconds.rounded(), 9.0e15))
        func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if total < 60 { return "\(total)s" }
        if total < 3600 { return "\(total / 60)m\(two(total % 60))s" }
        if total < 86_400 { return "\(total / 3600)h\(two(total % 3600 / 60))m" }
        return "\(total / 86_400)d\(two(total % 86_400 / 3600))h"
    }

    /// Parses a size such as "512k", "1.5M", "10G", "100" (no suffix = KiB) or "524288b" into bytes.
    ///
    /// Suffixes (case-insensitive letter): b = bytes, k = KiB, m = MiB, g = GiB, t = TiB, p = PiB;
    /// k..p may be followed by "i", "iB" or "B" ("10MiB"). A space may separate number and suffix.
    public static func parseSize(_ text: String) throws -> Int64 {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        do {
            return try SizeSuffix.parse(Substring(trimmed))
        } catch {
            throw SyncError(.usage, "Invalid size \"\(text)\": \(error.reason) (expected \(SizeSuffix.expected))")
        }
    }

    /// A value rounded to three significant digits, and the rounded number itself.
    static func threeDigits(_ value: Double) -> (string: String, rounded: Double) {
        var decimals = value < 10 ? 2 : (value < 100 ? 1 : 0)
        var rounded = round(value, decimals)
        if decimals == 2 && rounded >= 10 {
            decimals = 1
            rounded = round(value, 1)
        }
        if decimals == 1 && rounded >= 100 {
            decimals = 0
            rounded = round(value, 0)
        }
        return (fixed(value, decimals), rounded)
    }

    static func round(_ value: Double, _ decimals: Int) -> Double {
        let scale = decimals == 2 ? 100.0 : (decimals == 1 ? 10.0 : 1.0)
        return (value * scale).rounded() / scale
    }

    /// `value` with exactly `decimals` (0-2) digits after the point, without locale effects.
    static func fixed(_ value: Double, _ decimals: Int) -> String {
        let scale: Int64 = decimals == 2 ? 100 : (decimals == 1 ? 10 : 1)
        let scaled = Int64((value * Double(scale)).rounded())
        if decimals == 0 { return "\(scaled)" }
        let fraction = String(scaled % scale)
        let padded = String(repeating: "0", count: max(0, decimals - fraction.count)) + fraction
        return "\(scaled / scale).\(padded)"
    }
}

/// The size-suffix rules shared by `HumanUnits.parseSize` and `BandwidthSchedule`.
enum SizeSuffix {
    /// Why a size could not be parsed.
    struct Problem: Error {
        let reason: String
    }

    static let expected = "a number with an optional suffix b, k, M, G, T or P, e.g. 512k, 1.5M or 10G"

    /// Parses "<number>[suffix]" into bytes; no suffix means KiB.
    static func parse(_ text: Substring) throws(Problem) -> Int64 {
        guard !text.isEmpty else { throw Problem(reason: "the size is empty") }
        let numberEnd = text.firstIndex(where: { !($0.isASCII && ($0.isNumber || $0 == ".")) }) ?? text.endIndex
        let number = text[text.startIndex..<numberEnd]
        let suffix = text[numberEnd...].drop(while: { $0 == " " })
        guard number.contains(where: { $0.isNumber }), number.filter({ $0 == "." }).count <= 1 else {
            throw Problem(reason: "\"\(number.isEmpty ? text : number)\" is not a number")
        }
        guard let multiplier = multiplier(for: suffix) else {
            throw Problem(reason: "unknown suffix \"\(suffix)\"")
        }
        if !number.contains(".") {
            guard let whole = Int64(number) else { throw Problem(reason: "\"\(text)\" is too large") }
            let (product, overflow) = whole.multipliedReportingOverflow(by: multiplier)
            guard !overflow else { throw Problem(reason: "\"\(text)\" is too large") }
            return product
        }
        guard let value = Double(number.hasPrefix(".") ? "0" + number : String(number)) else {
            throw Problem(reason: "\"\(number)\" is not a number")
        }
        let bytes = (value * Double(multiplier)).rounded()
        guard bytes < 9.2e18 else { throw Problem(reason: "\"\(text)\" is too large") }
        return Int64(bytes)
    }

    /// Bytes per unit for a suffix, or nil when the suffix is not recognised.
    static func multiplier(for suffix: Substring) -> Int64? {
        guard let letter = suffix.first else { return 1024 }
        let shift: Int64
        switch letter {
        case "b", "B": return suffix.count == 1 ? 1 : nil
        case "k", "K": shift = 10
        case "m", "M": shift = 20
        case "g", "G": shift = 30
        case "t", "T": shift = 40
        case "p", "P": shift = 50
        default: return nil
        }
        let rest = suffix.dropFirst()
        guard rest.isEmpty || rest == "i" || rest == "iB" || rest == "B" else { return nil }
        return Int64(1) << shift
    }
}

/// One terminal line of transfer progress, e.g. `[=====>    ]  120/2000 items  1.20 GiB/5.00 GiB  45.3 MiB/s  ETA 1m23s`.
public struct ProgressLine: Sendable, Equatable {
    /// Items (files) finished so far.
    public var itemsDone: Int
    /// Items expected in total.
    public var itemsTotal: Int
    /// Bytes transferred so far.
    public var bytesDone: Int64
    /// Bytes expected in total.
    public var bytesTotal: Int64
    /// Current transfer rate in bytes per second.
    public var rate: Double

    /// Widest the bar's inside gets, however wide the terminal.
    public static let maxBarWidth = 40
    /// Narrowest bar inside worth drawing; below this the bar is dropped.
    public static let minBarWidth = 5

    /// Creates a progress snapshot.
    public init(itemsDone: Int, itemsTotal: Int, bytesDone: Int64, bytesTotal: Int64, rate: Double) {
        self.itemsDone = itemsDone
        self.itemsTotal = itemsTotal
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.rate = rate
    }

    /// Fraction complete (0...1), by bytes when a byte total is known, else by items.
    public var fraction: Double {
        let f: Double
        if bytesTotal > 0 {
            f = Double(bytesDone) / Double(bytesTotal)
        } else if itemsTotal > 0 {
            f = Double(itemsDone) / Double(itemsTotal)
        } else {
            f = 0
        }
        return f.isFinite ? min(max(f, 0), 1) : 0
    }

    /// Estimated time left: "0s" when done, "--" when the rate is zero or unknown.
    public var eta: String {
        let remaining = max(0, bytesTotal - bytesDone)
        if remaining == 0 { return "0s" }
        guard rate.isFinite, rate > 0 else { return "--" }
        return HumanUnits.duration(Double(remaining) / rate)
    }

    /// The line fitted into `width` columns: the bar goes first, then the rate, the byte counts and the ETA.
    public func render(width: Int) -> String {
        guard width > 0 else { return "" }
        var parts = [
            "\(itemsDone)/\(itemsTotal) items",
            "\(HumanUnits.bytes(bytesDone))/\(HumanUnits.bytes(bytesTotal))",
            HumanUnits.rate(rate),
            "ETA \(eta)",
        ]
        let separator = "  "
        var text = parts.joined(separator: separator)
        let barInside = min(Self.maxBarWidth, width - text.count - separator.count - 2)
        if barInside >= Self.minBarWidth {
            return bar(inside: barInside) + separator + text
        }
        // Drop parts, least useful first: rate, byte counts, ETA.
        for index in [2, 1, 1] where text.count > width {
            parts.remove(at: index)
            text = parts.joined(separator: separator)
        }
        return text.count > width ? String(text.prefix(width)) : text
    }

    /// "[=====>     ]" with `inside` columns between the brackets.
    func bar(inside: Int) -> String {
        let f = fraction
        if f >= 1 { return "[" + String(repeating: "=", count: inside) + "]" }
        let filled = min(inside - 1, Int(f * Double(inside)))
        return "[" + String(repeating: "=", count: filled) + ">"
            + String(repeating: " ", count: inside - filled - 1) + "]"
    }
}
