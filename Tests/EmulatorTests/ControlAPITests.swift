// Conformance: the process contract (first line, loopback only) and the control API.
import Foundation
import Testing

@Suite("Emulator process and control API")
struct ControlAPITests {
    @Test("prints its listening line and serves health")
    func startsAndServes() async throws {
        try await withEmulator { emu in
            #expect(emu.baseURL.hasPrefix("http://127.0.0.1:"))
            let r = try RawHTTP.request("GET", emu.baseURL + "/emulator/v1/health")
            #expect(r.status == 200)
            #expect(r.object["ok"] as? Bool == true)
        }
    }

    @Test("refuses a non-loopback address without --allow-remote")
    func refusesRemoteBind() throws {
        let p = Process()
        p.executableURL = EmulatorProcess.executable("gphotos-emulator")
        p.arguments = ["serve", "--host", "0.0.0.0", "--port", "0", "--ephemeral"]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = Pipe()
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus != 0)
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("--allow-remote"))
    }

    @Test("SIGTERM stops the server cleanly")
    func stopsOnSigterm() async throws {
        let emu = try EmulatorProcess()
        #expect(emu.stop() == 0)
    }

    @Test("unknown paths answer Google's HTML 404")
    func unknownPath() async throws {
        try await withEmulator { emu in
            let r = try RawHTTP.request("GET", emu.baseURL + "/v2/nothing")
            #expect(r.status == 404)
            #expect(r.header("content-type")?.hasPrefix("text/html") == true)
        }
    }

    @Test("clock advances and never goes back")
    func clockAdvance() async throws {
        try await withEmulator { emu in
            let before = try emu.control("GET", "clock").object["offsetSeconds"] as? Double
            try emu.advanceClock(3600)
            let after = try emu.control("GET", "clock").object["offsetSeconds"] as? Double
            #expect(before == 0)
            #expect(after == 3600)
            #expect(try emu.control("POST", "clock:advance", ["seconds": -5]).status == 400)
        }
    }

    @Test("knobs: listed, set at run time, bad names and values refused")
    func knobs() async throws {
        try await withEmulator(["--knob", "dailyAPIRequests=5"]) { emu in
            #expect(try emu.control("GET", "knobs").object["dailyAPIRequests"] as? Int == 5)
            let set = try emu.control("PATCH", "knobs", ["shortPageEvery": 3])
            #expect(set.status == 200)
            #expect(set.object["shortPageEvery"] as? Int == 3)
            let bad = try emu.control("PATCH", "knobs", ["noSuchKnob": 1])
            #expect(bad.status == 400)
            #expect(bad.errorMessage?.contains("noSuchKnob") == true)
            #expect(try emu.control("PATCH", "knobs", ["oversizedPageSize": "explode"]).status == 400)
        }
    }

    @Test("a bad --knob or --fault flag fails at start with a message naming it")
    func badFlags() throws {
        for args in [["--knob", "dailyAPIRequests=lots"], ["--fault", "albums.list:418"], ["--knob", "bogus=1"]] {
            let p = Process()
            p.executableURL = EmulatorProcess.executable("gphotos-emulator")
            p.arguments = ["serve", "--port", "0", "--ephemeral"] + args
            let err = Pipe()
            p.standardError = err
            p.standardOutput = Pipe()
            try p.run()
            p.waitUntilExit()
            #expect(p.terminationStatus != 0, "\(args)")
            let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(text.contains("dailyAPIRequests") || text.contains("418") || text.contains("bogus"), "\(text)")
        }
    }

    @Test("minted tokens authenticate; garbage tokens get 401 UNAUTHENTICATED")
    func tokens() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            #expect(a.accessToken.hasPrefix("ya29."))
            #expect(!a.refreshToken.isEmpty)
            let bad = try RawHTTP.request("GET", emu.baseURL + "/v1/albums", headers: [("Authorization", "Bearer nope")])
            #expect(bad.status == 401)
            #expect(bad.errorStatus == "UNAUTHENTICATED")
            let none = try RawHTTP.request("GET", emu.baseURL + "/v1/albums")
            #expect(none.status == 401)
        }
    }

    @Test("answers Expect: 100-continue before the body, as Google's front end does")
    func expectContinue() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let body = Data(repeating: 0x41, count: 2 * 1024 * 1024)
            let (interim, final) = try RawHTTP.expectContinue(
                emu.baseURL + "/v1/uploads",
                headers: [("Authorization", "Bearer \(a.accessToken)"), ("X-Goog-Upload-Protocol", "raw"),
                          ("Content-Type", "application/octet-stream")], body: body)
            #expect(interim.hasPrefix("HTTP/1.1 100"))
            #expect(final.status == 200)
            #expect(!final.text.isEmpty)
        }
    }
}
