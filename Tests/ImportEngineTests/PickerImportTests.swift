// `gphotos-sync import picker` against the emulator, as a process: the link and QR code, the emulator's simulated
// picking, capture-time mtimes, dedupe by picked id across sessions, a timeout, an expired session, and a stopped run
// that resumes its session.
import APITestSupport
import Foundation
import Harness
import Testing

/// A picker import running as a process, with its NDJSON read line by line.
final class PickerRun: @unchecked Sendable {   // used by one test at a time
    let child: ChildProcess
    var lines: [String] = []

    init(_ emu: EmulatorProcess, dataset: String, extra: [String] = []) throws {
        child = try ChildProcess(executable: builtExecutable("gphotos-sync"),
                                 arguments: ["import", "picker", "--to", dataset, "--emulator", emu.baseURL, "--json", "--no-progress"] + extra)
    }

    /// Reads events until one satisfies `match` (bounded by `timeout`), off the cooperative pool.
    func waitFor(timeout: Double = 30, _ match: @escaping @Sendable ([String: Any]) -> Bool) async -> [String: Any]? {
        await offPool { self.waitForBlocking(timeout: timeout, match).map { UncheckedEvent(value: $0) } }?.value
    }

    private func waitForBlocking(timeout: Double, _ match: ([String: Any]) -> Bool) -> [String: Any]? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let line = child.readLine(timeout: max(0.1, deadline.timeIntervalSinceNow))
            if line.isEmpty && !child.process.isRunning { return nil }
            lines.append(line)
            if let o = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any], match(o) { return o }
        }
        return nil
    }

    /// The session id from the "picker link" note.
    func sessionID(timeout: Double = 30) async -> String? {
        guard let note = await waitFor(timeout: timeout, { ($0["message"] as? String)?.hasPrefix("picker link: ") == true }),
              let uri = (note["message"] as? String)?.dropFirst("picker link: ".count) else { return nil }
        return uri.split(separator: "/").last.map(String.init)
    }

    /// Waits for the end; the summary event.
    func finish(timeout: Double = 60) async -> (status: Int32?, summary: [String: Any]) {
        let summary = await waitFor(timeout: timeout) { $0["event"] as? String == "summary" } ?? [:]
        let child = self.child
        return (await offPool { child.wait(timeout: 10) }, summary)
    }
}

/// A decoded event carried across threads (JSON values only).
struct UncheckedEvent: @unchecked Sendable { let value: [String: Any] }

/// Capture times of the seeded library (RFC 3339), newest first as the picker's "count" picks them.
let pickerLibrary: [(String, String)] = [
    ("beach.jpg", "2021-07-04T10:00:00Z"), ("party.jpg", "2020-12-31T23:30:00Z"),
    ("hike.jpg", "2019-05-01T08:15:00Z"), ("old.jpg", "2015-01-02T03:04:05Z"),
]

