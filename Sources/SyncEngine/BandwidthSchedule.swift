// rclone-style --bwlimit parsing (single limit, upload:download pair, daily or weekly timetable) and a shared rate limiter.
import Foundation
import Synchronization

/// A bandwidth limit in rclone's `--bwlimit` syntax, possibly changing by time of day and weekday.
public struct BandwidthSchedule: Sendable, Equatable, CustomStringConvertible {
    /// Upload and download limits in bytes per second; nil means unlimited.
    public struct Limit: Sendable, Equatable {
        /// Upload limit in bytes per second, nil = unlimited.
        public var upload: Int64?
        /// Download limit in bytes per second, nil = unlimited.
        public var download: Int64?

        /// Creates a limit pair.
        public init(upload: Int64?, download: Int64?) {
            self.upload = upload
            self.download = download
        }
    }

    /// One timetable entry: from `minuteOfDay` (on `weekday`, or every day when nil) the `limit` applies.
    public struct Entry: Sendable, Equatable {
        /// 1 = Monday ... 7 = Sunday, or nil for every day.
        public var weekday: Int?
        /// Minutes after midnight, 0...1439.
        public var minuteOfDay: Int
        /// The limit in force from this time.
        public var limit: Limit
    }

    /// The entries as written; a plain limit is a single entry at 00:00 with `isTimetable == false`.
    public let entries: [Entry]
    /// True when the text was a timetable ("HH:MM,LIMIT ...") rather than a single limit.
    public let isTimetable: Bool
    /// Entries expanded and sorted by minute of the day (daily) or of the week from Monday 00:00 (weekly).
    let slots: [(key: Int, limit: Limit)]
    let isWeekly: Bool

    static let expectedEntry = "expected HH:MM,LIMIT or Day-HH:MM,LIMIT, e.g. 08:00,512k or Mon-08:00,10M:1M"
    static let dayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    static let fullDayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// No limit at all.
    public static let unlimited = BandwidthSchedule(
        entries: [Entry(weekday: nil, minuteOfDay: 0, limit: Limit(upload: nil, download: nil))], isTimetable: false)

    /// Parses "10M", "off", "10M:1M", "08:00,512k 12:00,10M 18:00,off" or "Mon-08:00,512k Sat-00:00,off".
    public init(_ text: String) throws {
        let tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        guard !tokens.isEmpty else {
            throw SyncError(.usage, 
                "Invalid bandwidth limit \"\(text)\": it is empty (expected a limit such as 10M, off, "
                    + "10M:1M, or a timetable such as \"08:00,512k 18:00,off\")")
        }
        if tokens.count == 1 && !tokens[0].contains(",") {
            let limit = try Self.parseLimit(tokens[0], context: text)
            self.init(entries: [Entry(weekday: nil, minuteOfDay: 0, limit: limit)], isTimetable: false)
            return
        }
        var entries: [Entry] = []
        var daily: [(entry: Entry, token: Substring)] = []
        for token in tokens {
            let entry = try Self.parseEntry(token)
            if entry.weekday == nil {
                if let previous = daily.last, previous.entry.minuteOfDay >= entry.minuteOfDay {
                    throw SyncError(.usage, 
                        "Invalid time order: \(previous.token) \(token) (times in a daily timetable must strictly increase)"
                    )
                }
                daily.append((entry, token))
            }
            entries.append(entry)
        }
        let schedule = BandwidthSchedule(entries: entries, isTimetable: true)
        for i in schedule.slots.indices.dropFirst() where schedule.slots[i].key == schedule.slots[i - 1].key {
            let key = schedule.slots[i].key
            let clashing = zip(entries, tokens).filter { entry, _ in
                entry.weekday == nil ? entry.minuteOfDay == key % 1440 : schedule.slotKey(entry) == key
            }.map { String($0.1) }
            throw SyncError(.usage, 
                "Invalid time order: \(clashing.joined(separator: " ")) (two entries set the limit for the same time)")
        }
        self = schedule
    }

