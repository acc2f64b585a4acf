// Tests for HumanUnits formatting/parsing, ProgressLine rendering and SyncExitCode.
import Foundation
import Testing

@testable import SyncEngine

let byteCases: [(Int64, String)] = [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1.00 KiB"),
        (1536, "1.50 KiB"),
        (10 * 1024, "10.0 KiB"),
        (Int64(12.3 * 1_048_576), "12.3 MiB"),
        (Int64(1.5 * 1_073_741_824), "1.50 GiB"),
        (456 * 1_073_741_824, "456 GiB"),
        (1_048_474, "1.00 MiB"),  // 1023.9 KiB rounds up into the next unit
        (Int64(9.996 * 1024), "10.0 KiB"),
        (Int64(99.96 * 1024), "100 KiB"),
        (1_099_511_627_776, "1.00 TiB"),
        (Int64.max, "8.00 EiB"),
        (-1536, "-1.50 KiB"),
        (Int64.min, "-8.00 EiB"),
    ]

let durationCases: [(Double, String)] = [
        (0, "0s"), (45, "45s"), (59.4, "59s"), (59.6, "1m00s"), (187, "3m07s"), (3599, "59m59s"),
        (3600, "1h00m"), (7500, "2h05m"), (86_399, "23h59m"), (86_400, "1d00h"), (273_600, "3d04h"),
        (-3, "0s"), (.infinity, "--"), (.nan, "--"),
    ]

@Suite struct HumanUnitsTests {
    @Test(arguments: byteCases)
    func bytes(value: Int64, expected: String) {
        #expect(HumanUnits.bytes(value) == expected)
    }

    @Test func rates() {
        #expect(HumanUnits.rate(12.3 * 1_048_576) == "12.3 MiB/s")
        #expect(HumanUnits.rate(512) == "512 B/s")
        #expect(HumanUnits.rate(0) == "0 B/s")
        #expect(HumanUnits.rate(-5) == "0 B/s")
        #expect(HumanUnits.rate(.nan) == "0 B/s")
        #expect(HumanUnits.rate(1e30) == "7.81 EiB/s")
    }

    @Test(arguments: durationCases)
    func durations(seconds: Double, expected: String) {
        #expect(HumanUnits.duration(seconds) == expected)
    }

    @Test func parseSizes() throws {
        #expect(try HumanUnits.parseSize("10M") == 10 * 1_048_576)
        #expect(try HumanUnits.parseSize("100") == 100 * 1024)
        #expect(try HumanUnits.parseSize("524288b") == 524_288)
        #expect(try HumanUnits.parseSize("  5k ") == 5120)
        #expect(try HumanUnits.parseSize("1.5M") == 1_572_864)
        #expect(try HumanUnits.parseSize(".5k") == 512)
        #expect(try HumanUnits.parseSize("2g") == 2 * 1_073_741_824)
        #expect(try HumanUnits.parseSize("1T") == 1_099_511_627_776)
        #expect(try HumanUnits.parseSize("1P") == 1_125_899_906_842_624)
        #expect(try HumanUnits.parseSize("3KiB") == 3072)
        #expect(try HumanUnits.parseSize("3Ki") == 3072)
        #expect(try HumanUnits.parseSize("3KB") == 3072)
        #expect(try HumanUnits.parseSize("0") == 0)
    }

    @Test func formattedSizesParseBack() throws {
        for n: Int64 in [0, 1023, 1024, 1536, 1_572_864, 3 * 1_073_741_824] {
            #expect(try HumanUnits.parseSize(HumanUnits.bytes(n)) == n)
        }
    }

    @Test(arguments: [
        ("", ["Invalid size \"\"", "empty"]),
        ("abc", ["\"abc\"", "not a number"]),
        ("5X", ["\"5X\"", "suffix \"X\""]),
        ("5Mb", ["suffix \"Mb\""]),
        ("1.2.3", ["1.2.3"]),
        ("-5", ["\"-5\""]),
        ("off", ["\"off\""]),
        ("9999999999P", ["too large"]),
    ])
    func invalidSizes(text: String, fragments: [String]) {
        let error = message { _ = try HumanUnits.parseSize(text) }
        #expect(error != nil, "\"\(text)\" should not parse")
        for fragment in fragments {
            #expect(error?.contains(fragment) == true, "\(error ?? "nil") should mention \(fragment)")
        }
    }
}

