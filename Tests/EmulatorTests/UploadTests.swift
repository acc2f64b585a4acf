// Conformance: POST /v1/uploads, raw and resumable (offsets, granularity, query, resume after a reset, cancel, expiry).
import Foundation
import Testing

@Suite("Uploads")
struct UploadTests {
    /// The upload's bytes as the media host serves them with =d (PNGs come back unchanged).
    private func download(_ api: APIClient, token: String) throws -> Data {
        let r = try api.batchCreate([(token, nil)])
        let item = (r.object["newMediaItemResults"] as? [[String: Any]])?.first?["mediaItem"] as? [String: Any]
        guard let base = item?["baseUrl"] as? String else { throw TestFailure("no baseUrl: \(r.text)") }
        let d = try RawHTTP.request("GET", base + "=d")
        guard d.status == 200 else { throw TestFailure("download \(d.status)") }
        return d.body
    }

    @Test("raw upload with Content-Length answers a text/plain token that batchCreate accepts")
    func rawContentLength() async throws {
        try await withEmulator { emu in
            let api = try APIClient(emu)
            let r = try api.uploadRaw(TestMedia.jpeg(width: 800, height: 600), name: "My photo.jpg")
            #expect(r.status == 200)
            #expect(r.header("content-type")?.hasPrefix("text/plain") == true)
            let token = r.text.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(token.count > 20)
            let c = try api.batchCreate([(token, nil)])
            let item = (c.object["newMediaItemResults"] as? [[String: Any]])?.first?["mediaItem"] as? [String: Any]
            #expect(item?["filename"] as? String == "My photo.jpg")
            let meta = item?["mediaMetadata"] as? [String: Any]
            #expect(meta?["width"] as? String == "800")
            #expect(meta?["height"] as? String == "600")
        }
    }

    @Test("raw upload with a chunked body stores the exact bytes")
    func rawChunked() async throws {
        try await withEmulator(["--knob", "batchCreateReturnsBaseURL=true"]) { emu in
            let api = try APIClient(emu)
            var bytes = TestMedia.png(width: 10, height: 10)
            bytes.append(Data((0..<50_000).map { UInt8($0 % 251) }))
            let r = try api.uploadRaw(bytes, name: "chunked.png", chunked: true, contentType: "image/png")
            #expect(r.status == 200)
            let got = try download(api, token: r.text)
            #expect(got == bytes)
        }
    }

    @Test("raw upload: empty body 400, no token 401, read-only token 403, over maxVideoBytes refused")
    func rawErrors() async throws {
        try await withEmulator(["--knob", "maxVideoBytes=1000"]) { emu in
            let api = try APIClient(emu)
            let empty = try api.uploadRaw(Data())
            #expect(empty.status == 400)
            #expect(empty.errorStatus == "INVALID_ARGUMENT")
            let anon = try RawHTTP.request("POST", emu.baseURL + "/v1/uploads", headers: [("X-Goog-Upload-Protocol", "raw")], body: Data([1, 2, 3]))
            #expect(anon.status == 401)
            let reader = try APIClient(emu, clientID: "reader", scopes: [Scopes.read])
            let denied = try reader.uploadRaw(TestMedia.jpeg())
            #expect(denied.status == 403)
            #expect(denied.errorMessage == "Request had insufficient authentication scopes.")
            let big = try api.uploadRaw(Data(repeating: 7, count: 2000))
            #expect(big.status == 413 || big.status == 400)
            #expect(big.errorStatus == "INVALID_ARGUMENT")
            let bigChunked = try api.uploadRaw(Data(repeating: 8, count: 2000), chunked: true)
            #expect(bigChunked.status == 413 || bigChunked.status == 400)
            // The server is still fine.
            #expect(try api.uploadRaw(Data(repeating: 9, count: 500)).status == 200)
        }
    }

