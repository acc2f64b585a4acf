// Uploads through the emulator: raw, resumable, interrupted at several offsets, resumed by a new client instance.
import Foundation
import PhotosAPI
import Testing

@Suite("PhotosAPI uploads against the emulator")
struct UploadTests {
    /// A client whose resumable threshold and chunk size make small files take the chunked path.
    func chunkyClient(_ acct: TestAccount) -> PhotosClient {
        var cfg = testConfig()
        cfg.resumableThreshold = 64 * 1024
        cfg.chunkSize = 256 * 1024
        return acct.client(cfg)
    }

    @Test("raw upload returns a token that batchCreate accepts; bytes round-trip")
    func raw() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = acct.client()
            let data = makeJPEG()
            let token = try await c.uploadRaw(file: writeFile(acct.dir, "a.jpg", data), mimeType: "image/jpeg", fileName: "a.jpg")
            #expect(!token.isEmpty)
            let r = try await c.batchCreate([NewMediaItem(uploadToken: token)])
            #expect(r[0].succeeded && r[0].mediaItem?.filename == "a.jpg")
            #expect(try await emu.requestCounts()["uploads"] == 1)
        }
    }

    @Test("resumable upload in chunks, then interrupted at several offsets and resumed")
    func resumableInterrupted() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = chunkyClient(acct)
            let data = makeJPEG(padding: 1_100_000)
            let path = writeFile(acct.dir, "big.jpg", data)
            let t0 = try await c.upload(file: path, mimeType: "image/jpeg", fileName: "big.jpg")
            #expect(!t0.isEmpty)
            for after in [1000, 300_000, 700_000] {
                // A distinct file per round (dedupe), interrupted once mid-chunk.
                let p = writeFile(acct.dir, "big\(after).jpg", makeJPEG(padding: 1_100_000))
                let session = try await c.startResumableUpload(file: p, mimeType: "image/jpeg", fileName: "big\(after).jpg")
                try await emu.faults(["uploads:reset:count=1:after=\(after)"])
                let before = c.counters.count("uploads")
                let token = try await c.resumeUpload(session, knownOffset: 0)
                #expect(!token.isEmpty)
                // 5 chunks without a fault; the reset adds at least a query (and a re-sent chunk when the server lost it).
                #expect(c.counters.count("uploads") - before >= 6, "the reset at \(after) was seen and recovered from")
                let r = try await c.batchCreate([NewMediaItem(uploadToken: token)])
                #expect(r[0].succeeded, "created after resume at \(after)")
                if let m = r[0].mediaItem {
                    let fresh = try await c.getMediaItem(m.id)
                    let size = try await c.mediaSize(baseUrl: fresh.baseUrl)
                    #expect(size > 1_000_000)
                }
            }
        }
    }

    @Test("a persisted upload session is resumed by a new client instance")
    func persistedSession() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let first = chunkyClient(acct)
            let data = makeJPEG(padding: 900_000)
            let path = writeFile(acct.dir, "resume.jpg", data)
            let session = try await first.startResumableUpload(file: path, mimeType: "image/jpeg", fileName: "resume.jpg")
            // Send part of the file, as if the process died afterwards.
            try await emu.faults(["uploads:reset:count=1:after=400000"])
            var cfg = testConfig(); cfg.chunkSize = 1 << 20; cfg.retry.maxAttempts = 1
            let fragile = acct.client(cfg)
            await #expect(throws: PhotosAPIError.self) { _ = try await fragile.resumeUpload(session, knownOffset: 0) }
            let saved = try JSONEncoder().encode(session)

            let restored = try JSONDecoder().decode(UploadSession.self, from: saved)
            let second = chunkyClient(acct)
            let status = try await second.queryUpload(restored)
            #expect(status.status == "active")
            #expect(status.received < Int64(data.count))
            let token = try await second.resumeUpload(restored)
            let r = try await second.batchCreate([NewMediaItem(uploadToken: token)])
            #expect(r[0].succeeded)
            if let m = r[0].mediaItem {
                let fresh = try await second.getMediaItem(m.id)
                #expect(try await second.mediaSize(baseUrl: fresh.baseUrl) == Int64(data.count))
            }
        }
    }

    @Test("a finished session cannot be resumed: typed uploadSessionGone")
    func finishedSession() async throws {
        try await withEmulator { emu in
            let acct = try await TestAccount(emu)
            let c = chunkyClient(acct)
            let path = writeFile(acct.dir, "done.jpg", makeJPEG(padding: 100_000))
            let s = try await c.startResumableUpload(file: path, mimeType: "image/jpeg")
            _ = try await c.resumeUpload(s, knownOffset: 0)
            do throws(PhotosAPIError) {
                _ = try await c.resumeUpload(s)
                Issue.record("expected uploadSessionGone")
            } catch let e {
                guard case .uploadSessionGone(let st) = e else { Issue.record("got \(e)"); return }
                #expect(st == "final")
            }
        }
    }
}