@Suite struct ProgressLineTests {
    let gib: Int64 = 1_073_741_824
    var sample: ProgressLine {
        ProgressLine(
            itemsDone: 120, itemsTotal: 2000, bytesDone: Int64(1.2 * Double(gib)), bytesTotal: 5 * gib,
            rate: 45.3 * 1_048_576)
    }

    @Test func wideLine() {
        let line = sample.render(width: 100)
        #expect(line.hasPrefix("[====="))
        #expect(line.hasSuffix("]  120/2000 items  1.20 GiB/5.00 GiB  45.3 MiB/s  ETA 1m26s"), "\(line)")
        #expect(line.count <= 100)
    }

    @Test func barIsCappedAndProportional() {
        let line = sample.render(width: 300)
        let bar = "[" + String(repeating: "=", count: 9) + ">" + String(repeating: " ", count: 30) + "]"
        #expect(line.hasPrefix(bar + "  120/2000"), "\(line)")
    }

    @Test func neverExceedsWidth() {
        for width in 0...160 {
            let line = sample.render(width: width)
            #expect(line.count <= width, "width \(width): \(line)")
        }
        #expect(sample.render(width: 0) == "")
    }

    @Test func dropsBarThenRateThenBytes() {
        let text = "120/2000 items  1.20 GiB/5.00 GiB  45.3 MiB/s  ETA 1m26s"
        #expect(sample.render(width: text.count) == text)
        #expect(sample.render(width: text.count + 5) == text)
        #expect(sample.render(width: text.count + 9) .hasPrefix("[>") == false)
        #expect(sample.render(width: text.count + 9).hasPrefix("["))
        #expect(sample.render(width: text.count - 1) == "120/2000 items  1.20 GiB/5.00 GiB  ETA 1m26s")
        #expect(sample.render(width: 30) == "120/2000 items  ETA 1m26s")
        #expect(sample.render(width: 20) == "120/2000 items")
        #expect(sample.render(width: 8) == "120/2000")
    }

    @Test func etaCases() {
        var p = sample
        p.rate = 0
        #expect(p.eta == "--")
        #expect(p.render(width: 200).hasSuffix("0 B/s  ETA --"))
        p.bytesDone = p.bytesTotal
        #expect(p.eta == "0s")
        #expect(p.render(width: 60).hasPrefix("[====="))
        #expect(p.render(width: 80).contains(">") == false)
    }

    @Test func fractionFallsBackToItems() {
        let p = ProgressLine(itemsDone: 1, itemsTotal: 4, bytesDone: 0, bytesTotal: 0, rate: 0)
        #expect(p.fraction == 0.25)
        #expect(ProgressLine(itemsDone: 0, itemsTotal: 0, bytesDone: 0, bytesTotal: 0, rate: 0).fraction == 0)
        #expect(ProgressLine(itemsDone: 0, itemsTotal: 0, bytesDone: 9, bytesTotal: 3, rate: 0).fraction == 1)
        let start = ProgressLine(itemsDone: 0, itemsTotal: 10, bytesDone: 0, bytesTotal: 100, rate: 0)
        #expect(start.render(width: 80).hasPrefix("[>  "))
    }
}

@Suite struct ExitCodeTests {
    @Test func codesMatchRclone() {
        #expect(SyncExitCode.allCases.map(\.rawValue) == Array(0...10))
        #expect(SyncExitCode.success.rawValue == 0)
        #expect(SyncExitCode.usageError.rawValue == 2)
        #expect(SyncExitCode.temporaryError.rawValue == 5)
        #expect(SyncExitCode.noFilesTransferred.rawValue == 9)
        #expect(SyncExitCode(rawValue: 10) == .durationLimitReached)
        #expect(SyncExitCode(rawValue: 11) == nil)
    }

    @Test func meaningsAreSingleDistinctLines() {
        let meanings = SyncExitCode.allCases.map(\.meaning)
        #expect(Set(meanings).count == meanings.count)
        for meaning in meanings {
            #expect(!meaning.isEmpty && !meaning.contains("\n"))
        }
        #expect(SyncExitCode.temporaryError.meaning.contains("retry"))
    }
}
