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
    /// Pure arithmetic (Howard Hinnant's civil-from-days): Foundation's Calendar costs ~100 µs a call on Linux.
    static func format(_ time: Double) -> String {
        let t = time.isFinite ? min(max(time, -62_135_596_800), 253_402_300_799) : 0  // years 1...9999
        let whole = floor(t)
        let secs = Int64(whole)
        var days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        days += 719_468
        let era = (days >= 0 ? days : days - 146_096) / 146_097
        let doe = days - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        func pad(_ v: Int64, _ w: Int) -> String {
            let s = String(v)
            return s.count >= w ? s : String(repeating: "0", count: w - s.count) + s
        }
        var out = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(rem / 3600, 2)):\(pad(rem % 3600 / 60, 2)):\(pad(rem % 60, 2))"
        let millis = Int64(((t - whole) * 1000).rounded(.down))
        if millis > 0 { out += "." + pad(millis, 3) }
        return out + "Z"
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
