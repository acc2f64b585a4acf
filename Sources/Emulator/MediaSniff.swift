// Content sniffing: which photo or video format some bytes are (by magic numbers, never by headers), and their size.
import Foundation

/// What the emulator could tell about uploaded bytes from their content.
struct MediaInfo: Sendable, Equatable {
    /// MIME type Google would report, e.g. image/jpeg or video/mp4.
    let mimeType: String
    /// "photo" or "video".
    let kind: String
    /// Pixel width, 0 when the format's header was not parsed.
    var width: Int = 0
    /// Pixel height, 0 when unknown.
    var height: Int = 0
}

/// Recognises the photo and video formats Google Photos accepts.
enum MediaSniff {
    /// How many leading bytes of a file `sniff` wants (enough for JPEG APP segments before SOF).
    static let prefixLength = 1 << 20

    /// Identifies `data` (a file's leading bytes) as a photo or video format; nil for anything else.
    static func sniff(_ data: Data) -> MediaInfo? {
        let b = ByteReader(data)
        guard b.count >= 4 else { return nil }
        // Photos.
        if b.starts([0xFF, 0xD8, 0xFF]) {
            var info = MediaInfo(mimeType: "image/jpeg", kind: "photo")
            if let (w, h) = jpegSize(b) { info.width = w; info.height = h }
            return info
        }
        if b.starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) {
            var info = MediaInfo(mimeType: "image/png", kind: "photo")
            if b.count >= 24, b.ascii(12, 4) == "IHDR" { info.width = Int(b.be32(16)); info.height = Int(b.be32(20)) }
            return info
        }
        if b.ascii(0, 6) == "GIF87a" || b.ascii(0, 6) == "GIF89a" {
            var info = MediaInfo(mimeType: "image/gif", kind: "photo")
            if b.count >= 10 { info.width = Int(b.le16(6)); info.height = Int(b.le16(8)) }
            return info
        }
        if b.ascii(0, 4) == "RIFF", b.ascii(8, 4) == "WEBP" {
            var info = MediaInfo(mimeType: "image/webp", kind: "photo")
            if let (w, h) = webpSize(b) { info.width = w; info.height = h }
            return info
        }
        if b.ascii(0, 4) == "RIFF", b.ascii(8, 4) == "AVI " { return MediaInfo(mimeType: "video/x-msvideo", kind: "video") }
        if b.starts([0x49, 0x49, 0x2A, 0x00]) || b.starts([0x4D, 0x4D, 0x00, 0x2A]) {
            return MediaInfo(mimeType: "image/tiff", kind: "photo")
        }
        if b.ascii(0, 2) == "BM", b.count >= 26, b.le32(2) >= 26 {
            let w = Int(Int32(bitPattern: b.le32(18))), h = Int(Int32(bitPattern: b.le32(22)))
            return MediaInfo(mimeType: "image/bmp", kind: "photo", width: abs(w), height: abs(h))
        }
        if b.starts([0x00, 0x00, 0x01, 0x00]), b.count >= 6, b.le16(4) > 0 {
            var info = MediaInfo(mimeType: "image/x-icon", kind: "photo")
            if b.count >= 8 { info.width = b[6] == 0 ? 256 : Int(b[6]); info.height = b[7] == 0 ? 256 : Int(b[7]) }
            return info
        }
        // ISO base media (ftyp): HEIC/HEIF/AVIF photos, MP4/M4V/MOV/3GP videos.
        if b.count >= 12, b.ascii(4, 4) == "ftyp" { return isoBMFF(b) }
        // QuickTime files may start with other atoms.
        if b.count >= 8, ["moov", "mdat", "wide", "free", "skip", "pnot"].contains(b.ascii(4, 4)), b.be32(0) >= 8 {
            return MediaInfo(mimeType: "video/quicktime", kind: "video")
        }
        // Matroska / WebM (EBML).
        if b.starts([0x1A, 0x45, 0xDF, 0xA3]) {
            let head = b.ascii(0, min(b.count, 64))
            return MediaInfo(mimeType: head.contains("webm") ? "video/webm" : "video/x-matroska", kind: "video")
        }
        // ASF / WMV.
        if b.starts([0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11]) { return MediaInfo(mimeType: "video/x-ms-wmv", kind: "video") }
        // MPEG program stream.
        if b.starts([0x00, 0x00, 0x01, 0xBA]) { return MediaInfo(mimeType: "video/mpeg", kind: "video") }
        // MPEG transport stream: sync byte every 188 bytes (M2TS: 192 with a 4-byte timestamp prefix).
        if isTransportStream(b, stride: 188, first: 0) { return MediaInfo(mimeType: "video/mp2t", kind: "video") }
        if isTransportStream(b, stride: 192, first: 4) { return MediaInfo(mimeType: "video/mp2t", kind: "video") }
        return nil
    }

    /// Walks JPEG marker segments up to the first SOFn and reads its size.
    static func jpegSize(_ b: ByteReader) -> (Int, Int)? {
        var i = 2
        for _ in 0..<4096 {
            guard i + 4 <= b.count else { return nil }
            guard b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) { i += 2; continue }
            if marker == 0xD9 || marker == 0xDA { return nil }
            let len = Int(b.be16(i + 2))
            guard len >= 2 else { return nil }
            if (0xC0...0xCF).contains(marker), marker != 0xC4, marker != 0xC8, marker != 0xCC {
                guard i + 9 <= b.count else { return nil }
                return (Int(b.be16(i + 7)), Int(b.be16(i + 5)))
            }
            i += 2 + len
        }
        return nil
    }

    /// WebP canvas size from a VP8, VP8L or VP8X chunk.
    static func webpSize(_ b: ByteReader) -> (Int, Int)? {
        guard b.count >= 30 else { return nil }
        switch b.ascii(12, 4) {
        case "VP8X":
            let w = Int(b[24]) | Int(b[25]) << 8 | Int(b[26]) << 16
            let h = Int(b[27]) | Int(b[28]) << 8 | Int(b[29]) << 16
            return (w + 1, h + 1)
        case "VP8L":
            guard b[20] == 0x2F else { return nil }
            let v = b.le32(21)
            return (Int(v & 0x3FFF) + 1, Int((v >> 14) & 0x3FFF) + 1)
        case "VP8 ":
            guard b[23] == 0x9D, b[24] == 0x01, b[25] == 0x2A else { return nil }
            return (Int(b.le16(26) & 0x3FFF), Int(b.le16(28) & 0x3FFF))
        default:
            return nil
        }
    }

    /// Classifies an ISO base media file by its ftyp major and compatible brands.
    static func isoBMFF(_ b: ByteReader) -> MediaInfo? {
        let boxSize = Int(b.be32(0))
        var brands = [b.ascii(8, 4)]
        var i = 16
        while i + 4 <= min(b.count, boxSize, 256) { brands.append(b.ascii(i, 4)); i += 4 }
        let major = brands[0]
        let photoBrands: [String: String] = ["heic": "image/heic", "heix": "image/heic", "heim": "image/heic", "heis": "image/heic",
                                             "hevc": "image/heic-sequence", "hevx": "image/heic-sequence",
                                             "mif1": "image/heif", "msf1": "image/heif-sequence",
                                             "avif": "image/avif", "avis": "image/avif"]
        if let m = photoBrands[major] { return MediaInfo(mimeType: m, kind: "photo") }
        if major == "qt  " { return MediaInfo(mimeType: "video/quicktime", kind: "video") }
        if major.hasPrefix("3g2") { return MediaInfo(mimeType: "video/3gpp2", kind: "video") }
        if major.hasPrefix("3gp") || major.hasPrefix("3ge") || major.hasPrefix("3gg") { return MediaInfo(mimeType: "video/3gpp", kind: "video") }
        if major == "M4V " || major == "M4VH" || major == "M4VP" { return MediaInfo(mimeType: "video/x-m4v", kind: "video") }
        let videoBrands: Set<String> = ["isom", "iso2", "iso3", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "dash", "MSNV", "NDAS",
                                        "XAVC", "f4v ", "mmp4"]
        if major == "M4A " { return nil }  // audio only
        if videoBrands.contains(major) { return MediaInfo(mimeType: "video/mp4", kind: "video") }
        // Unknown major brand: decide by the compatible brands.
        for brand in brands.dropFirst() {
            if let m = photoBrands[brand] { return MediaInfo(mimeType: m, kind: "photo") }
            if videoBrands.contains(brand) || brand == "qt  " { return MediaInfo(mimeType: "video/mp4", kind: "video") }
        }
        return nil
    }

    /// Whether `b` looks like an MPEG-TS stream (0x47 sync bytes at a fixed stride, several packets in a row).
    static func isTransportStream(_ b: ByteReader, stride: Int, first: Int) -> Bool {
        let packets = min(5, (b.count - first) / stride)
        guard packets >= 2 else { return false }
        for p in 0..<packets where b[first + p * stride] != 0x47 { return false }
        return true
    }
}

