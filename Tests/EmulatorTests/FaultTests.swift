// Conformance: fault injection (by flag and control API, probability and countdown, resets, delays) and the request log.
import Foundation
import Testing

@Suite("Fault injection and request log")
struct FaultTests {
    /// A picker client with one session, whose `get` is the endpoint the faults aim at.
    static func setup(_ emu: EmulatorProcess) throws -> (APIClient, String) {
        let c = try APIClient(emu, clientID: "fault-app", scopes: [Scopes.picker] + Scopes.library)
        let r = try c.post("/picker/v1/sessions")
        guard r.status == 200, let id = r.object["id"] as? String else { throw TestFailure("create: \(r.status) \(r.text)") }
        return (c, id)
    }

    @Test("--fault with count hits exactly that many requests, with Retry-After on 503")
    func countdownByFlag() async throws {
        try await withEmulator(["--fault", "picker.sessions.get:503:count=2:retry-after=7"]) { emu in
            let (c, id) = try Self.setup(emu)
            for _ in 0..<2 {
                let r = try c.get("/picker/v1/sessions/\(id)")
                #expect(r.status == 503)
                #expect(r.errorStatus == "UNAVAILABLE")
                #expect(r.header("retry-after") == "7")
            }
            for _ in 0..<3 { #expect(try c.get("/picker/v1/sessions/\(id)").status == 200) }
            // Other endpoints were never affected.
            #expect(try c.post("/picker/v1/sessions").status == 200)
        }
    }

    @Test("faults set through the control API: 500, 501, 504 and 429 with Retry-After")
    func statusesByControlAPI() async throws {
        try await withEmulator { emu in
            let (c, id) = try Self.setup(emu)
            let cases: [(String, Int, String)] = [("500", 500, "INTERNAL"), ("501", 501, "NOT_IMPLEMENTED"),
                                                  ("504", 504, "DEADLINE_EXCEEDED"), ("429", 429, "RESOURCE_EXHAUSTED")]
            for (kind, code, status) in cases {
                let add = try emu.control("POST", "faults", ["faults": [["endpoint": "picker.sessions.get", "kind": kind, "count": 1,
                                                                         "retryAfter": 3]]])
                #expect(add.status == 200)
                let r = try c.get("/picker/v1/sessions/\(id)")
                #expect(r.status == code, "\(kind)")
                #expect(r.errorStatus == status, "\(kind)")
                #expect((r.object["error"] as? [String: Any])?["code"] as? Int == code)
                if kind == "429" { #expect(r.header("retry-after") == "3") }
                #expect(try c.get("/picker/v1/sessions/\(id)").status == 200, "count=1 stops after one hit")
            }
            let bad = try emu.control("POST", "faults", ["spec": ["picker.sessions.get:418"]])
            #expect(bad.status == 400)
        }
    }

    @Test("probabilistic faults are reproducible under --seed and respect the probability")
    func seededProbability() async throws {
        func pattern(seed: String) async throws -> [Bool] {
            try await withEmulator(["--seed", seed, "--fault", "picker.sessions.get:500:p=0.5"]) { emu in
                let (c, id) = try Self.setup(emu)
                return try (0..<40).map { _ in try c.get("/picker/v1/sessions/\(id)").status == 500 }
            }
        }
        let a = try await pattern(seed: "42")
        let b = try await pattern(seed: "42")
        let other = try await pattern(seed: "7")
        #expect(a == b)
        #expect(a != other)
        let hits = a.filter { $0 }.count
        #expect((8...32).contains(hits), "about half of 40, got \(hits)")
    }

    @Test("a wildcard fault hits every API route but never the control API; DELETE clears it")
    func wildcardAndClear() async throws {
        try await withEmulator { emu in
            let (c, id) = try Self.setup(emu)
            #expect(try emu.control("POST", "faults", ["spec": ["*:503"]]).status == 200)
            #expect(try c.get("/picker/v1/sessions/\(id)").status == 503)
            #expect(try c.post("/picker/v1/sessions").status == 503)
            let token = try OAuthFlow.form(emu, "/token", ["grant_type": "refresh_token", "refresh_token": c.refreshToken,
                                                           "client_id": c.clientID])
            #expect(token.status == 503)
            #expect(try emu.control("GET", "health").status == 200)
            let listed = try emu.control("GET", "faults")
            #expect((listed.object["faults"] as? [Any])?.count == 1)
            #expect(try emu.control("DELETE", "faults").status == 200)
            #expect((try emu.control("GET", "faults").object["faults"] as? [Any])?.count == 0)
            #expect(try c.get("/picker/v1/sessions/\(id)").status == 200)
            // A prefix rule only hits its family.
            _ = try emu.control("POST", "faults", ["spec": ["picker.*:504:count=1"]])
            #expect(try c.post("/picker/v1/sessions").status == 504)
        }
    }

    @Test("Library endpoints take faults too, and a faulted call spends no quota")
    func libraryFaults() async throws {
        try await withEmulator(["--knob", "dailyAPIRequests=2", "--fault", "albums.*:503:count=1:retry-after=2"]) { emu in
            let (c, id) = try Self.setup(emu)
            let r = try c.get("/v1/albums")
            #expect(r.status == 503)
            #expect(r.header("retry-after") == "2")
            #expect(try c.get("/picker/v1/sessions/\(id)").status == 200)
            #expect(try c.get("/v1/albums").status == 200)
            #expect(try c.get("/v1/albums").status == 200)
            #expect(try c.get("/v1/albums").status == 429)
            #expect(try emu.requestCounts()["albums.list"] == 4)
        }
    }

    @Test("reset drops the connection part-way through the real answer; the next request is fine")
    func connectionReset() async throws {
        try await withEmulator(["--fault", "picker.sessions.get:reset:count=1:after=20"]) { emu in
            let (c, id) = try Self.setup(emu)
            var cut = Data()
            do {
                _ = try c.get("/picker/v1/sessions/\(id)")
                Issue.record("the faulted request got a whole response")
            } catch RawHTTPError.truncated(let status, _, let body) {
                #expect(status == 200)
                cut = body
            }
            let ok = try c.get("/picker/v1/sessions/\(id)")
            #expect(ok.status == 200)
            #expect(ok.object["id"] as? String == id)
            // What arrived before the break is exactly the start of the real answer.
            #expect(cut.count == 20)
            #expect(ok.body.prefix(20) == cut)
        }
    }

    @Test("a base-URL download cut by a reset delivers a true prefix of the bytes")
    func mediaReset() async throws {
        try await withEmulator { emu in
            let c = try APIClient(emu, clientID: "fault-media")
            let seeded = try emu.control("POST", "seed", ["mediaItems": [["clientId": "fault-media", "filename": "a.jpg"]]])
            let id = try #require((seeded.object["mediaItems"] as? [[String: Any]])?.first?["id"] as? String)
            let item = try c.get("/v1/mediaItems/\(id)")
            let base = try #require(item.object["baseUrl"] as? String)
            let full = try RawHTTP.request("GET", base + "=d")
            #expect(full.status == 200 && full.body.count > 40)
            try emu.control("POST", "faults", ["spec": ["media:reset:count=1:after=40"]])
            do {
                _ = try RawHTTP.request("GET", base + "=d")
                Issue.record("the faulted download got a whole response")
            } catch RawHTTPError.truncated(let status, let headers, let body) {
                #expect(status == 200)
                #expect(headers["content-length"] == String(full.body.count))
                #expect(body == full.body.prefix(40))
            }
        }
    }

    @Test("slow adds the configured delay")
    func slow() async throws {
        try await withEmulator(["--fault", "picker.sessions.get:slow:delay=600:count=1"]) { emu in
            let (c, id) = try Self.setup(emu)
            let t0 = Date()
            #expect(try c.get("/picker/v1/sessions/\(id)").status == 200)
            #expect(Date().timeIntervalSince(t0) >= 0.6)
            let t1 = Date()
            #expect(try c.get("/picker/v1/sessions/\(id)").status == 200)
            #expect(Date().timeIntervalSince(t1) < 0.6)
        }
    }

    @Test("late answers with the state at arrival but delivers after the delay")
    func late() async throws {
        try await withEmulator(["--fault", "picker.sessions.get:late:delay=600:count=1"]) { emu in
            let (c, id) = try Self.setup(emu)
            let t0 = Date()
            #expect(try c.get("/picker/v1/sessions/\(id)").status == 200)
            #expect(Date().timeIntervalSince(t0) >= 0.6)
        }
    }

    @Test("the request log counts calls per endpoint with their status, and DELETE clears it")
    func requestLog() async throws {
        try await withEmulator(["--fault", "picker.sessions.get:503:count=1"]) { emu in
            let (c, id) = try Self.setup(emu)
            for _ in 0..<3 { _ = try c.get("/picker/v1/sessions/\(id)") }
            _ = try c.get("/picker/v1/mediaItems?sessionId=\(id)")
            _ = try RawHTTP.request("GET", emu.baseURL + "/v9/nothing")
            _ = try emu.control("GET", "clock")
            let counts = try emu.requestCounts()
            #expect(counts["picker.sessions.create"] == 1)
            #expect(counts["picker.sessions.get"] == 3)
            #expect(counts["picker.mediaItems.list"] == 1)
            #expect(counts["unknown"] == 1)
            #expect(counts.keys.allSatisfy { !$0.hasPrefix("control.") }, "control calls are not logged")
            let log = try emu.control("GET", "requests?limit=10")
            #expect(log.object["total"] as? Int == 6)
            let recent = log.object["recent"] as? [[String: Any]] ?? []
            let gets = recent.filter { $0["endpoint"] as? String == "picker.sessions.get" }
            #expect(gets.map { $0["status"] as? Int } == [503, 200, 200])
            #expect(gets.allSatisfy { $0["method"] as? String == "GET" })
            // A fault fires at the front end, before the token is read; answered calls name their client.
            #expect(gets.dropFirst().allSatisfy { $0["clientId"] as? String == "fault-app" })
            #expect(try emu.control("DELETE", "requests").status == 200)
            #expect(try emu.requestCounts().isEmpty)
        }
    }
}