/// Seeds the library; returns item ids in `pickerLibrary` order.
func seedLibrary(_ emu: EmulatorProcess) async throws -> [String] {
    let specs: [[String: Any]] = pickerLibrary.enumerated().map { i, it in
        ["ref": "r\(i)", "clientId": "another-app.apps.googleusercontent.com", "filename": it.0, "creationTime": it.1]
    }
    let (status, o) = try await emu.control("POST", "seed", ["mediaItems": specs])
    guard status == 200 else { throw TestFailure("seed failed: \(status) \(o)") }
    return (o["mediaItems"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
}

func epoch(_ rfc3339: String) -> Int64 {
    Int64(ISO8601DateFormatter().date(from: rfc3339)?.timeIntervalSince1970 ?? -1)
}

@Suite("gphotos-sync import picker", .serialized)
struct PickerImportTests {
    @Test("the user picks in the emulator: items saved by capture year with capture-time mtimes; a second session skips what was saved")
    func picksAreSavedOnce() async throws {
        try await withEmulator { emu in
            let ids = try await seedLibrary(emu)
            let out = TempDir()
            let run = try PickerRun(emu, dataset: out.path)
            let sid = try #require(await run.sessionID())
            // The link and its QR code went to standard error (standard output carries NDJSON).
            try await Task.sleep(nanoseconds: 300_000_000)
            let screen = run.child.stderrSoFar()
            #expect(screen.contains("https://photos.google.com/picker/\(sid)") && screen.contains("█"), "\(screen)")
            let (st, o) = try await emu.control("POST", "picker/sessions/\(sid):pick", ["mediaItemIds": Array(ids[0..<3])])
            #expect(st == 200, "\(o)")
            let (status, summary) = await run.finish()
            #expect(status == 0, "\(run.lines)")
            #expect((summary["imported"] as? Int) == 3)
            for (name, time) in pickerLibrary[0..<3] {
                let path = out.file(String(time.prefix(4)) + "/" + name)
                #expect(Int64(statOf(path)?.st_mtim.tv_sec ?? 0) == epoch(time), "\(path)")
            }
            // The session was deleted once the bytes were saved.
            let (gone, _) = try await emu.control("POST", "picker/sessions/\(sid):pick", ["count": 1])
            #expect(gone == 404)

            // A new session picking two saved items and a new one downloads only the new one.
            let run2 = try PickerRun(emu, dataset: out.path)
            let sid2 = try #require(await run2.sessionID())
            #expect(sid2 != sid)
            _ = try await emu.control("POST", "picker/sessions/\(sid2):pick", ["mediaItemIds": [ids[0], ids[1], ids[3]]])
            let (status2, summary2) = await run2.finish()
            #expect(status2 == 0, "\(run2.lines)")
            #expect((summary2["imported"] as? Int) == 1 && (summary2["alreadyImported"] as? Int) == 2, "\(summary2)")
            #expect(files(under: out.path) == ["2015/old.jpg", "2019/hike.jpg", "2020/party.jpg", "2021/beach.jpg"])
        }
    }

    @Test("nobody picks before --timeout: exit 5 with the reason; an expired session: exit 5 with the reason")
    func timeoutAndExpiry() async throws {
        try await withEmulator { emu in
            _ = try await seedLibrary(emu)
            let out = TempDir()
            let run = try PickerRun(emu, dataset: out.path, extra: ["--timeout", "1"])
            let (status, summary) = await run.finish(timeout: 30)
            #expect(status == 5, "\(run.lines)")
            #expect((summary["message"] as? String ?? "").isEmpty == false)
            #expect(run.lines.contains { $0.contains("nobody finished picking") }, "\(run.lines)")

            // The session expires while the import polls (the emulator's clock jumps past its lifetime).
            let run2 = try PickerRun(emu, dataset: out.path)
            _ = try #require(await run2.sessionID())
            try await emu.advanceClock(8 * 86_400)   // past the session's 7-day life
            let (status2, _) = await run2.finish(timeout: 30)
            #expect(status2 == 5, "\(run2.lines)")
            #expect(run2.lines.contains { $0.contains("expired") }, "\(run2.lines)")
            #expect(files(under: out.path).isEmpty)
        }
    }

    @Test("a run stopped while downloading resumes its session: no new link, the saved item is not fetched again")
    func stoppedRunResumes() async throws {
        try await withEmulator { emu in
            let ids = try await seedLibrary(emu)
            let out = TempDir()
            try await emu.faults(["media:slow:delay=1500"])
            let run = try PickerRun(emu, dataset: out.path)
            let sid = try #require(await run.sessionID())
            _ = try await emu.control("POST", "picker/sessions/\(sid):pick", ["mediaItemIds": Array(ids[0..<3])])
            _ = try #require(await run.waitFor(timeout: 30) { $0["action"] as? String == "imported" })
            kill(run.child.process.processIdentifier, SIGINT)
            let (status, _) = await run.finish(timeout: 30)
            #expect(status != 0 && status != nil)
            let saved = files(under: out.path).count
            #expect(saved >= 1 && saved < 3)
            _ = try await emu.control("DELETE", "faults")

            let run2 = try PickerRun(emu, dataset: out.path)
            let (status2, summary2) = await run2.finish(timeout: 60)
            #expect(status2 == 0, "\(run2.lines)")
            #expect(!run2.lines.contains { $0.contains("picker link") }, "a new session was created: \(run2.lines)")
            #expect((summary2["alreadyImported"] as? Int) == saved && (summary2["imported"] as? Int) == 3 - saved, "\(summary2)")
            #expect(files(under: out.path).count == 3)
        }
    }
}
