// Cron schedules: parsing five cron fields, finding the next run, and converting to systemd OnCalendar= values.
import Foundation

/// A five-field cron schedule (`minute hour day-of-month month day-of-week`) with Vixie-cron semantics.
public struct CronSchedule: Sendable, Equatable, CustomStringConvertible {
    /// How far ahead `next(after:timeZone:)` searches before giving up (28 years covers leap days and weekday cycles).
    public static let searchLimitDays = 366 * 28

    let minute: CronField
    let hour: CronField
    let dayOfMonth: CronField
    let month: CronField
    let dayOfWeek: CronField

    /// Parses one cron expression such as `"0 3 * * *"`, or a macro such as `"@daily"`.
    public init(_ expression: String) throws {
        let trimmed = expression.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("@") {
            guard let expanded = Self.macros[trimmed.lowercased()] else {
                throw SyncError(.usage, 
                    "Invalid cron expression \"\(expression)\": unknown macro \"\(trimmed)\" "
                        + "(expected @yearly, @annually, @monthly, @weekly, @daily, @midnight or @hourly)")
            }
            try self.init(expanded)
            return
        }
        let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw SyncError(.usage, 
                "Invalid cron expression \"\(expression)\": expected 5 fields "
                    + "(minute hour day-of-month month day-of-week), found \(fields.count)")
        }
        try self.init(
            minute: fields[0], hour: fields[1], dayOfMonth: fields[2], month: fields[3], dayOfWeek: fields[4])
    }

    /// Builds a schedule from five separate fields, as TrueNAS stores them (minute defaults to "00", the rest to "*").
    public init(
        minute: String = "00", hour: String = "*", dayOfMonth: String = "*", month: String = "*",
        dayOfWeek: String = "*"
    ) throws {
        self.minute = try CronField.parse(minute, kind: .minute)
        self.hour = try CronField.parse(hour, kind: .hour)
        self.dayOfMonth = try CronField.parse(dayOfMonth, kind: .dayOfMonth)
        self.month = try CronField.parse(month, kind: .month)
        self.dayOfWeek = try CronField.parse(dayOfWeek, kind: .dayOfWeek)
    }

    static let macros: [String: String] = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]

    /// The normalized five-field expression (names replaced by numbers, leading zeros dropped).
    public var description: String {
        [minute, hour, dayOfMonth, month, dayOfWeek].map(\.text).joined(separator: " ")
    }

    /// True when `date`, read as wall-clock time in `timeZone`, falls in a minute this schedule fires.
    public func matches(_ date: Date, timeZone: TimeZone) -> Bool {
        let calendar = Self.calendar(timeZone)
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        guard let y = c.year, let mo = c.month, let d = c.day, let h = c.hour, let mi = c.minute else {
            return false
        }
        return minute.contains(mi) && hour.contains(h) && dayMatches(year: y, month: mo, day: d)
    }

    /// The first whole minute strictly after `after` that matches, or nil if none within `searchLimitDays`.
    ///
    /// Wall-clock times that do not exist (skipped by a daylight-saving jump) never fire. When clocks are set
    /// back, a schedule with specific hours fires only at the first occurrence of a repeated time, while one
    /// that fires every hour also fires during the repeated hour (as cronie does).
    public func next(after: Date, timeZone: TimeZone) -> Date? {
        let calendar = Self.calendar(timeZone)
        let first = search(calendar: calendar, startWallClock: after, strictlyAfter: after)
        // If clocks go back before the answer, wall-clock minutes already passed repeat; look there too.
        guard firesEveryHour, let transition = timeZone.nextDaylightSavingTimeTransition(after: after),
            first.map({ transition < $0 }) ?? true,
            transition.timeIntervalSince(after) < Double(Self.searchLimitDays) * 86_400,
            timeZone.secondsFromGMT(for: transition) < timeZone.secondsFromGMT(for: transition.addingTimeInterval(-1))
        else { return first }
        let repeated = search(calendar: calendar, startWallClock: transition, strictlyAfter: after)
        switch (first, repeated) {
        case let (a?, b?): return min(a, b)
        case let (a, b): return a ?? b
        }
    }

    /// systemd.time(7) `OnCalendar=` values that together fire exactly when this schedule does.
    ///
    /// When both day-of-month and day-of-week are restricted, cron fires when either matches
    /// but systemd requires both, so two values are returned: one per rule.
    public func systemdOnCalendar() -> [String] {
        let time = "\(hour.systemd(width: 2)):\(minute.systemd(width: 2)):00"
        let monthText = month.systemd(width: 2)
        let weekdays = weekdayText()
        if !dayOfMonth.isStar && !dayOfWeek.isStar {
            return [
                "*-\(monthText)-\(dayOfMonth.systemd(width: 2)) \(time)",
                "\(weekdays ?? "") *-\(monthText)-* \(time)".trimmingCharacters(in: .whitespaces),
            ]
        }
        let date = "*-\(monthText)-\(dayOfMonth.systemd(width: 2))"
        if let weekdays { return ["\(weekdays) \(date) \(time)"] }
        return ["\(date) \(time)"]
    }

    // MARK: - Internals

    /// True when the hour field allows all 24 hours.
    var firesEveryHour: Bool { hour.mask == (UInt64(1) << 24) - 1 }

    static func calendar(_ timeZone: TimeZone) -> Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }

    /// Vixie rule: if either day field starts with `*`, both must match; otherwise either may.
    func dayMatches(year: Int, month m: Int, day: Int) -> Bool {
        guard month.contains(m) else { return false }
        let domOK = dayOfMonth.contains(day)
        let dowOK = dayOfWeek.contains(CivilDate.weekday(year: year, month: m, day: day))
        if dayOfMonth.isStar || dayOfWeek.isStar { return domOK && dowOK }
        return domOK || dowOK
    }

    /// Day-of-week list in systemd's Monday-first order, or nil when every day is allowed.
    func weekdayText() -> String? {
        let names = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let order = [1, 2, 3, 4, 5, 6, 0]
        let allowed = order.map { dayOfWeek.contains($0) }
        if allowed.allSatisfy({ $0 }) { return nil }
        var parts: [String] = []
        var i = 0
        while i < order.count {
            guard allowed[i] else {
                i += 1
                continue
            }
            var j = i
            while j + 1 < order.count && allowed[j + 1] { j += 1 }
            switch j - i {
            case 0: parts.append(names[order[i]])
            case 1: parts.append("\(names[order[i]]),\(names[order[j]])")
            default: parts.append("\(names[order[i]])..\(names[order[j]])")
            }
            i = j + 1
        }
        return parts.joined(separator: ",")
    }

    /// Walks wall-clock days from `startWallClock`'s minute (inclusive) and returns the first real instant > `strictlyAfter`.
    func search(calendar: Calendar, startWallClock: Date, strictlyAfter after: Date) -> Date? {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: startWallClock)
        guard var y = c.year, var mo = c.month, var d = c.day, let startHour = c.hour, let startMinute = c.minute
        else { return nil }
        var firstDay = true
        var daysScanned = 0
        while daysScanned < Self.searchLimitDays {
            if !month.contains(mo) {
                // Skip the rest of this month in one step.
                daysScanned += CivilDate.daysInMonth(year: y, month: mo) - d + 1
                (y, mo, d) = mo == 12 ? (y + 1, 1, 1) : (y, mo + 1, 1)
                firstDay = false
                continue
            }
            if dayMatches(year: y, month: mo, day: d) {
                let fromHour = firstDay ? startHour : 0
                for h in fromHour..<24 where hour.contains(h) {
                    let fromMinute = (firstDay && h == startHour) ? startMinute : 0
                    for mi in fromMinute..<60 where minute.contains(mi) {
                        if let date = resolve(calendar, y, mo, d, h, mi, after: after) { return date }
                    }
                }
            }
            daysScanned += 1
            firstDay = false
            if d < CivilDate.daysInMonth(year: y, month: mo) {
                d += 1
            } else {
                (y, mo, d) = mo == 12 ? (y + 1, 1, 1) : (y, mo + 1, 1)
            }
        }
        return nil
    }

    /// The instant of a wall-clock minute that is > `after`, trying the later occurrence of a repeated time.
    func resolve(_ calendar: Calendar, _ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int, after: Date) -> Date? {
        let wanted = DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: 0)
        guard let date = calendar.date(from: wanted), isWallClock(calendar, date, y, mo, d, h, mi) else {
            return nil  // does not exist (daylight-saving gap)
        }
        if date > after { return date }
        guard firesEveryHour else { return nil }
        let zone = calendar.timeZone
        let shift = zone.secondsFromGMT(for: date) - zone.secondsFromGMT(for: date.addingTimeInterval(86_400))
        guard shift > 0 else { return nil }
        let later = date.addingTimeInterval(TimeInterval(shift))
        if later > after && isWallClock(calendar, later, y, mo, d, h, mi) { return later }
        return nil
    }

    func isWallClock(_ calendar: Calendar, _ date: Date, _ y: Int, _ mo: Int, _ d: Int, _ h: Int, _ mi: Int) -> Bool {
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return c.year == y && c.month == mo && c.day == d && c.hour == h && c.minute == mi && c.second == 0
    }
}

