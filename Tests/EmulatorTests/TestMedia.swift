// Test-side media: generators of JPEG-with-EXIF, PNG and MP4 bytes, a small EXIF/PNG reader, and upload helpers.
// Written independently of the emulator's parser so the tests check it rather than mirror it.
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// EXIF contents a generated JPEG carries.
struct TestExif {
    var dateTimeOriginal: String?
    var offsetTimeOriginal: String?
    var make: String?
    var model: String?
    var gps = false
    var littleEndian = false
}

/// Byte generators and readers for test media.
enum TestMedia {
    /// A JPEG: SOI, optional APP1 Exif (IFD0 with Make/Model, Exif IFD, GPS IFD), COM with `salt`, SOF0 W×H, EOI.
    static func jpeg(width: Int = 640, height: Int = 480, exif: TestExif? = nil, salt: String = UUID().uuidString) -> Data {
        var d = Data([0xFF, 0xD8])
        if let exif {
            let tiff = tiffBlock(exif)
            let seg = Data("Exif\0\0".utf8) + tiff
            d += [0xFF, 0xE1, UInt8((seg.count + 2) >> 8), UInt8((seg.count + 2) & 0xFF)]
            d += seg
        }
        let c = Array(salt.utf8)
        d += [0xFF, 0xFE, UInt8((c.count + 2) >> 8), UInt8((c.count + 2) & 0xFF)] + c
        d += [0xFF, 0xC0, 0x00, 0x11, 0x08, UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF),
              0x03, 0x01, 0x22, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01]
        d += [0xFF, 0xD9]
        return d
    }

    /// Builds the TIFF structure: header, IFD0, Exif IFD, GPS IFD, then out-of-line values.
    private static func tiffBlock(_ e: TestExif) -> Data {
        let le = e.littleEndian
        func u16(_ v: Int) -> [UInt8] { le ? [UInt8(v & 0xFF), UInt8(v >> 8 & 0xFF)] : [UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func u32(_ v: Int) -> [UInt8] { le ? u16(v & 0xFFFF) + u16(v >> 16) : u16(v >> 16) + u16(v & 0xFFFF) }
        struct Tag { let tag: Int; let type: Int; let count: Int; let value: [UInt8] }
        func ascii(_ tag: Int, _ s: String) -> Tag { let b = Array(s.utf8) + [0]; return Tag(tag: tag, type: 2, count: b.count, value: b) }
        var ifd0: [Tag] = []
        if let m = e.make { ifd0.append(ascii(0x010F, m)) }
        if let m = e.model { ifd0.append(ascii(0x0110, m)) }
        var exifTags: [Tag] = []
        if let s = e.dateTimeOriginal { exifTags.append(ascii(0x9003, s)) }
        if let s = e.offsetTimeOriginal { exifTags.append(ascii(0x9011, s)) }
        var gpsTags: [Tag] = []
        if e.gps {
            gpsTags.append(ascii(0x0001, "N"))
            gpsTags.append(Tag(tag: 0x0002, type: 5, count: 3, value: u32(48) + u32(1) + u32(51) + u32(1) + u32(2400) + u32(100)))
            gpsTags.append(ascii(0x0003, "E"))
            gpsTags.append(Tag(tag: 0x0004, type: 5, count: 3, value: u32(2) + u32(1) + u32(17) + u32(1) + u32(4000) + u32(100)))
        }
        // Layout: header(8) | IFD0 | ExifIFD | GPSIFD | data area.
        let ifd0Count = ifd0.count + 1 + (e.gps ? 1 : 0)
        let ifd0Off = 8
        let exifOff = ifd0Off + 2 + 12 * ifd0Count + 4
        let gpsOff = exifOff + 2 + 12 * exifTags.count + 4
        var dataOff = gpsOff + (e.gps ? 2 + 12 * gpsTags.count + 4 : 0)
        var dataArea: [UInt8] = []
        func entries(_ tags: [Tag]) -> [UInt8] {
            var out: [UInt8] = []
            for t in tags {
                out += u16(t.tag) + u16(t.type) + u32(t.count)
                if t.value.count <= 4 {
                    out += t.value + [UInt8](repeating: 0, count: 4 - t.value.count)
                } else {
                    out += u32(dataOff)
                    dataArea += t.value
                    dataOff += t.value.count
                    if t.value.count % 2 == 1 { dataArea.append(0); dataOff += 1 }
                }
            }
            return out
        }
        var all = ifd0.map { $0 }
        all.append(Tag(tag: 0x8769, type: 4, count: 1, value: u32(exifOff)))
        if e.gps { all.append(Tag(tag: 0x8825, type: 4, count: 1, value: u32(gpsOff))) }
        var out: [UInt8] = (le ? [0x49, 0x49] : [0x4D, 0x4D]) + u16(42) + u32(8)
        out += u16(all.count) + entries(all) + u32(0)
        out += u16(exifTags.count) + entries(exifTags) + u32(0)
        if e.gps { out += u16(gpsTags.count) + entries(gpsTags) + u32(0) }
        out += dataArea
        return Data(out)
    }

    /// What the test-side reader found in a JPEG's EXIF.
    struct ReadExif {
        var ifd0Tags: [Int] = []
        var dateTimeOriginal: String?
        var make: String?
        var gpsTagCount = 0
    }

    /// Reads EXIF from a JPEG (test-side implementation; assumes well-formed input).
    static func readExif(_ data: Data) -> ReadExif? {
        let b = [UInt8](data)
        var i = 2
        while i + 4 < b.count, b[i] == 0xFF {
            let len = Int(b[i + 2]) << 8 | Int(b[i + 3])
            if b[i + 1] == 0xE1, String(decoding: b[(i + 4)..<(i + 8)], as: UTF8.self) == "Exif" {
                let t = i + 10
                let le = b[t] == 0x49
                func u16(_ o: Int) -> Int { le ? Int(b[t + o]) | Int(b[t + o + 1]) << 8 : Int(b[t + o]) << 8 | Int(b[t + o + 1]) }
                func u32(_ o: Int) -> Int { le ? u16(o) | u16(o + 2) << 16 : u16(o) << 16 | u16(o + 2) }
                func str(_ e: Int) -> String {
                    let n = u32(e + 4), off = n <= 4 ? e + 8 : u32(e + 8)
                    return String(decoding: b[(t + off)..<(t + off + n)].filter { $0 != 0 }, as: UTF8.self)
                }
                var r = ReadExif()
                let ifd0 = u32(4)
                var exifIFD: Int?, gpsIFD: Int?
                for k in 0..<u16(ifd0) {
                    let e = ifd0 + 2 + 12 * k
                    let tag = u16(e)
                    r.ifd0Tags.append(tag)
                    if tag == 0x010F { r.make = str(e) }
                    if tag == 0x8769 { exifIFD = u32(e + 8) }
                    if tag == 0x8825 { gpsIFD = u32(e + 8) }
                }
                if let x = exifIFD {
                    for k in 0..<u16(x) where u16(x + 2 + 12 * k) == 0x9003 { r.dateTimeOriginal = str(x + 2 + 12 * k) }
                }
                if let g = gpsIFD { r.gpsTagCount = u16(g) }
                return r
            }
            i += 2 + len
        }
        return nil
    }

    /// Whether bytes contain a byte pattern.
    static func contains(_ data: Data, _ pattern: [UInt8]) -> Bool { data.range(of: Data(pattern)) != nil }

    /// A minimal PNG: signature, IHDR (W×H, 8-bit gray), a tEXt chunk with `salt`, IEND.
    static func png(width: Int = 320, height: Int = 200, salt: String = UUID().uuidString) -> Data {
        func chunk(_ type: String, _ body: [UInt8]) -> [UInt8] {
            let t = Array(type.utf8)
            return be32(body.count) + t + body + be32(Int(crc32(t + body)))
        }
        var d: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        d += chunk("IHDR", be32(width) + be32(height) + [8, 0, 0, 0, 0])
        d += chunk("tEXt", Array("Comment\0\(salt)".utf8))
        d += chunk("IEND", [])
        return Data(d)
    }

    /// An MP4: ftyp (isom) and an mdat box holding `salt` plus `padding` bytes.
    static func mp4(salt: String = UUID().uuidString, padding: Int = 2000) -> Data {
        var d: [UInt8] = be32(24) + Array("ftypisom".utf8) + be32(0x200) + Array("isomiso2".utf8)
        let payload = Array(salt.utf8) + [UInt8](repeating: 0x11, count: padding)
        d += be32(payload.count + 8) + Array("mdat".utf8) + payload
        return Data(d)
    }

    static func be32(_ v: Int) -> [UInt8] { [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c & 1) == 1 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
        }
        return ~c
    }

    /// Width and height from a PNG's IHDR, after checking the signature and the IHDR CRC; nil when not a PNG.
    static func pngSize(_ data: Data) -> (Int, Int)? {
        let b = [UInt8](data)
        guard b.count >= 33, b[0..<8] == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A],
              String(decoding: b[12..<16], as: UTF8.self) == "IHDR" else { return nil }
        let crc = UInt32(b[29]) << 24 | UInt32(b[30]) << 16 | UInt32(b[31]) << 8 | UInt32(b[32])
        guard crc == crc32(Array(b[12..<29])) else { return nil }
        func be(_ o: Int) -> Int { Int(b[o]) << 24 | Int(b[o + 1]) << 16 | Int(b[o + 2]) << 8 | Int(b[o + 3]) }
        return (be(16), be(20))
    }
}

