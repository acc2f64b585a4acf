// Tests for CronSchedule: parsing, matching, next-run search, error messages and systemd conversion.
import Foundation
import Testing

@testable import SyncEngine

let utc = TimeZone.gmt

/// A wall-clock date in `zone`.
func wallClock(_ y: Int, _ mo: Int, _ d: Int, _ h: Int = 0, _ mi: Int = 0, _ s: Int = 0, in zone: TimeZone = utc)
    throws -> Date
{
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = zone
    return try #require(calendar.date(from: DateComponents(year: y, month: mo, day: d, hour: h, minute: mi, second: s)))
}

/// Errors' messages, or nil when nothing was thrown.
func message(_ body: () throws -> Void) -> String? {
    do {
        try body()
        return nil
    } catch {
        return "\(error)"
    }
}

@Suite struct CronParsingTests {
    @Test func normalizesDescription() throws {
        #expect(try CronSchedule("0 3 * * *").description == "0 3 * * *")
        #expect(try CronSchedule("  00   03 * *\t* ").description == "0 3 * * *")
        #expect(try CronSchedule("*/15 9-17 1,15 JAN-mar Mon-FRI").description == "*/15 9-17 1,15 1-3 1-5")
        #expect(try CronSchedule("10-50/20 5/6 * * *").description == "10-50/20 5/6 * * *")
        #expect(try CronSchedule("@daily").description == "0 0 * * *")
        #expect(try CronSchedule("0 3 * * *") == CronSchedule("00 03 * * *"))
    }

    @Test func separateTrueNASFields() throws {
        #expect(try CronSchedule().description == "0 * * * *")
        #expect(try CronSchedule(minute: "00", hour: "3").description == "0 3 * * *")
        #expect(
            try CronSchedule(minute: "30", hour: "2", dayOfMonth: "*", month: "*", dayOfWeek: "7")
                == CronSchedule("30 2 * * 7"))
    }

    @Test func stepsExpand() throws {
        let quarter = try CronSchedule("*/15 * * * *")
        for m in 0..<60 {
            #expect(quarter.minute.contains(m) == (m % 15 == 0), "minute \(m)")
        }
        let ranged = try CronSchedule("10-50/20 * * * *")
        #expect((0..<60).filter { ranged.minute.contains($0) } == [10, 30, 50])
        let open = try CronSchedule("5/20 */6 * */4 *")
        #expect((0..<60).filter { open.minute.contains($0) } == [5, 25, 45])
        #expect((0..<24).filter { open.hour.contains($0) } == [0, 6, 12, 18])
        #expect((1...12).filter { open.month.contains($0) } == [1, 5, 9])
    }

    @Test func namesAreCaseInsensitive() throws {
        let s = try CronSchedule("0 0 * Jan,jul,DEC sun,Wed")
        #expect((1...12).filter { s.month.contains($0) } == [1, 7, 12])
        #expect((0...6).filter { s.dayOfWeek.contains($0) } == [0, 3])
        let weekend = try CronSchedule("0 0 * * fri-sun")
        #expect((0...6).filter { weekend.dayOfWeek.contains($0) } == [0, 5, 6])
    }

    @Test func dayOfWeekSevenIsSunday() throws {
        let seven = try CronSchedule("0 12 * * 7")
        let zero = try CronSchedule("0 12 * * 0")
        let sunday = try wallClock(2025, 6, 1, 12, 0)  // a Sunday
        #expect(seven.matches(sunday, timeZone: utc))
        #expect(zero.matches(sunday, timeZone: utc))
        let monday = try wallClock(2025, 6, 2, 12, 0)
        #expect(!seven.matches(monday, timeZone: utc))
        let after = try wallClock(2025, 6, 2)
        #expect(seven.next(after: after, timeZone: utc) == zero.next(after: after, timeZone: utc))
        #expect(try seven.next(after: after, timeZone: utc) == wallClock(2025, 6, 8, 12, 0))
        let range = try CronSchedule("0 0 * * 5-7")
        #expect((0...6).filter { range.dayOfWeek.contains($0) } == [0, 5, 6])
    }

    @Test(arguments: [
        ("61 * * * *", ["61", "minute", "0-59"]),
        ("* 24 * * *", ["24", "hour", "0-23"]),
        ("* * 0 * *", ["0", "day-of-month", "1-31"]),
        ("* * 32 * *", ["32", "day-of-month"]),
        ("* * * 13 *", ["13", "month", "1-12"]),
        ("* * * * 8", ["8", "day-of-week", "0-7"]),
        ("* * * foo *", ["foo", "jan-dec"]),
        ("*/0 * * * *", ["*/0", "step"]),
        ("5-1 * * * *", ["5-1", "backwards"]),
        ("1,,2 * * * *", ["1,,2", "empty list item"]),
        ("1-2-3 * * * *", ["1-2-3"]),
        ("-5 * * * *", ["-5"]),
        ("", ["expected 5 fields", "found 0"]),
        ("   ", ["expected 5 fields", "found 0"]),
        ("0 3 * * * *", ["\"0 3 * * * *\"", "expected 5 fields", "found 6"]),
        ("0 3 * *", ["found 4"]),
        ("@sometimes", ["@sometimes", "@daily"]),
    ])
    func invalidExpressions(text: String, fragments: [String]) {
        let text = text
        let error = message { _ = try CronSchedule(text) }
        #expect(error != nil, "\"\(text)\" should not parse")
        for fragment in fragments {
            #expect(error?.contains(fragment) == true, "\(error ?? "nil") should mention \(fragment)")
        }
    }

    @Test func invalidSeparateField() {
        let error = message { _ = try CronSchedule(minute: "", hour: "3") }
        #expect(error?.contains("minute field \"\"") == true)
        #expect(error?.contains("empty") == true)
        let spaced = message { _ = try CronSchedule(minute: "0", hour: "1 2") }
        #expect(spaced?.contains("whitespace") == true)
    }

    @Test func errorIsLocalized() {
        do {
            _ = try CronSchedule("61 * * * *")
            Issue.record("expected an error")
        } catch let error as SyncError {
            #expect(error.errorDescription == error.message)
            #expect(error.localizedDescription.contains("61"))
        } catch {
            Issue.record("wrong error type \(error)")
        }
    }
}