    init(entries: [Entry], isTimetable: Bool) {
        self.entries = entries
        self.isTimetable = isTimetable
        let weekly = entries.contains { $0.weekday != nil }
        self.isWeekly = weekly
        var slots: [(key: Int, limit: Limit)] = []
        for entry in entries {
            if weekly && entry.weekday == nil {
                for day in 0..<7 { slots.append((day * 1440 + entry.minuteOfDay, entry.limit)) }
            } else {
                slots.append((Self.slotKeyFor(entry), entry.limit))
            }
        }
        // Stable sort by key keeps input order for equal keys (rejected by the parser anyway).
        self.slots = slots.enumerated().sorted { ($0.element.key, $0.offset) < ($1.element.key, $1.offset) }
            .map(\.element)
    }

    static func slotKeyFor(_ entry: Entry) -> Int {
        ((entry.weekday ?? 1) - 1) * 1440 + entry.minuteOfDay
    }

    func slotKey(_ entry: Entry) -> Int { Self.slotKeyFor(entry) }

    /// Two schedules are equal when they have the same entries and form.
    public static func == (lhs: BandwidthSchedule, rhs: BandwidthSchedule) -> Bool {
        lhs.entries == rhs.entries && lhs.isTimetable == rhs.isTimetable
    }

    /// The limits in force at `date` (wall-clock time in `timeZone`), in bytes per second; nil = unlimited.
    public func limits(at date: Date, timeZone: TimeZone) -> (upload: Int64?, download: Int64?) {
        let limit = limit(at: date, timeZone: timeZone)
        return (limit.upload, limit.download)
    }

    /// The `Limit` in force at `date`; the entry in force is the last one at or before that time, wrapping around.
    public func limit(at date: Date, timeZone: TimeZone) -> Limit {
        guard let last = slots.last else { return Limit(upload: nil, download: nil) }
        if !isTimetable { return last.limit }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.weekday, .hour, .minute], from: date)
        let minuteOfDay = (c.hour ?? 0) * 60 + (c.minute ?? 0)
        let mondayBased = ((c.weekday ?? 2) + 5) % 7  // Calendar: 1 = Sunday; here 0 = Monday
        let key = isWeekly ? mondayBased * 1440 + minuteOfDay : minuteOfDay
        return slots.last(where: { $0.key <= key })?.limit ?? last.limit
    }

    /// The normalized text, e.g. "08:00,512k 12:00,10M 18:00,off"; parses back to an equal schedule.
    public var description: String {
        if !isTimetable, let only = entries.first { return Self.format(only.limit) }
        return entries.map { entry in
            let day = entry.weekday.map { Self.dayNames[$0 - 1] + "-" } ?? ""
            let h = entry.minuteOfDay / 60
            let m = entry.minuteOfDay % 60
            return "\(day)\(h < 10 ? "0" : "")\(h):\(m < 10 ? "0" : "")\(m),\(Self.format(entry.limit))"
        }.joined(separator: " ")
    }

    // MARK: - Parsing

    static func parseEntry(_ token: Substring) throws -> Entry {
        let parts = token.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            throw SyncError(.usage, "Invalid bandwidth timetable entry \"\(token)\": \(expectedEntry)")
        }
        var when = parts[0]
        var weekday: Int?
        if let dash = when.firstIndex(of: "-") {
            let name = when[when.startIndex..<dash].lowercased()
            let index =
                dayNames.firstIndex(where: { $0.lowercased() == name })
                ?? fullDayNames.firstIndex(of: name)
            guard let index else {
                throw SyncError(.usage, 
                    "Invalid bandwidth timetable entry \"\(token)\": \"\(when[when.startIndex..<dash])\" "
                        + "is not a weekday (expected Mon, Tue, Wed, Thu, Fri, Sat or Sun, or a full name)")
            }
            weekday = index + 1
            when = when[when.index(after: dash)...]
        }
        guard let minuteOfDay = parseTime(when) else {
            throw SyncError(.usage, 
                "Invalid bandwidth timetable entry \"\(token)\": \"\(when)\" is not a time "
                    + "(expected HH:MM from 00:00 to 23:59)")
        }
        let limit = try parseLimit(parts[1], context: String(token))
        return Entry(weekday: weekday, minuteOfDay: minuteOfDay, limit: limit)
    }

    /// "H:MM" or "HH:MM" as minutes after midnight.
    static func parseTime(_ text: Substring) -> Int? {
        let hm = text.split(separator: ":", omittingEmptySubsequences: false)
        guard hm.count == 2, (1...2).contains(hm[0].count), hm[1].count == 2,
            hm.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let h = Int(hm[0]), let m = Int(hm[1]), (0...23).contains(h), (0...59).contains(m)
        else { return nil }
        return h * 60 + m
    }

    /// "10M", "off", "0" or "10M:1M" (upload:download).
    static func parseLimit(_ text: Substring, context: String) throws -> Limit {
        let sides = text.split(separator: ":", omittingEmptySubsequences: false)
        let whereFound = text == context ? "" : " in \"\(context)\""
        guard sides.count <= 2 else {
            throw SyncError(.usage, 
                "Invalid bandwidth limit \"\(text)\"\(whereFound): expected LIMIT or UPLOAD:DOWNLOAD, e.g. 10M:1M")
        }
        var values: [Int64?] = []
        for side in sides {
            if side.lowercased() == "off" {
                values.append(nil)
                continue
            }
            do {
                let bytes = try SizeSuffix.parse(side)
                values.append(bytes == 0 ? nil : bytes)
            } catch {
                let place = side == context ? "" : " in \"\(context)\""
                throw SyncError(.usage, 
                    "Invalid bandwidth limit \"\(side)\"\(place): \(error.reason) "
                        + "(expected \"off\" or \(SizeSuffix.expected))")
            }
        }
        return Limit(upload: values[0], download: values.count == 2 ? values[1] : values[0])
    }

    static func format(_ limit: Limit) -> String {
        if limit.upload == limit.download { return format(limit.upload) }
        return "\(format(limit.upload)):\(format(limit.download))"
    }

    /// Bytes per second in the largest unit that divides it exactly: "10M", "1536k", "100b"; nil is "off".
    static func format(_ bytes: Int64?) -> String {
        guard let bytes else { return "off" }
        for (suffix, shift) in [("T", 40), ("G", 30), ("M", 20), ("k", 10)] {
            let unit = Int64(1) << Int64(shift)
            if bytes % unit == 0 { return "\(bytes / unit)\(suffix)" }
        }
        return "\(bytes)b"
    }
}

