// Retry policy end to end: 5xx, 501, 429 with Retry-After, resets, slow answers, the daily quota, non-idempotent calls.
import Foundation
import PhotosAPI
import Testing

@Suite("PhotosAPI retry policy against injected faults")
struct FaultTests {
    @Test("503 twice then success; 501 is not retried")
    func serverErrors() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            try await emu.faults(["albums.list:503:count=2"])
            _ = try await c.listAlbums()
            #expect(c.counters.count("albums.list") == 3)
            #expect(try await emu.requestCounts()["albums.list"] == 3)
            try await emu.faults(["albums.list:501:count=1"])
            do throws(PhotosAPIError) {
                _ = try await c.listAlbums()
                Issue.record("expected 501")
            } catch let e {
                switch e {
                case .api(_, 501, _), .http(_, 501, _, _): break
                default: Issue.record("got \(e)")
                }
            }
            #expect(c.counters.count("albums.list") == 4)
        }
    }

    @Test("transient 429 with Retry-After is honoured on the injected clock, then succeeds")
    func retryAfter() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let clock = ManualClock(start: Date())
            let c = acct.client(testConfig(clock: clock))
            try await emu.faults(["albums.list:429:count=2:retry-after=3"])
            _ = try await c.listAlbums()
            #expect(c.counters.count("albums.list") == 3)
            #expect(clock.sleeps.count == 2 && clock.sleeps.allSatisfy { $0 >= 3 })
        }
    }

    @Test("persistent 429 ends in rateLimited after bounded attempts")
    func persistent429() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client(testConfig(clock: ManualClock(start: Date())))
            try await emu.faults(["albums.list:429"])
            do throws(PhotosAPIError) {
                _ = try await c.listAlbums()
                Issue.record("expected rateLimited")
            } catch let e {
                guard case .rateLimited = e else { Issue.record("got \(e)"); return }
            }
            #expect(c.counters.count("albums.list") == 4)
        }
    }

    @Test("connection resets on GETs are retried; on batchCreate the outcome is unknown and nothing is retried")
    func resets() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            try await emu.faults(["albums.list:reset:count=1"])
            _ = try await c.listAlbums()
            #expect(c.counters.count("albums.list") == 2)
            let token = try await c.upload(file: writeFile(acct.dir, "x.jpg", makeJPEG()), mimeType: "image/jpeg")
            try await emu.faults(["mediaItems.batchCreate:reset:count=1"])
            do throws(PhotosAPIError) {
                _ = try await c.batchCreate([NewMediaItem(uploadToken: token)])
                Issue.record("expected outcomeUnknown")
            } catch let e {
                guard case .outcomeUnknown(let ep, _) = e else { Issue.record("got \(e)"); return }
                #expect(ep == "mediaItems.batchCreate")
            }
            #expect(c.counters.count("mediaItems.batchCreate") == 1)
            try await emu.faults(["albums.create:503:count=1"])
            do throws(PhotosAPIError) {
                _ = try await c.createAlbum(title: "maybe")
                Issue.record("expected outcomeUnknown")
            } catch let e {
                guard case .outcomeUnknown = e else { Issue.record("got \(e)"); return }
            }
            #expect(c.counters.count("albums.create") == 1)
        }
    }

    @Test("a slow answer beyond the idle timeout is a transport error, retried to success")
    func slow() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            var cfg = testConfig()
            cfg.transfer.idleTimeout = 1
            let c = acct.client(cfg)
            try await emu.faults(["albums.list:slow:count=1:delay=3000"])
            _ = try await c.listAlbums()
            #expect(c.counters.count("albums.list") == 2)
        }
    }

    @Test("the daily quota stops at once: exactly N+1 requests, no retry of the 429")
    func dailyQuota() async throws {
        try await withEmulator(["--knob", "dailyAPIRequests=5"]) { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            var stopped: PhotosAPIError?
            for _ in 0..<10 {
                do throws(PhotosAPIError) { _ = try await c.listAlbums() } catch let e { stopped = e; break }
            }
            guard case .dailyQuotaExceeded = stopped else { Issue.record("got \(String(describing: stopped))"); return }
            #expect(c.counters.count("albums.list") == 6)
            #expect(try await emu.requestCounts()["albums.list"] == 6)
        }
    }

    @Test("a cancelled task aborts a transfer")
    func cancellation() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            try await emu.faults(["albums.list:slow:count=1:delay=20000"])
            let task = Task { try await c.listAlbums() }
            try await Task.sleep(nanoseconds: 300_000_000)
            let started = Date()
            task.cancel()
            let r = await task.result
            // Far below the 20 s the server would take: cancellation, not the answer, ended it.
            #expect(Date().timeIntervalSince(started) < 12)
            guard case .failure(let e) = r, case .cancelled? = e as? PhotosAPIError else { Issue.record("got \(r)"); return }
        }
    }
}