@Suite struct CronNextTests {
    @Test func nextIsStrictlyAfter() throws {
        let s = try CronSchedule("0 3 * * *")
        #expect(try s.next(after: wallClock(2025, 5, 10, 2, 59, 30), timeZone: utc) == wallClock(2025, 5, 10, 3, 0))
        #expect(try s.next(after: wallClock(2025, 5, 10, 3, 0), timeZone: utc) == wallClock(2025, 5, 11, 3, 0))
        #expect(try s.next(after: wallClock(2025, 5, 10, 3, 0, 1), timeZone: utc) == wallClock(2025, 5, 11, 3, 0))
        let every = try CronSchedule("* * * * *")
        #expect(try every.next(after: wallClock(2025, 5, 10, 3, 0, 0), timeZone: utc) == wallClock(2025, 5, 10, 3, 1))
        #expect(try every.next(after: wallClock(2025, 5, 10, 3, 0, 59), timeZone: utc) == wallClock(2025, 5, 10, 3, 1))
    }

    @Test func nextAcrossMonthAndYearEnds() throws {
        let first = try CronSchedule("0 0 1 * *")
        #expect(try first.next(after: wallClock(2025, 1, 31, 12), timeZone: utc) == wallClock(2025, 2, 1))
        #expect(try first.next(after: wallClock(2025, 12, 31, 23, 59), timeZone: utc) == wallClock(2026, 1, 1))
        let thirtyFirst = try CronSchedule("30 23 31 * *")
        #expect(try thirtyFirst.next(after: wallClock(2025, 1, 31, 23, 30), timeZone: utc) == wallClock(2025, 3, 31, 23, 30))
        #expect(try thirtyFirst.next(after: wallClock(2025, 4, 1), timeZone: utc) == wallClock(2025, 5, 31, 23, 30))
        let quarterly = try CronSchedule("15 4 1 */3 *")
        #expect(try quarterly.next(after: wallClock(2025, 4, 1, 4, 15), timeZone: utc) == wallClock(2025, 7, 1, 4, 15))
    }

