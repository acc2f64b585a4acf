// Hostile and malformed input to the albums/mediaItems methods: Google-style 4xx answers, never a crash or hang.
import Foundation
import Testing

@Suite("Library API: bad input")
struct BadInputTests {
    /// A raw request with the client's token and an arbitrary body and content type.
    static func raw(_ c: APIClient, _ method: String, _ path: String, body: Data?, contentType: String? = "application/json") throws -> HTTPResult {
        var h = [("Authorization", "Bearer \(c.accessToken)")]
        if let contentType { h.append(("Content-Type", contentType)) }
        return try RawHTTP.request(method, c.emu.baseURL + path, headers: h, body: body)
    }

    @Test("malformed, non-object, non-UTF-8 and deeply nested JSON bodies are 400 INVALID_ARGUMENT")
    func malformedJSON() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let album = try Lib.createAlbum(a, "x")
            let bodies: [Data] = [Data("{\"album\": {\"title\": ".utf8), Data("[1,2,3]".utf8), Data("null".utf8), Data("\"str\"".utf8),
                                  Data([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x3A, 0x31, 0x7D]), Data("{\"album\":{\"title\":\"a\"}}}".utf8),
                                  Data((String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000)).utf8),
                                  Data(("{\"album\":" + String(repeating: "{\"a\":", count: 20_000) + "1" + String(repeating: "}", count: 20_001)).utf8)]
            let targets = [("POST", "/v1/albums"), ("POST", "/v1/mediaItems:search"), ("POST", "/v1/albums/\(album):batchAddMediaItems"),
                           ("PATCH", "/v1/albums/\(album)?updateMask=title")]
            for body in bodies {
                for (method, path) in targets {
                    let r = try BadInputTests.raw(a, method, path, body: body)
                    #expect(r.status == 400, "\(method) \(path) \(body.prefix(20))")
                    #expect(r.errorStatus == "INVALID_ARGUMENT")
                    #expect(r.errorMessage?.hasPrefix("Invalid JSON payload received.") == true, "\(r.text.prefix(200))")
                }
                #expect(Lib.healthy(emu))
            }
        }
    }

    @Test("a non-JSON Content-Type is refused; unknown members and wrong types name the field")
    func contentTypeAndFields() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let body = Data("{\"album\":{\"title\":\"t\"}}".utf8)
            let plain = try BadInputTests.raw(a, "POST", "/v1/albums", body: body, contentType: "text/plain")
            #expect(plain.status == 400)
            #expect(plain.errorStatus == "INVALID_ARGUMENT")
            let form = try BadInputTests.raw(a, "POST", "/v1/albums", body: body, contentType: "application/x-www-form-urlencoded")
            #expect(form.status == 400)
            #expect(try BadInputTests.raw(a, "POST", "/v1/albums", body: body, contentType: "application/json; charset=utf-8").status == 200)

            let ids = try a.post("/v1/albums/x:batchAddMediaItems", ["mediaItemIds": "not-a-list"])
            #expect(ids.status == 400)
            #expect(ids.errorMessage?.contains("media_item_ids") == true)
            let nums = try a.post("/v1/mediaItems:search", ["pageSize": 99_999_999_999])
            #expect(nums.status == 400)
            #expect(nums.errorMessage?.contains("page_size") == true)
            let filters = try a.post("/v1/mediaItems:search", ["filters": [1, 2]])
            #expect(filters.status == 400)
            #expect(Lib.healthy(emu))
        }
    }

    @Test("query parameters: unknown names, non-numbers and bad tokens are 400; standard ones are accepted")
    func queryParameters() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            _ = try Lib.createAlbum(a, "x")
            let unknown = try a.get("/v1/albums?colour=red")
            #expect(unknown.status == 400)
            #expect(unknown.errorMessage?.contains("Cannot bind query parameter") == true)
            #expect(try a.get("/v1/albums?pageSize=abc").status == 400)
            #expect(try a.get("/v1/albums?pageSize=99999999999").status == 400)
            #expect(try a.get("/v1/mediaItems?pageSize=-5").status == 400)
            #expect(try a.get("/v1/albums?excludeNonAppCreatedData=maybe").status == 400)
            #expect(try a.get("/v1/mediaItems?pageToken=%FF%FE").status == 400)
            #expect(try a.get("/v1/mediaItems?pageToken=" + Lib.q(String(repeating: "A", count: 3000))).status == 400)
            let ok = try a.get("/v1/albums?prettyPrint=false&fields=albums&quotaUser=x&page_size=5&excludeNonAppCreatedData=true")
            #expect(ok.status == 200)
            #expect((ok.object["albums"] as? [Any])?.count == 1)
            #expect(Lib.healthy(emu))
        }
    }

    @Test("a 5 MB JSON body is refused with 413 or 400, and the server keeps serving")
    func hugeBody() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let title = String(repeating: "x", count: 5 * 1024 * 1024)
            let body = Data("{\"album\":{\"title\":\"\(title)\"}}".utf8)
            do {
                let r = try BadInputTests.raw(a, "POST", "/v1/albums", body: body)
                #expect(r.status == 413 || r.status == 400, "\(r.status)")
                #expect(r.errorStatus == "INVALID_ARGUMENT")
            } catch RawHTTPError.closedEarly {
                // The server may also refuse by closing the connection once the limit is passed.
            }
            #expect(Lib.healthy(emu))
            #expect(try a.get("/v1/albums").object["albums"] == nil, "nothing was created")
        }
    }

    @Test("hostile ids (.., %2F, 2,000 chars, unicode, NUL) are 4xx, never 5xx")
    func hostileIDs() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            _ = try Lib.seed(emu, ["mediaItems": [["ref": "i", "clientId": Lib.clientA]]])
            let ids = ["..", "..%2F..%2Fetc%2Fpasswd", "a%2Fb", String(repeating: "A", count: 2000), "%C3%A9t%C3%A9", "%F0%9F%93%B7",
                       "%00", "%25", "a%3Ab", "'%20OR%201=1--"]
            for id in ids {
                var results: [(String, HTTPResult)] = []
                results.append(("albums.get", try a.get("/v1/albums/\(id)")))
                results.append(("mediaItems.get", try a.get("/v1/mediaItems/\(id)")))
                results.append(("batchAdd", try a.post("/v1/albums/\(id):batchAddMediaItems", ["mediaItemIds": ["x"]])))
                results.append(("batchRemove", try a.post("/v1/albums/\(id):batchRemoveMediaItems", ["mediaItemIds": ["x"]])))
                results.append(("albums.patch", try a.patch("/v1/albums/\(id)?updateMask=title", ["title": "t"])))
                results.append(("mediaItems.patch", try a.patch("/v1/mediaItems/\(id)?updateMask=description", ["description": "d"])))
                results.append(("batchGet", try a.get("/v1/mediaItems:batchGet?mediaItemIds=\(id)")))
                results.append(("search", try a.post("/v1/mediaItems:search", ["albumId": id.removingPercentEncoding ?? id])))
                for (name, r) in results {
                    if name == "batchGet" {
                        #expect(r.status == 200 || (400..<500).contains(r.status), "\(name) \(id.prefix(40)): \(r.status)")
                    } else {
                        #expect((400..<500).contains(r.status), "\(name) \(id.prefix(40)): \(r.status)")
                    }
                }
            }
            // Raw UTF-8 bytes in the request line.
            let rawLine = Data("GET /v1/albums/\u{00E9}t\u{00E9} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(a.accessToken)\r\nConnection: close\r\n\r\n".utf8)
            if let r = try? RawHTTP.exchange(port: emu.port, bytes: rawLine) {
                #expect((400..<500).contains(r.status), "\(r.status)")
            }
            #expect(Lib.healthy(emu))
        }
    }

    @Test("a 100 KB request header gets a 4xx or a closed connection, and the server keeps serving")
    func hugeHeader() async throws {
        try await withEmulator { emu in
            let a = try APIClient(emu)
            let big = String(repeating: "b", count: 100 * 1024)
            let req = Data("GET /v1/albums HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(a.accessToken)\r\nX-Big: \(big)\r\nConnection: close\r\n\r\n".utf8)
            do {
                let r = try RawHTTP.exchange(port: emu.port, bytes: req, timeout: 10)
                #expect((400..<500).contains(r.status), "\(r.status)")
            } catch let e as RawHTTPError {
                #expect(e != .timeout, "the server must answer or close, not hang")
            }
            #expect(Lib.healthy(emu))
            #expect(try a.get("/v1/albums").status == 200)
        }
    }
}
