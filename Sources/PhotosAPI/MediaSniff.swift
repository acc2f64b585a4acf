// Media type sniffing: which photo or video format Google accepts a file's bytes are, by magic numbers (the mount at
// close, gphotos-sync before it copies).
import Foundation

/// Recognises the formats of Google's upload guide (photos: AVIF, BMP, GIF, HEIC, ICO, JPG, PNG, TIFF, WEBP, RAW;
/// videos: 3GP, 3G2, ASF/WMV, AVI, MKV/WEBM, M2TS/MTS, M4V, MOV, MP4, MPG). Written independently of the emulator's.
public enum MediaSniff {
    /// Bytes of the file's head that `mimeType(head:)` needs.
    public static let headLength = 1024

    /// The MIME type of a file starting with `head`, or nil when it is not a photo or video Google accepts.
    public static func mimeType(head: [UInt8], fileName: String) -> String? {
        let h = Head(head)
        if h.has([0xFF, 0xD8, 0xFF]) { return "image/jpeg" }
        if h.has([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return "image/png" }
        if h.text(0, 6) == "GIF87a" || h.text(0, 6) == "GIF89a" { return "image/gif" }
        if h.text(0, 4) == "RIFF" {
            switch h.text(8, 4) {
            case "WEBP": return "image/webp"
            case "AVI ": return "video/x-msvideo"
            default: return nil
            }
        }
        if h.has([0x49, 0x49, 0x2A, 0x00]) || h.has([0x4D, 0x4D, 0x00, 0x2A]) { return tiffFamily(fileName) }
        if h.has([0x49, 0x49, 0x52, 0x4F]) { return "image/x-olympus-orf" }   // ORF: "IIRO"
        if h.has([0x49, 0x49, 0x55, 0x00]) { return "image/x-panasonic-rw2" } // RW2
        if h.text(0, 8) == "FUJIFILM" { return "image/x-fuji-raf" }
        if h.text(0, 2) == "BM", h.count >= 14 { return "image/bmp" }
        if h.has([0x00, 0x00, 0x01, 0x00]), h.count >= 6, h.byte(4) | h.byte(5) != 0 { return "image/x-icon" }
        if h.count >= 12, h.text(4, 4) == "ftyp" { return isoMedia(h) }
        if h.count >= 8, ["moov", "mdat", "wide", "free", "skip", "pnot"].contains(h.text(4, 4)) { return "video/quicktime" }
        if h.has([0x1A, 0x45, 0xDF, 0xA3]) {
            return h.contains("webm") ? "video/webm" : "video/x-matroska"
        }
        if h.has([0x30, 0x26, 0xB2, 0x75, 0x8E, 0x66, 0xCF, 0x11, 0xA6, 0xD9]) { return "video/x-ms-asf" }
        if h.has([0x00, 0x00, 0x01, 0xBA]) || h.has([0x00, 0x00, 0x01, 0xB3]) { return "video/mpeg" }
        if h.syncEvery(188, from: 0) || h.syncEvery(192, from: 4) { return "video/mp2t" }
        return nil
    }

    /// TIFF-based files: plain TIFF or a camera RAW (CR2, NEF, ARW, DNG, ...) told apart by the name's extension.
    private static func tiffFamily(_ name: String) -> String {
        switch (name as NSString).pathExtension.lowercased() {
        case "cr2": "image/x-canon-cr2"
        case "nef", "nrw": "image/x-nikon-nef"
        case "arw", "srf", "sr2": "image/x-sony-arw"
        case "dng": "image/x-adobe-dng"
        case "pef": "image/x-pentax-pef"
        default: "image/tiff"
        }
    }

    /// ISO base media files by major brand, then by compatible brands.
    private static func isoMedia(_ h: Head) -> String? {
        let boxEnd = min(Int(h.be32(0)), h.count, 128)
        var brands = [h.text(8, 4)]
        var at = 16
        while at + 4 <= boxEnd { brands.append(h.text(at, 4)); at += 4 }
        for brand in brands {
            switch brand {
            case "heic", "heix", "heim", "heis", "hevc", "hevx": return "image/heic"
            case "mif1", "msf1": return "image/heif"
            case "avif", "avis": return "image/avif"
            case "qt  ": return "video/quicktime"
            case "M4V ", "M4VH", "M4VP": return "video/x-m4v"
            case "M4A ", "M4B ", "M4P ": if brand == brands[0] { return nil }
            default:
                if brand.hasPrefix("3g2") { return "video/3gpp2" }
                if brand.hasPrefix("3gp") || brand.hasPrefix("3ge") || brand.hasPrefix("3gg") { return "video/3gpp" }
                if ["isom", "iso2", "iso4", "iso5", "iso6", "mp41", "mp42", "avc1", "MSNV", "XAVC", "mmp4", "dash"].contains(brand) {
                    return "video/mp4"
                }
            }
        }
        return nil
    }

    /// Bounds-checked reads over the head bytes (out of range reads as 0 / "").
    private struct Head {
        let b: [UInt8]
        init(_ b: [UInt8]) { self.b = b }
        var count: Int { b.count }
        func byte(_ i: Int) -> UInt8 { i >= 0 && i < b.count ? b[i] : 0 }
        func has(_ p: [UInt8]) -> Bool { b.count >= p.count && b.starts(with: p) }
        func text(_ i: Int, _ n: Int) -> String {
            guard i >= 0, i + n <= b.count else { return "" }
            return String(decoding: b[i..<i + n], as: Unicode.ASCII.self)
        }
        func be32(_ i: Int) -> UInt32 {
            UInt32(byte(i)) << 24 | UInt32(byte(i + 1)) << 16 | UInt32(byte(i + 2)) << 8 | UInt32(byte(i + 3))
        }
        func contains(_ s: String) -> Bool {
            let needle = Array(s.utf8)
            guard b.count >= needle.count else { return false }
            return (0...(b.count - needle.count)).contains { b[$0..<$0 + needle.count].elementsEqual(needle) }
        }
        /// MPEG-TS: the 0x47 sync byte at a fixed stride, at least three packets in the head.
        func syncEvery(_ stride: Int, from: Int) -> Bool {
            let packets = (b.count - from) / stride
            guard packets >= 3 else { return false }
            return (0..<min(packets, 5)).allSatisfy { byte(from + $0 * stride) == 0x47 }
        }
    }
}
