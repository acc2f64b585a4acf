// CurlTransport against the emulator's control sink: streamed file bodies, per-transfer and shared rate limits.
import Foundation
import PhotosAPI
import Testing

@Suite("PhotosAPI curl transport")
struct TransportTests {
    @Test("a file body is streamed with its Content-Length; a file region can be sent")
    func streamedFile() async throws {
        try await withEmulator { emu in
            let dir = TempDir()
            let path = writeFile(dir, "blob", Data(repeating: 7, count: 3_000_000))
            let t = CurlTransport()
            let r = try await t.send(HTTPRequest(method: "POST", url: emu.baseURL + "/emulator/v1/sink",
                                                 body: .file(path: path, offset: 0, length: 3_000_000)), endpoint: "sink")
            #expect(r.status == 200)
            let r2 = try await t.send(HTTPRequest(method: "POST", url: emu.baseURL + "/emulator/v1/sink",
                                                  body: .file(path: path, offset: 1000, length: 5000)), endpoint: "sink")
            #expect(r2.status == 200)
            // A body longer than the file is a typed I/O error, not a hang.
            await #expect(throws: PhotosAPIError.self) {
                _ = try await t.send(HTTPRequest(method: "POST", url: emu.baseURL + "/emulator/v1/sink",
                                                 body: .file(path: path, offset: 2_999_000, length: 5000)), endpoint: "sink")
            }
        }
    }

    @Test("sequential requests reuse one keep-alive connection")
    func keepAlive() async throws {
        try await withEmulator { emu in
            let t = CurlTransport()
            for _ in 0..<5 {
                let r = try await t.send(HTTPRequest(method: "GET", url: emu.baseURL + "/emulator/v1/health"), endpoint: "health")
                #expect(r.status == 200)
            }
            #expect(t.connectionsOpened == 1)
        }
    }

    @Test("per-transfer send limit and a limiter shared by two transfers slow uploads down")
    func rateLimits() async throws {
        try await withEmulator { emu in
            let dir = TempDir()
            let path = writeFile(dir, "blob", Data(repeating: 1, count: 400_000))
            var opts = TransferOptions()
            opts.maxSendRate = 200_000
            let t = CurlTransport()
            let start = Date()
            _ = try await t.send(HTTPRequest(method: "POST", url: emu.baseURL + "/emulator/v1/sink",
                                             body: .file(path: path, offset: 0, length: 400_000), options: opts), endpoint: "sink")
            #expect(Date().timeIntervalSince(start) > 1.2)

            let shared = CurlTransport(sharedBandwidth: BandwidthLimiter(bytesPerSecond: 300_000))
            let start2 = Date()
            try await withThrowingTaskGroup(of: Void.self) { g in
                for _ in 0..<2 {
                    g.addTask {
                        _ = try await shared.send(HTTPRequest(method: "POST", url: emu.baseURL + "/emulator/v1/sink",
                                                              body: .file(path: path, offset: 0, length: 400_000)), endpoint: "sink")
                    }
                }
                try await g.waitForAll()
            }
            // 800 kB at 300 kB/s with a 75 kB burst: at least ~2.4 s together.
            #expect(Date().timeIntervalSince(start2) > 2.2)
        }
    }
}