    @Test("resumable: start headers, chunks, offset mismatch, non-granular chunk, query, finalize")
    func resumableChunks() async throws {
        try await withEmulator(["--knob", "chunkGranularity=1024", "--knob", "batchCreateReturnsBaseURL=true"]) { emu in
            let api = try APIClient(emu)
            var bytes = TestMedia.png()
            bytes.append(Data((0..<(3000 - bytes.count)).map { UInt8($0 % 199) }))
            let start = try api.startResumable(rawSize: bytes.count)
            #expect(start.status == 200)
            #expect(start.header("x-goog-upload-status") == "active")
            #expect(start.header("x-goog-upload-chunk-granularity") == "1024")
            let url = try #require(start.header("x-goog-upload-url"))
            #expect(url.hasPrefix(emu.baseURL + "/v1/uploads?upload_id="))

            let c1 = try api.session(url, command: "upload", offset: 0, body: bytes[0..<1024])
            #expect(c1.status == 200)
            let wrongOffset = try api.session(url, command: "upload", offset: 0, body: bytes[1024..<2048])
            #expect(wrongOffset.status == 400)
            let ragged = try api.session(url, command: "upload", offset: 1024, body: bytes[1024..<2000])
            #expect(ragged.status == 400)
            let q = try api.session(url, command: "query")
            #expect(q.status == 200)
            #expect(q.header("x-goog-upload-status") == "active")
            #expect(q.header("x-goog-upload-size-received") == "1024")
            let fin = try api.session(url, command: "upload, finalize", offset: 1024, body: bytes[1024...])
            #expect(fin.status == 200)
            #expect(fin.header("x-goog-upload-status") == "final")
            let token = fin.text.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(!token.isEmpty)
            let q2 = try api.session(url, command: "query")
            #expect(q2.header("x-goog-upload-status") == "final")
            #expect(try download(api, token: token) == bytes)
        }
    }

    @Test("resumable: Raw-Size mismatch at finalize is 400; an empty finalize finishes a complete upload")
    func resumableFinalize() async throws {
        try await withEmulator(["--knob", "chunkGranularity=1024"]) { emu in
            let api = try APIClient(emu)
            let bytes = TestMedia.png() + Data(repeating: 3, count: 2048 - TestMedia.png().count)
            let url = try #require(try api.startResumable(rawSize: bytes.count + 10).header("x-goog-upload-url"))
            let bad = try api.session(url, command: "upload, finalize", offset: 0, body: bytes)
            #expect(bad.status == 400)
            #expect(bad.errorStatus == "INVALID_ARGUMENT")

            let url2 = try #require(try api.startResumable(rawSize: bytes.count).header("x-goog-upload-url"))
            #expect(try api.session(url2, command: "upload", offset: 0, body: bytes).status == 200)
            let fin = try api.session(url2, command: "finalize")
            #expect(fin.status == 200)
            #expect(fin.header("x-goog-upload-status") == "final")
            let c = try api.batchCreate([(fin.text, nil)])
            #expect(((c.object["newMediaItemResults"] as? [[String: Any]])?.first?["status"] as? [String: Any])?["message"] as? String == "Success")
        }
    }

    @Test("resumable: an injected reset keeps granular bytes; query reports them; the upload resumes")
    func resumableResetFault() async throws {
        try await withEmulator(["--knob", "chunkGranularity=1024", "--knob", "batchCreateReturnsBaseURL=true"]) { emu in
            let api = try APIClient(emu)
            var bytes = TestMedia.png()
            bytes.append(Data((0..<(4000 - bytes.count)).map { UInt8($0 % 97) }))
            let url = try #require(try api.startResumable(rawSize: bytes.count).header("x-goog-upload-url"))
            let f = try emu.control("POST", "faults", ["spec": ["uploads:reset:count=1:after=2500"]])
            #expect(f.status == 200)
            var dropped = false
            do {
                let r = try api.session(url, command: "upload, finalize", offset: 0, body: bytes)
                dropped = r.status != 200 || r.text.contains("partial")
            } catch {
                dropped = true
            }
            #expect(dropped)
            let q = try api.session(url, command: "query")
            #expect(q.header("x-goog-upload-status") == "active")
            #expect(q.header("x-goog-upload-size-received") == "2048")
            let fin = try api.session(url, command: "upload, finalize", offset: 2048, body: bytes[2048...])
            #expect(fin.status == 200)
            #expect(try download(api, token: fin.text) == bytes)
        }
    }