    @Test func leapDay() throws {
        let s = try CronSchedule("0 0 29 2 *")
        #expect(try s.next(after: wallClock(2025, 3, 1), timeZone: utc) == wallClock(2028, 2, 29))
        #expect(try s.next(after: wallClock(2028, 2, 29), timeZone: utc) == wallClock(2032, 2, 29))
        // 2100 is not a leap year.
        #expect(try s.next(after: wallClock(2096, 3, 1), timeZone: utc) == wallClock(2104, 2, 29))
    }

    @Test func impossibleScheduleGivesNil() throws {
        let s = try CronSchedule("0 0 30 2 *")
        #expect(try s.next(after: wallClock(2025, 1, 1), timeZone: utc) == nil)
        let never = try CronSchedule("0 0 31 4,6,9,11 *")
        #expect(try never.next(after: wallClock(2025, 1, 1), timeZone: utc) == nil)
    }

    @Test func vixieOrRule() throws {
        // Both restricted: the 13th OR any Friday.
        let s = try CronSchedule("0 0 13 * 5")
        #expect(try s.matches(wallClock(2025, 7, 13), timeZone: utc))  // Sunday the 13th
        #expect(try s.matches(wallClock(2025, 7, 4), timeZone: utc))  // Friday the 4th
        #expect(try !s.matches(wallClock(2025, 7, 5), timeZone: utc))
        #expect(try s.next(after: wallClock(2025, 7, 5), timeZone: utc) == wallClock(2025, 7, 11))
        #expect(try s.next(after: wallClock(2025, 7, 11), timeZone: utc) == wallClock(2025, 7, 13))
        // One side starting with "*" means AND, as in Vixie cron.
        let and = try CronSchedule("0 0 * * 5")
        #expect(try !and.matches(wallClock(2025, 7, 13), timeZone: utc))
        let stepAnd = try CronSchedule("0 0 */2 * 1")  // odd days that are Mondays
        #expect(try stepAnd.matches(wallClock(2025, 7, 7), timeZone: utc))
        #expect(try !stepAnd.matches(wallClock(2025, 7, 14), timeZone: utc))
        #expect(try !stepAnd.matches(wallClock(2025, 7, 9), timeZone: utc))
    }

    @Test func timeZonesAreHonoured() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        let s = try CronSchedule("0 3 * * *")
        let next = s.next(after: try wallClock(2025, 1, 10, 0, 0, in: berlin), timeZone: berlin)
        #expect(try next == wallClock(2025, 1, 10, 2, 0))  // 03:00 CET is 02:00 UTC
        #expect(try s.matches(#require(next), timeZone: berlin))
        #expect(try !s.matches(#require(next), timeZone: utc))
    }

    @Test func daylightSavingGapIsSkipped() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        // 2025-03-30 02:00 CET jumps to 03:00 CEST: 02:30 does not exist that day.
        let s = try CronSchedule("30 2 * * *")
        let next = s.next(after: try wallClock(2025, 3, 29, 12, 0, in: berlin), timeZone: berlin)
        #expect(try next == wallClock(2025, 3, 31, 2, 30, in: berlin))
    }

    @Test func daylightSavingRepeatedHour() throws {
        let berlin = try #require(TimeZone(identifier: "Europe/Berlin"))
        // 2025-10-26 03:00 CEST goes back to 02:00 CET (01:00 UTC).
        let daily = try CronSchedule("30 2 * * *")
        let first = daily.next(after: try wallClock(2025, 10, 25, 12, in: berlin), timeZone: berlin)
        #expect(try first == wallClock(2025, 10, 26, 0, 30))  // 02:30 CEST
        // A fixed-hour schedule fires once, not again at 02:30 CET.
        #expect(try daily.next(after: #require(first), timeZone: berlin) == wallClock(2025, 10, 27, 1, 30))
        // An every-hour schedule also fires in the repeated hour.
        let quarter = try CronSchedule("*/15 * * * *")
        let late = try wallClock(2025, 10, 26, 0, 50)  // 02:50 CEST
        #expect(try quarter.next(after: late, timeZone: berlin) == wallClock(2025, 10, 26, 1, 0))  // 02:00 CET
        #expect(try quarter.next(after: wallClock(2025, 10, 26, 1, 0), timeZone: berlin) == wallClock(2025, 10, 26, 1, 15))
    }

    @Test func searchIsFastForSparseSchedules() throws {
        let s = try CronSchedule("59 23 31 12 *")
        let start = ContinuousClock.now
        var after = try wallClock(2025, 1, 1)
        for _ in 0..<20 {
            after = try #require(s.next(after: after, timeZone: utc))
        }
        #expect(try after == wallClock(2044, 12, 31, 23, 59))
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}

