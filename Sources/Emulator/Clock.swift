// The one injectable clock every time rule reads; the control API advances it.
import Foundation
import Synchronization

/// Wall time plus an offset that tests advance; persisted with the state.
final class EmulatorClock: Sendable {
    private let offset: Mutex<Double>

    /// A clock starting `offset` seconds ahead of the wall clock.
    init(offset: Double) { self.offset = Mutex(offset) }

    /// Seconds since 1970 on the emulator's clock.
    func now() -> Double { Date().timeIntervalSince1970 + offset.withLock { $0 } }

    /// The current offset from the wall clock, in seconds.
    var currentOffset: Double { offset.withLock { $0 } }

    /// Moves the clock forward by `seconds` (never backwards) and returns the new offset.
    func advance(by seconds: Double) -> Double {
        offset.withLock { $0 += max(0, seconds); return $0 }
    }

    /// Sets the offset (reset).
    func set(offset value: Double) { offset.withLock { $0 = value } }
}

/// RFC 3339 time formatting the way Google writes it (UTC, `Z`).
enum RFC3339 {
    /// Formats seconds since 1970 as `2024-05-01T10:00:00Z` (fractional seconds when present).
    static func format(_ t: Double) -> String {
        let whole = floor(t)
        let date = Date(timeIntervalSince1970: whole)
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        let c = cal.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        var s = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", c.year!, c.month!, c.day!, c.hour!, c.minute!, c.second!)
        let frac = t - whole
        if frac > 0.0005 { s += String(format: ".%03d", Int((frac * 1000).rounded(.down))) }
        return s + "Z"
    }

    /// Parses an RFC 3339 timestamp; nil when malformed.
    static func parse(_ s: String) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: s) { return d.timeIntervalSince1970 }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: s)?.timeIntervalSince1970
    }

    /// A proto3 Duration string such as "5s" or "0.5s".
    static func duration(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }
}
