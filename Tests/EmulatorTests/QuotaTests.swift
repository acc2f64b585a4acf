// Conformance: the per-project daily Library quota (exact 429 body, reset at the quota-day boundary) and the per-minute write limit.
import Foundation
import Testing

@Suite("Quotas")
struct QuotaTests {
    /// The emulator clock's "now" in seconds since 1970.
    static func now(_ emu: EmulatorProcess) throws -> Double {
        let text = try #require(try emu.control("GET", "clock").object["now"] as? String)
        return try #require(time(text))
    }

    /// An RFC 3339 timestamp (with or without fractional seconds) in seconds since 1970.
    static func time(_ text: String) -> Double? {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = f.date(from: text) { return d.timeIntervalSince1970 }
        f.formatOptions = [.withInternetDateTime]
        return f.date(from: text)?.timeIntervalSince1970
    }

    @Test("the 4th call over dailyAPIRequests=3 gets Google's exact daily-quota 429, without Retry-After")
    func dailyQuotaBody() async throws {
        try await withEmulator(["--knob", "dailyAPIRequests=3"]) { emu in
            let c = try APIClient(emu)
            for _ in 0..<3 { #expect(try c.get("/v1/albums").status == 200) }
            let r = try c.get("/v1/albums")
            #expect(r.status == 429)
            #expect(r.header("retry-after") == nil)
            let e = try #require(r.object["error"] as? [String: Any])
            let message = "Quota exceeded for quota metric 'All requests' and limit 'All requests per day' of service "
                + "'photoslibrary.googleapis.com' for consumer 'project_number:100000000001'."
            #expect(e["code"] as? Int == 429)
            #expect(e["status"] as? String == "RESOURCE_EXHAUSTED")
            #expect(e["message"] as? String == message)
            let errors = try #require(e["errors"] as? [[String: Any]])
            #expect(errors.count == 1)
            #expect(errors[0]["reason"] as? String == "rateLimitExceeded")
            #expect(errors[0]["domain"] as? String == "global")
            #expect(errors[0]["message"] as? String == message)
            let details = try #require(e["details"] as? [[String: Any]])
            #expect(details.count == 2)
            #expect(details[0]["@type"] as? String == "type.googleapis.com/google.rpc.ErrorInfo")
            #expect(details[0]["reason"] as? String == "RATE_LIMIT_EXCEEDED")
            #expect(details[0]["domain"] as? String == "googleapis.com")
            let meta = try #require(details[0]["metadata"] as? [String: String])
            #expect(meta == ["quota_limit_value": "3", "consumer": "projects/100000000001", "service": "photoslibrary.googleapis.com",
                             "quota_limit": "ApiCallsPerProjectPerDay", "quota_location": "global",
                             "quota_metric": "photoslibrary.googleapis.com/all_requests"])
            #expect(details[1]["@type"] as? String == "type.googleapis.com/google.rpc.Help")
            let links = details[1]["links"] as? [[String: String]]
            #expect(links == [["description": "Request a higher quota limit.", "url": "https://cloud.google.com/docs/quota#requesting_higher_quota"]])

            let q = try emu.control("GET", "quota")
            #expect(q.object["apiRequests"] as? Int == 3)
            #expect(q.object["apiLimit"] as? Int == 3)
        }
    }

    @Test("the daily quota resets exactly at the quota-day boundary (quotaResetUTCOffsetHours)")
    func resetsAtBoundary() async throws {
        for offset in [-8, 3] {
            try await withEmulator(["--knob", "dailyAPIRequests=1", "--knob", "quotaResetUTCOffsetHours=\(offset)"]) { emu in
                let c = try APIClient(emu)
                #expect(try c.get("/v1/albums").status == 200)
                #expect(try c.get("/v1/albums").status == 429)
                let now = try Self.now(emu)
                let shift = Double(offset) * 3600
                let boundary = (floor((now + shift) / 86_400) + 1) * 86_400 - shift
                try emu.advanceClock(boundary - now - 5)
                #expect(try APIClient(emu).get("/v1/albums").status == 429, "offset \(offset): 5 s before the boundary")
                try emu.advanceClock(10)
                #expect(try APIClient(emu).get("/v1/albums").status == 200, "offset \(offset): after the boundary")
            }
        }
    }

    @Test("quota is counted per project; Picker calls do not spend the Library quota")
    func perProject() async throws {
        try await withEmulator(["--knob", "dailyAPIRequests=2"]) { emu in
            #expect(try emu.control("POST", "clients", ["clientId": "app-one", "project": "111"]).status == 200)
            #expect(try emu.control("POST", "clients", ["clientId": "app-two", "project": "222"]).status == 200)
            let one = try APIClient(emu, clientID: "app-one", scopes: Scopes.library + [Scopes.picker])
            let two = try APIClient(emu, clientID: "app-two")
            for _ in 0..<5 { #expect(try one.post("/picker/v1/sessions").status == 200) }
            #expect(try emu.control("GET", "quota?project=111").object["apiRequests"] as? Int == 0)
            for _ in 0..<2 { #expect(try one.get("/v1/albums").status == 200) }
            let over = try one.get("/v1/albums")
            #expect(over.status == 429)
            #expect(over.errorMessage?.contains("project_number:111") == true)
            #expect(try two.get("/v1/albums").status == 200)
            #expect(try emu.control("GET", "quota?project=111").object["apiRequests"] as? Int == 2)
            #expect(try emu.control("GET", "quota?project=222").object["apiRequests"] as? Int == 1)
        }
    }

    @Test("writesPerMinute: a distinct transient 429 with Retry-After, allowed again a minute later")
    func writesPerMinute() async throws {
        try await withEmulator(["--knob", "writesPerMinute=2"]) { emu in
            let c = try APIClient(emu)
            // Start at the top of an emulator minute so the three writes share one window.
            let now = try Self.now(emu)
            try emu.advanceClock(60 - now.truncatingRemainder(dividingBy: 60) + 0.5)
            for i in 0..<2 { #expect(try c.post("/v1/albums", ["album": ["title": "A\(i)"]]).status == 200) }
            // Reads are not writes.
            #expect(try c.get("/v1/albums").status == 200)
            let r = try c.post("/v1/albums", ["album": ["title": "A2"]])
            #expect(r.status == 429)
            #expect(r.errorStatus == "RESOURCE_EXHAUSTED")
            let retry = try #require(r.header("retry-after").flatMap(Int.init))
            #expect((1...60).contains(retry))
            #expect(r.errorMessage?.contains("per minute") == true)
            #expect(r.errorMessage?.contains("per day") == false)
            let details = (r.object["error"] as? [String: Any])?["details"] as? [[String: Any]]
            #expect((details?.first?["metadata"] as? [String: String])?["quota_limit"] == "WritesPerMinutePerUser")
            try emu.advanceClock(60)
            #expect(try c.post("/v1/albums", ["album": ["title": "A3"]]).status == 200)
        }
    }
}