@Suite struct CronSystemdTests {
    @Test(arguments: [
        ("0 3 * * *", ["*-*-* 03:00:00"]),
        ("*/15 * * * 1-5", ["Mon..Fri *-*-* *:00/15:00"]),
        ("0,30 8-18 * * *", ["*-*-* 08..18:00,30:00"]),
        ("10-50/20 */2 * jan-mar sat,sun", ["Sat,Sun *-01..03-* 00/2:10..50/20:00"]),
        ("0 12 * * 5-7", ["Fri..Sun *-*-* 12:00:00"]),
        ("0 0 29 2 *", ["*-02-29 00:00:00"]),
        ("5/15 0 1 */3 *", ["*-01/3-01 00:05/15:00"]),
        ("0 0 */2 * 1", ["Mon *-*-01/2 00:00:00"]),
        ("0 0 * * */2", ["Tue,Thu,Sat,Sun *-*-* 00:00:00"]),
        ("0 0 1,15 * 0", ["*-*-01,15 00:00:00", "Sun *-*-* 00:00:00"]),
        ("0 6 13 5 fri", ["*-05-13 06:00:00", "Fri *-05-* 06:00:00"]),
        ("0 0 1 * 0-6", ["*-*-01 00:00:00", "*-*-* 00:00:00"]),
    ])
    func onCalendar(cron: String, expected: [String]) throws {
        #expect(try CronSchedule(cron).systemdOnCalendar() == expected)
    }
}

@Suite struct CronBruteForceTests {
    /// For dense schedules, next() must equal the first matching minute found by stepping minute by minute.
    @Test(arguments: [
        "* * * * *", "*/7 * * * *", "10-50/20 */5 * * *", "0 * * * 1-5", "3 4 * * *", "59 23 * * 6,0",
        "*/30 12-14 * * 3", "0 0 1,2,31 * *", "0 6 13 * 5", "15 */4 */3 * 2",
    ])
    func nextAgreesWithMatches(expression: String) throws {
        let s = try CronSchedule(expression)
        for zone in [utc, try #require(TimeZone(identifier: "Asia/Kolkata"))] {
            var after = try wallClock(2025, 1, 30, 22, 17, 31)
            for _ in 0..<5 {
                let expected = bruteForce(s, after: after, zone: zone, limitMinutes: 60 * 24 * 40)
                let actual = s.next(after: after, timeZone: zone)
                #expect(actual == expected, "\(expression) after \(after) in \(zone.identifier)")
                guard let actual else { break }
                after = actual.addingTimeInterval(Double(actual.timeIntervalSince1970.truncatingRemainder(dividingBy: 7)))
            }
        }
    }

    func bruteForce(_ s: CronSchedule, after: Date, zone: TimeZone, limitMinutes: Int) -> Date? {
        var t = (after.timeIntervalSince1970 / 60).rounded(.down) * 60 + 60
        for _ in 0..<limitMinutes {
            let date = Date(timeIntervalSince1970: t)
            if s.matches(date, timeZone: zone) { return date }
            t += 60
        }
        return nil
    }
}