    @Test("raw: a --fault reset drops the connection once, then uploads work")
    func rawResetFlag() async throws {
        try await withEmulator(["--fault", "uploads:reset:count=1:after=100"]) { emu in
            let api = try APIClient(emu)
            var failed = false
            do {
                let r = try api.uploadRaw(TestMedia.jpeg())
                failed = r.status != 200 || r.text.contains("partial")
            } catch {
                failed = true
            }
            #expect(failed)
            #expect(try api.uploadRaw(TestMedia.jpeg()).status == 200)
        }
    }

    @Test("resumable: a client hanging up mid-chunk leaves the server healthy and keeps granular bytes")
    func clientHangsUp() async throws {
        try await withEmulator(["--knob", "chunkGranularity=1024"]) { emu in
            let api = try APIClient(emu)
            let url = try #require(try api.startResumable(rawSize: 8192).header("x-goog-upload-url"))
            let target = String(url[url.range(of: "/v1/uploads")!.lowerBound...])
            var head = "POST \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(emu.port)\r\nAuthorization: Bearer \(api.accessToken)\r\n"
            head += "X-Goog-Upload-Command: upload\r\nX-Goog-Upload-Offset: 0\r\nContent-Length: 8192\r\n\r\n"
            try sendAndHangUp(port: emu.port, Data(head.utf8) + Data(repeating: 5, count: 3000))
            var received = ""
            for _ in 0..<50 {
                received = try api.session(url, command: "query").header("x-goog-upload-size-received") ?? ""
                if received == "2048" { break }
                usleep(100_000)
            }
            #expect(received == "2048")
            #expect(try RawHTTP.request("GET", emu.baseURL + "/emulator/v1/health").status == 200)
        }
    }

    @Test("resumable: cancel, unknown and foreign sessions, session expiry")
    func resumableCancelAndUnknown() async throws {
        try await withEmulator(["--knob", "chunkGranularity=1024", "--knob", "uploadSessionTTL=600"]) { emu in
            let api = try APIClient(emu)
            let url = try #require(try api.startResumable(rawSize: 4096).header("x-goog-upload-url"))
            #expect(try api.session(url, command: "upload", offset: 0, body: Data(repeating: 1, count: 1024)).status == 200)
            let c = try api.session(url, command: "cancel")
            #expect(c.status == 200)
            #expect(c.header("x-goog-upload-status") == "cancelled")
            #expect(try api.session(url, command: "query").header("x-goog-upload-status") == "cancelled")
            #expect(try api.session(url, command: "upload", offset: 1024, body: Data(repeating: 1, count: 1024)).status == 400)

            let unknown = try api.session(emu.baseURL + "/v1/uploads?upload_id=nope&upload_protocol=resumable", command: "query")
            #expect(unknown.status == 404)
            #expect(unknown.errorStatus == "NOT_FOUND")

            let url2 = try #require(try api.startResumable(rawSize: 4096).header("x-goog-upload-url"))
            let other = try APIClient(emu, clientID: "client-b.apps.googleusercontent.com")
            #expect(try other.session(url2, command: "query").status == 404)
            try emu.advanceClock(601)
            #expect(try api.session(url2, command: "query").status == 404)
        }
    }

    @Test("upload tokens expire after a day: batchCreate answers the per-item code 3")
    func tokenExpiry() async throws {
        try await withEmulator { emu in
            let api = try APIClient(emu)
            let token = try api.uploadToken(TestMedia.jpeg())
            try emu.advanceClock(86_401)
            let api2 = try APIClient(emu)  // a fresh access token: the old one expired with the clock
            let r = try api2.batchCreate([(token, nil)])
            #expect(r.status == 200)
            let st = (r.object["newMediaItemResults"] as? [[String: Any]])?.first?["status"] as? [String: Any]
            #expect(st?["code"] as? Int == 3)
            #expect(st?["message"] as? String == "Failed: There was an error while trying to create this media item.")
        }
    }
}
