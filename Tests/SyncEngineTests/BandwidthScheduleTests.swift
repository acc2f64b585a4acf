// Tests for BandwidthSchedule (rclone --bwlimit syntax) and RateLimiter.
import Foundation
import Testing

@testable import SyncEngine

let KiB: Int64 = 1024
let MiB: Int64 = 1024 * 1024

@Suite struct BandwidthParsingTests {
    @Test func singleLimits() throws {
        let now = Date()
        #expect(try BandwidthSchedule("10M").limits(at: now, timeZone: utc) == (10 * MiB, 10 * MiB))
        #expect(try BandwidthSchedule("512k").limits(at: now, timeZone: utc) == (512 * KiB, 512 * KiB))
        #expect(try BandwidthSchedule("512K").limits(at: now, timeZone: utc) == (512 * KiB, 512 * KiB))
        #expect(try BandwidthSchedule("100").limits(at: now, timeZone: utc) == (100 * KiB, 100 * KiB))
        #expect(try BandwidthSchedule("524288b").limits(at: now, timeZone: utc) == (512 * KiB, 512 * KiB))
        #expect(try BandwidthSchedule("off").limits(at: now, timeZone: utc) == (nil, nil))
        #expect(try BandwidthSchedule("OFF").limits(at: now, timeZone: utc) == (nil, nil))
        #expect(try BandwidthSchedule("0").limits(at: now, timeZone: utc) == (nil, nil))
        #expect(try !BandwidthSchedule("10M").isTimetable)
    }

    @Test func unitMath() throws {
        let now = Date()
        #expect(try BandwidthSchedule("1.5M").limits(at: now, timeZone: utc).upload == 1_572_864)
        #expect(try BandwidthSchedule("2G").limits(at: now, timeZone: utc).upload == 2 * 1024 * MiB)
        #expect(try BandwidthSchedule("1T").limits(at: now, timeZone: utc).upload == 1024 * 1024 * MiB)
        #expect(try BandwidthSchedule("0.5k").limits(at: now, timeZone: utc).upload == 512)
        #expect(try BandwidthSchedule("1MiB").limits(at: now, timeZone: utc).upload == MiB)
    }

    @Test func uploadDownloadPair() throws {
        let now = Date()
        #expect(try BandwidthSchedule("10M:1M").limits(at: now, timeZone: utc) == (10 * MiB, MiB))
        #expect(try BandwidthSchedule("off:1M").limits(at: now, timeZone: utc) == (nil, MiB))
        #expect(try BandwidthSchedule("10M:off").limits(at: now, timeZone: utc) == (10 * MiB, nil))
        #expect(try BandwidthSchedule("10M:1M").description == "10M:1M")
    }

    @Test func descriptionRoundTrips() throws {
        for text in [
            "10M", "off", "1536k", "100b", "10M:1M", "off:512k", "08:00,512k 12:00,10M 18:00,off",
            "Mon-08:00,512k Fri-23:59,10M:1M Sun-20:00,off", "07:30,1G",
        ] {
            let schedule = try BandwidthSchedule(text)
            #expect(schedule.description == text)
            #expect(try BandwidthSchedule(schedule.description) == schedule)
        }
        #expect(try BandwidthSchedule("1.5M").description == "1536k")
        #expect(try BandwidthSchedule("0").description == "off")
        #expect(try BandwidthSchedule("monday-8:00,1m  sunday-23:00,OFF").description == "Mon-08:00,1M Sun-23:00,off")
    }

    @Test func dailyTimetableWrapsAround() throws {
        let s = try BandwidthSchedule("08:00,512k 12:00,10M 18:00,off")
        #expect(s.isTimetable)
        #expect(try s.limits(at: wallClock(2025, 6, 2, 7, 59), timeZone: utc) == (nil, nil))  // yesterday's 18:00
        #expect(try s.limits(at: wallClock(2025, 6, 2, 0, 0), timeZone: utc) == (nil, nil))
        #expect(try s.limits(at: wallClock(2025, 6, 2, 8, 0), timeZone: utc) == (512 * KiB, 512 * KiB))
        #expect(try s.limits(at: wallClock(2025, 6, 2, 11, 59), timeZone: utc) == (512 * KiB, 512 * KiB))
        #expect(try s.limits(at: wallClock(2025, 6, 2, 12, 0), timeZone: utc) == (10 * MiB, 10 * MiB))
        #expect(try s.limits(at: wallClock(2025, 6, 2, 18, 0), timeZone: utc) == (nil, nil))
        let single = try BandwidthSchedule("09:00,1M:2M")
        #expect(try single.limits(at: wallClock(2025, 6, 2, 3, 0), timeZone: utc) == (MiB, 2 * MiB))
    }

    @Test func timetableUsesTimeZone() throws {
        let tokyo = try #require(TimeZone(identifier: "Asia/Tokyo"))
        let s = try BandwidthSchedule("08:00,512k 18:00,off")
        // 00:00 UTC is 09:00 in Tokyo.
        #expect(try s.limits(at: wallClock(2025, 6, 2, 0, 0), timeZone: tokyo) == (512 * KiB, 512 * KiB))
        #expect(try s.limits(at: wallClock(2025, 6, 2, 0, 0), timeZone: utc) == (nil, nil))
    }