/// Bounds-checked big- and little-endian reads over a byte buffer; out-of-range reads give 0.
struct ByteReader {
    let a: [UInt8]
    init(_ d: Data) { a = [UInt8](d) }
    init(_ a: [UInt8]) { self.a = a }
    var count: Int { a.count }
    subscript(_ i: Int) -> UInt8 { i >= 0 && i < a.count ? a[i] : 0 }
    /// Whether the buffer begins with `p`.
    func starts(_ p: [UInt8]) -> Bool { a.count >= p.count && Array(a[0..<p.count]) == p }
    /// `n` bytes at `i` as Latin-1 text (empty when out of range).
    func ascii(_ i: Int, _ n: Int) -> String {
        guard i >= 0, n >= 0, i + n <= a.count else { return "" }
        return String(a[i..<i + n].map { Character(Unicode.Scalar($0)) })
    }
    func be16(_ i: Int) -> UInt16 { UInt16(self[i]) << 8 | UInt16(self[i + 1]) }
    func le16(_ i: Int) -> UInt16 { UInt16(self[i + 1]) << 8 | UInt16(self[i]) }
    func be32(_ i: Int) -> UInt32 { UInt32(be16(i)) << 16 | UInt32(be16(i + 2)) }
    func le32(_ i: Int) -> UInt32 { UInt32(le16(i + 2)) << 16 | UInt32(le16(i)) }
}
