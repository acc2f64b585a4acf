// Conformance: --state keeps tokens, clients, items, sessions, the clock and quota counters across a restart; --ephemeral keeps nothing.
import Foundation
import Testing

@Suite("State persistence")
struct PersistenceTests {
    /// A fresh empty folder for one test's state.
    static func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gphotos-persist-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    @Test("a restart on the same --state folder keeps everything")
    func survivesRestart() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let client = "persist.apps.googleusercontent.com"
        let (access, refresh, session, items) = try await withEmulator(state: dir) { emu in
            #expect(try emu.control("POST", "clients", ["clientId": client, "clientSecret": "s3cret", "project": "222"]).status == 200)
            let seeded = try emu.control("POST", "seed", ["generate": ["count": 4]])
            #expect(seeded.status == 200)
            let t = try OAuthFlow.login(emu, client: client, scopes: [Scopes.picker] + Scopes.library, secret: "s3cret")
            let access = try #require(t.object["access_token"] as? String)
            let refresh = try #require(t.object["refresh_token"] as? String)
            let c = try OAuthFlow.createSession(emu, token: access)
            let session = try #require(c.object["id"] as? String)
            let picked = try emu.control("POST", "picker/sessions/\(session):pick", ["count": 3])
            #expect(picked.status == 200)
            try emu.advanceClock(1000)
            return (access, refresh, session, (picked.object["mediaItemIds"] as? [String]) ?? [])
        }
        #expect(items.count == 3)
        try await withEmulator(state: dir) { emu in
            let offset = try emu.control("GET", "clock").object["offsetSeconds"] as? Double
            #expect(offset == 1000)
            // The access token (still inside its hour) and the picked session are intact.
            let g = try RawHTTP.request("GET", emu.baseURL + "/picker/v1/sessions/\(session)", headers: [("Authorization", "Bearer \(access)")])
            #expect(g.status == 200)
            #expect(g.object["mediaItemsSet"] as? Bool == true)
            let l = try RawHTTP.request("GET", emu.baseURL + "/picker/v1/mediaItems?sessionId=\(session)",
                                        headers: [("Authorization", "Bearer \(access)")])
            #expect((l.object["mediaItems"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == items)
            // The client (with its secret) and the refresh token are intact.
            let wrong = try OAuthFlow.form(emu, "/token", ["grant_type": "refresh_token", "refresh_token": refresh,
                                                           "client_id": client, "client_secret": "nope"])
            #expect(wrong.status == 401)
            let r = try OAuthFlow.form(emu, "/token", ["grant_type": "refresh_token", "refresh_token": refresh,
                                                       "client_id": client, "client_secret": "s3cret"])
            #expect(r.status == 200)
        }
    }

    @Test("quota counters survive a restart")
    func quotaSurvivesRestart() async throws {
        let dir = try Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        try await withEmulator(["--knob", "dailyAPIRequests=3"], state: dir) { emu in
            let c = try APIClient(emu, clientID: "quota-persist", project: "333")
            for _ in 0..<2 { #expect(try c.get("/v1/albums").status == 200) }
        }
        try await withEmulator(["--knob", "dailyAPIRequests=3"], state: dir) { emu in
            let q = try emu.control("GET", "quota?project=333")
            #expect(q.object["apiRequests"] as? Int == 2)
            let c = try APIClient(emu, clientID: "quota-persist", project: "333")
            #expect(try c.get("/v1/albums").status == 200)
            let over = try c.get("/v1/albums")
            #expect(over.status == 429)
            #expect(over.errorStatus == "RESOURCE_EXHAUSTED")
        }
    }

    @Test("--ephemeral keeps nothing between runs")
    func ephemeralForgets() async throws {
        let (access, clockBefore): (String, Double?) = try await withEmulator { emu in
            let c = try APIClient(emu, clientID: "ephemeral-app", scopes: [Scopes.picker])
            #expect(try c.post("/picker/v1/sessions").status == 200)
            try emu.advanceClock(500)
            return (c.accessToken, try emu.control("GET", "clock").object["offsetSeconds"] as? Double)
        }
        #expect(clockBefore == 500)
        try await withEmulator { emu in
            #expect(try emu.control("GET", "clock").object["offsetSeconds"] as? Double == 0)
            let r = try OAuthFlow.createSession(emu, token: access)
            #expect(r.status == 401)
            #expect(r.errorStatus == "UNAUTHENTICATED")
        }
    }
}