    @Test func weekdayTimetable() throws {
        let s = try BandwidthSchedule("Mon-00:00,512 Fri-23:59,10M Sat-10:00,1M Sun-20:00,off")
        // 2025-06-02 is a Monday.
        #expect(try s.limits(at: wallClock(2025, 6, 2, 0, 0), timeZone: utc) == (512 * KiB, 512 * KiB))
        #expect(try s.limits(at: wallClock(2025, 6, 6, 23, 58), timeZone: utc) == (512 * KiB, 512 * KiB))
        #expect(try s.limits(at: wallClock(2025, 6, 6, 23, 59), timeZone: utc) == (10 * MiB, 10 * MiB))
        #expect(try s.limits(at: wallClock(2025, 6, 7, 9, 0), timeZone: utc) == (10 * MiB, 10 * MiB))
        #expect(try s.limits(at: wallClock(2025, 6, 7, 10, 0), timeZone: utc) == (MiB, MiB))
        #expect(try s.limits(at: wallClock(2025, 6, 8, 21, 0), timeZone: utc) == (nil, nil))
        // Wraps around the week: early Monday-less schedule.
        let w = try BandwidthSchedule("Wed-12:00,1M Fri-12:00,off")
        #expect(try w.limits(at: wallClock(2025, 6, 2, 9, 0), timeZone: utc) == (nil, nil))  // Monday: last week's Friday
        #expect(try w.limits(at: wallClock(2025, 6, 5, 9, 0), timeZone: utc) == (MiB, MiB))  // Thursday
    }

    @Test func mixedDailyAndWeekdayEntries() throws {
        let s = try BandwidthSchedule("08:00,1M 20:00,off Sat-00:00,off")
        #expect(try s.limits(at: wallClock(2025, 6, 2, 9, 0), timeZone: utc) == (MiB, MiB))  // Monday
        #expect(try s.limits(at: wallClock(2025, 6, 7, 9, 0), timeZone: utc) == (MiB, MiB))  // Saturday 08:00 applies
        #expect(try s.limits(at: wallClock(2025, 6, 7, 7, 0), timeZone: utc) == (nil, nil))  // Saturday 00:00 applies
    }

    @Test func timeOrderError() {
        let error = message { _ = try BandwidthSchedule("08:00,512k 18:00,off 12:00,10M") }
        #expect(error?.hasPrefix("Invalid time order: 18:00,off 12:00,10M") == true, "\(error ?? "nil")")
        let equal = message { _ = try BandwidthSchedule("08:00,512k 08:00,1M") }
        #expect(equal?.hasPrefix("Invalid time order: 08:00,512k 08:00,1M") == true, "\(equal ?? "nil")")
        let weekly = message { _ = try BandwidthSchedule("Mon-08:00,1M Tue-09:00,2M Mon-08:00,off") }
        #expect(weekly?.hasPrefix("Invalid time order: Mon-08:00,1M Mon-08:00,off") == true, "\(weekly ?? "nil")")
    }

    @Test(arguments: [
        ("", ["empty"]),
        ("10Q", ["10Q", "suffix"]),
        ("fast", ["fast", "not a number"]),
        ("-1M", ["-1M"]),
        ("1.2.3M", ["1.2.3"]),
        ("1M:2M:3M", ["1M:2M:3M", "UPLOAD:DOWNLOAD"]),
        ("25:00,1M", ["25:00", "HH:MM"]),
        ("08:60,1M", ["08:60"]),
        ("8,1M", ["\"8\"", "time"]),
        ("08:00,1M 10M", ["10M", "HH:MM,LIMIT"]),
        ("08:00,1M,2M", ["08:00,1M,2M"]),
        ("Xyz-08:00,1M", ["Xyz", "weekday"]),
        ("08:00,huge", ["huge"]),
        ("99999999999999T", ["too large"]),
    ])
    func invalidInputs(text: String, fragments: [String]) {
        let error = message { _ = try BandwidthSchedule(text) }
        #expect(error != nil, "\"\(text)\" should not parse")
        for fragment in fragments {
            #expect(error?.contains(fragment) == true, "\(error ?? "nil") should mention \(fragment)")
        }
    }
}

@Suite struct RateLimiterTests {
    @Test func unlimitedDoesNotWait() async {
        let limiter = RateLimiter()
        let start = ContinuousClock.now
        for _ in 0..<100 { await limiter.take(10 * 1024 * 1024, limit: nil) }
        await limiter.take(0, limit: 1)
        #expect(ContinuousClock.now - start < .milliseconds(200))
    }

    @Test func limitsThroughput() async {
        let limiter = RateLimiter()
        let start = ContinuousClock.now
        // 2 MiB at 1 MiB/s with a 1 s burst: about 1 s.
        for _ in 0..<16 { await limiter.take(128 * 1024, limit: MiB) }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(800), "took \(elapsed)")
        #expect(elapsed < .seconds(10), "took \(elapsed)")   // generous: other suites share the 2 cores
    }

    @Test func sharedByConcurrentTasks() async {
        let limiter = RateLimiter()
        let start = ContinuousClock.now
        // Four tasks of 512 KiB each share 1 MiB/s: 2 MiB total, about 1 s after the burst.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<8 { await limiter.take(64 * 1024, limit: MiB) }
                }
            }
        }
        let elapsed = ContinuousClock.now - start
        #expect(elapsed >= .milliseconds(800), "took \(elapsed)")
        #expect(elapsed < .seconds(10), "took \(elapsed)")   // generous: other suites share the 2 cores
    }

    @Test func raisedLimitTakesEffectQuickly() async {
        let limiter = RateLimiter()
        let start = ContinuousClock.now
        await limiter.take(1024, limit: 1024)  // uses the 1 KiB burst
        // In debt for 100 s at 1 KiB/s, but a limit of 100 MiB/s clears the debt at once.
        async let slow: Void = limiter.take(100 * 1024, limit: 1024)
        try? await Task.sleep(for: .milliseconds(50))
        await limiter.take(1, limit: 100 * MiB)
        await slow
        #expect(ContinuousClock.now - start < .seconds(10))   // the debt alone would take 100 s
    }
}