/// Proleptic Gregorian calendar arithmetic that needs no `Calendar`.
enum CivilDate {
    static func isLeap(_ y: Int) -> Bool { (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Day of week, 0 = Sunday ... 6 = Saturday.
    static func weekday(year: Int, month: Int, day: Int) -> Int {
        // Days since 1970-01-01 (a Thursday), after Howard Hinnant's days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let w = (days + 4) % 7
        return w < 0 ? w + 7 : w
    }
}

/// One parsed cron field: the set of allowed values plus its normalized text.
struct CronField: Sendable, Equatable {
    enum Kind: Sendable {
        case minute, hour, dayOfMonth, month, dayOfWeek

        var range: ClosedRange<Int> {
            switch self {
            case .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        var name: String {
            switch self {
            case .minute: "minute"
            case .hour: "hour"
            case .dayOfMonth: "day-of-month"
            case .month: "month"
            case .dayOfWeek: "day-of-week"
            }
        }

        var names: [String] {
            switch self {
            case .month: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            case .dayOfWeek: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            default: []
            }
        }

        /// Value of the first name in `names`.
        var firstNameValue: Int { self == .month ? 1 : 0 }

        var expected: String {
            switch self {
            case .month: "a number 1-12 or a name jan-dec"
            case .dayOfWeek: "a number 0-7 (0 and 7 are Sunday) or a name sun-sat"
            default: "a number \(range.lowerBound)-\(range.upperBound)"
            }
        }
    }

    /// One comma-separated term.
    struct Term: Sendable, Equatable {
        var start: Int?  // nil for "*"
        var end: Int?  // set for ranges "a-b"
        var step: Int?
    }

    let kind: Kind
    let terms: [Term]
    /// Bit i set when value i is allowed (day-of-week 7 is folded onto 0).
    let mask: UInt64
    /// True when the field text starts with `*` (Vixie cron's test for the day-matching rule).
    let isStar: Bool

    func contains(_ value: Int) -> Bool {
        value >= 0 && value < 64 && mask & (UInt64(1) << UInt64(value)) != 0
    }

    /// Normalized cron text of the field.
    var text: String {
        terms.map { term in
            var s: String
            switch (term.start, term.end) {
            case (nil, _): s = "*"
            case let (a?, nil): s = "\(a)"
            case let (a?, b?): s = "\(a)-\(b)"
            }
            if let step = term.step { s += "/\(step)" }
            return s
        }.joined(separator: ",")
    }

    /// systemd.time(7) text of the field (not used for day-of-week).
    func systemd(width: Int) -> String {
        if terms.count == 1 && terms[0].start == nil && terms[0].step == nil { return "*" }
        func pad(_ n: Int) -> String {
            let s = String(n)
            return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
        }
        return terms.map { term in
            var s: String
            switch (term.start, term.end) {
            case (nil, _): s = pad(kind.range.lowerBound)
            case let (a?, nil): s = pad(a)
            case let (a?, b?): s = "\(pad(a))..\(pad(b))"
            }
            if let step = term.step { s += "/\(step)" }
            return s
        }.joined(separator: ",")
    }

    static func parse(_ raw: String, kind: Kind) throws -> CronField {
        let text = raw.trimmingCharacters(in: .whitespaces)
        func fail(_ why: String) -> SyncError {
            SyncError(.usage, "Invalid \(kind.name) field \"\(raw)\": \(why)")
        }
        guard !text.isEmpty else { throw fail("the field is empty (expected \(kind.expected), \"*\", a list, range or step)") }
        guard !text.contains(where: { $0.isWhitespace }) else {
            throw fail("the field contains whitespace (expected \(kind.expected), \"*\", a list, range or step)")
        }
        let range = kind.range
        var terms: [Term] = []
        var mask: UInt64 = 0
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !part.isEmpty else { throw fail("empty list item (expected items separated by single commas)") }
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw fail("\"\(part)\" has more than one \"/\"") }
            var step: Int?
            if pieces.count == 2 {
                let stepText = pieces[1]
                guard let s = number(stepText), s >= 1, s <= range.count else {
                    throw fail("step \"\(stepText)\" in \"\(part)\" is not a number 1-\(range.count)")
                }
                step = s
            }
            let base = pieces[0]
            var term = Term(start: nil, end: nil, step: step)
            var low = range.lowerBound
            var high = kind == .dayOfWeek ? 6 : range.upperBound
            if base == "*" {
                // whole range
            } else {
                let ends = base.split(separator: "-", omittingEmptySubsequences: false)
                guard ends.count <= 2 else { throw fail("\"\(part)\" is not a valid range (expected a-b)") }
                let a = try value(ends[0], kind: kind, field: raw)
                low = a
                high = a
                term.start = a
                if ends.count == 2 {
                    var b = try value(ends[1], kind: kind, field: raw)
                    if kind == .dayOfWeek && b == 0 && a > 0 { b = 7 }  // "fri-sun"
                    guard a <= b else {
                        throw fail("range \"\(base)\" runs backwards (expected the start to be at most the end)")
                    }
                    high = b
                    term.end = b
                } else if step != nil {
                    // "a/s" means a through the end of the range.
                    high = kind == .dayOfWeek ? max(6, a) : range.upperBound
                }
            }
            let stride = step ?? 1
            var v = low
            while v <= high {
                let bit = kind == .dayOfWeek && v == 7 ? 0 : v
                mask |= UInt64(1) << UInt64(bit)
                v += stride
            }
            terms.append(term)
        }
        return CronField(kind: kind, terms: terms, mask: mask, isStar: text.hasPrefix("*"))
    }

    static func number(_ text: Substring) -> Int? {
        guard !text.isEmpty, text.count <= 4, text.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(text)
    }

    static func value(_ text: Substring, kind: Kind, field: String) throws -> Int {
        if let n = number(text) {
            guard kind.range.contains(n) else {
                throw SyncError(.usage, 
                    "Invalid \(kind.name) field \"\(field)\": \(n) is out of range (expected \(kind.expected))")
            }
            return n
        }
        if let index = kind.names.firstIndex(of: text.lowercased()) {
            return index + kind.firstNameValue
        }
        throw SyncError(.usage, "Invalid \(kind.name) field \"\(field)\": \"\(text)\" is not \(kind.expected)")
    }
}