/// Upload and batchCreate helpers over HTTP.
extension APIClient {
    /// A raw upload; returns the HTTP result (the token is its body).
    func uploadRaw(_ bytes: Data, name: String? = nil, chunked: Bool = false, contentType: String = "image/jpeg") throws -> HTTPResult {
        var h: [(String, String)] = [("Authorization", "Bearer \(accessToken)"), ("Content-Type", "application/octet-stream"),
                                     ("X-Goog-Upload-Protocol", "raw"), ("X-Goog-Upload-Content-Type", contentType)]
        if let name { h.append(("X-Goog-Upload-File-Name", name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? name)) }
        return try RawHTTP.request("POST", emu.baseURL + "/v1/uploads", headers: h, body: bytes, chunked: chunked)
    }

    /// A raw upload that must succeed; returns the token.
    func uploadToken(_ bytes: Data, name: String? = nil) throws -> String {
        let r = try uploadRaw(bytes, name: name)
        guard r.status == 200 else { throw TestFailure("upload failed: \(r.status) \(r.text)") }
        return r.text.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A request on a resumable session URL.
    func session(_ url: String, command: String, offset: Int? = nil, body: Data? = nil) throws -> HTTPResult {
        var h: [(String, String)] = [("Authorization", "Bearer \(accessToken)"), ("X-Goog-Upload-Command", command)]
        if let offset { h.append(("X-Goog-Upload-Offset", String(offset))) }
        return try RawHTTP.request("POST", url, headers: h, body: body ?? Data())
    }

    /// Starts a resumable upload; returns the session URL.
    func startResumable(rawSize: Int, name: String = "big.png") throws -> HTTPResult {
        try RawHTTP.request("POST", emu.baseURL + "/v1/uploads", headers: [
            ("Authorization", "Bearer \(accessToken)"), ("X-Goog-Upload-Protocol", "resumable"), ("X-Goog-Upload-Command", "start"),
            ("X-Goog-Upload-Raw-Size", String(rawSize)), ("X-Goog-Upload-Content-Type", "image/png"), ("X-Goog-Upload-File-Name", name),
        ], body: Data())
    }

    /// batchCreate with simple items (token, optional fileName/description).
    func batchCreate(_ items: [(token: String, fileName: String?)], albumId: String? = nil, position: [String: Any]? = nil,
                     descriptions: [String]? = nil) throws -> HTTPResult {
        var body: [String: Any] = [:]
        body["newMediaItems"] = items.enumerated().map { i, it -> [String: Any] in
            var simple: [String: Any] = ["uploadToken": it.token]
            if let f = it.fileName { simple["fileName"] = f }
            var o: [String: Any] = ["simpleMediaItem": simple]
            if let d = descriptions?[i] { o["description"] = d }
            return o
        }
        if let albumId { body["albumId"] = albumId }
        if let position { body["albumPosition"] = position }
        return try post("/v1/mediaItems:batchCreate", body)
    }

    /// Uploads bytes and creates one item; returns its mediaItem JSON.
    func create(_ bytes: Data, name: String? = "IMG.jpg", fileName: String? = nil, albumId: String? = nil,
                position: [String: Any]? = nil) throws -> [String: Any] {
        let token = try uploadToken(bytes, name: name)
        let r = try batchCreate([(token, fileName)], albumId: albumId, position: position)
        let results = r.object["newMediaItemResults"] as? [[String: Any]] ?? []
        guard r.status == 200, let item = results.first?["mediaItem"] as? [String: Any] else {
            throw TestFailure("batchCreate failed: \(r.status) \(r.text)")
        }
        return item
    }
}

extension EmulatorProcess {
    /// Seeds an album owned by `clientId` (nil = the user's own, not app-created) and returns its id.
    func seedAlbum(title: String, clientId: String?, items: [String] = []) throws -> String {
        var album: [String: Any] = ["title": title, "items": items]
        if let clientId { album["clientId"] = clientId }
        let r = try control("POST", "seed", ["albums": [album]])
        guard r.status == 200, let id = (r.object["albums"] as? [[String: Any]])?.first?["id"] as? String else {
            throw TestFailure("seed failed: \(r.text)")
        }
        return id
    }

    /// An album's item ids in order, through the control API.
    func albumItems(_ albumId: String) throws -> [String] {
        try control("GET", "albums/\(albumId)/items").object["mediaItemIds"] as? [String] ?? []
    }

    /// The emulator clock's now, in seconds since 1970.
    func clockNow() throws -> Double {
        let s = try control("GET", "clock").object["now"] as? String ?? ""
        return parseRFC3339(s) ?? 0
    }
}

/// Parses an RFC 3339 timestamp.
func parseRFC3339(_ s: String) -> Double? {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    if let d = f.date(from: s) { return d.timeIntervalSince1970 }
    f.formatOptions = [.withInternetDateTime]
    return f.date(from: s)?.timeIntervalSince1970
}

/// Sends `bytes` on a fresh connection and closes it without reading (a client that gives up mid-body).
func sendAndHangUp(port: Int, _ bytes: Data) throws {
    let fd = try RawHTTP.connect(port: port, timeout: 20)
    defer { close(fd) }
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL)) }
    usleep(200_000)
}