/// A token-bucket rate limiter shared by concurrent copy tasks; the limit is passed per call so it can change.
public final class RateLimiter: Sendable {
    /// Longest single sleep, so a changed limit takes effect within a second.
    public static let maxSleep: Duration = .milliseconds(500)
    /// Upper bound on sleep rounds in one `take`, after which it returns (it never blocks forever).
    static let maxRounds = 100_000

    struct State {
        /// Bytes that may be sent now; negative when callers are in debt and must wait.
        var tokens: Double = 0
        var last: ContinuousClock.Instant?

        /// Adds tokens for the time since the last refill; the bucket holds at most one second's worth.
        mutating func refill(now: ContinuousClock.Instant, limit: Int64) {
            let burst = Double(limit)
            if let last {
                tokens = min(burst, tokens + RateLimiter.seconds(now - last) * burst)
            } else {
                tokens = burst
            }
            last = now
        }

        /// Seconds until the bucket is out of debt at `limit`.
        func wait(limit: Int64) -> Double { tokens >= 0 ? 0 : -tokens / Double(limit) }
    }

    private let state = Mutex(State())
    private let clock = ContinuousClock()

    /// Creates a limiter with a full bucket.
    public init() {}

    /// Accounts for `bytes` about to be sent, sleeping as needed to stay under `limit` bytes per second (nil = unlimited).
    public func take(_ bytes: Int, limit: Int64?) async {
        guard bytes > 0 else { return }
        guard let limit, limit > 0 else {
            state.withLock { $0 = State() }
            return
        }
        var wait = state.withLock { s -> Double in
            s.refill(now: clock.now, limit: limit)
            s.tokens -= Double(bytes)
            return s.wait(limit: limit)
        }
        for _ in 0..<Self.maxRounds {
            if wait <= 0 { return }
            let nap = min(wait, Self.seconds(Self.maxSleep))
            do {
                try await Task.sleep(for: .nanoseconds(Int64(max(nap, 0.001) * 1e9)))
            } catch {
                return  // cancelled
            }
            wait = state.withLock { s -> Double in
                s.refill(now: clock.now, limit: limit)
                return s.wait(limit: limit)
            }
        }
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
    }
}
