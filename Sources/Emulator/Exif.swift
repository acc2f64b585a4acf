// EXIF in JPEG: read capture time and camera from APP1, and strip GPS data the way Google's `=d` downloads do.
import Foundation

/// The EXIF fields the emulator uses.
struct ExifInfo: Sendable, Equatable {
    /// DateTimeOriginal, "YYYY:MM:DD HH:MM:SS".
    var dateTimeOriginal: String?
    /// OffsetTimeOriginal, "+HH:MM".
    var offsetTimeOriginal: String?
    /// Make (IFD0).
    var make: String?
    /// Model (IFD0).
    var model: String?
    /// Whether IFD0 points at a GPS IFD.
    var hasGPS = false

    /// Capture time in seconds since 1970: DateTimeOriginal in OffsetTimeOriginal, else read as UTC; nil when absent or bad.
    var captureTime: Double? {
        guard let s = dateTimeOriginal else { return nil }
        let digits = Array(s.utf8).map { (0x30...0x39).contains($0) ? Int($0) - 0x30 : -1 }
        guard digits.count >= 19 else { return nil }
        func num(_ from: Int, _ len: Int) -> Int? {
            var v = 0
            for k in from..<from + len { guard digits[k] >= 0 else { return nil }; v = v * 10 + digits[k] }
            return v
        }
        guard let y = num(0, 4), let mo = num(5, 2), let d = num(8, 2), let h = num(11, 2), let mi = num(14, 2), let se = num(17, 2),
              (1...9999).contains(y), (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61 else { return nil }
        var comps = DateComponents()
        comps.year = y; comps.month = mo; comps.day = d; comps.hour = h; comps.minute = mi; comps.second = se
        var cal = Calendar(identifier: .gregorian)
        cal.timeZone = TimeZone(identifier: "UTC")!
        guard let date = cal.date(from: comps) else { return nil }
        var offset = 0
        if let o = offsetTimeOriginal, o.count >= 6, let sign = o.first, sign == "+" || sign == "-" {
            let parts = o.dropFirst().split(separator: ":")
            if parts.count == 2, let oh = Int(parts[0]), let om = Int(parts[1]), oh <= 14, om < 60 {
                offset = (oh * 3600 + om * 60) * (sign == "-" ? -1 : 1)
            }
        }
        return date.timeIntervalSince1970 - Double(offset)
    }
}

/// A bounds-checked reader and editor of the EXIF TIFF structure inside a JPEG's APP1 segment.
enum Exif {
    static let tagMake: UInt16 = 0x010F
    static let tagModel: UInt16 = 0x0110
    static let tagExifIFD: UInt16 = 0x8769
    static let tagGPSIFD: UInt16 = 0x8825
    static let tagDateTimeOriginal: UInt16 = 0x9003
    static let tagOffsetTimeOriginal: UInt16 = 0x9011

    /// Byte range of the TIFF data ("II*\0"/"MM\0*" header onwards) of the first Exif APP1 segment, within `b`.
    static func tiffRange(_ b: [UInt8]) -> Range<Int>? {
        guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
        var i = 2
        for _ in 0..<1024 {
            guard i + 4 <= b.count, b[i] == 0xFF else { return nil }
            let marker = b[i + 1]
            if marker == 0xFF { i += 1; continue }
            if marker == 0xDA || marker == 0xD9 { return nil }
            if (0xD0...0xD7).contains(marker) || marker == 0x01 { i += 2; continue }
            let len = Int(b[i + 2]) << 8 | Int(b[i + 3])
            guard len >= 2 else { return nil }
            let start = i + 4, end = min(b.count, i + 2 + len)
            if marker == 0xE1, end - start >= 14, Array(b[start..<start + 6]) == [0x45, 0x78, 0x69, 0x66, 0x00, 0x00] {
                return (start + 6)..<end
            }
            i += 2 + len
        }
        return nil
    }

    /// A view of the TIFF structure with endian-aware, bounds-checked reads (offsets relative to the TIFF header).
    struct TIFF {
        let base: Int
        let end: Int
        let little: Bool

        init?(_ b: [UInt8], _ r: Range<Int>) {
            guard r.count >= 8 else { return nil }
            base = r.lowerBound; end = r.upperBound
            if b[base] == 0x49, b[base + 1] == 0x49 { little = true }
            else if b[base] == 0x4D, b[base + 1] == 0x4D { little = false }
            else { return nil }
        }

        func ok(_ off: Int, _ n: Int) -> Bool { off >= 0 && n >= 0 && base + off + n <= end && off <= Int(Int32.max) }
        func u16(_ b: [UInt8], _ off: Int) -> UInt16? {
            guard ok(off, 2) else { return nil }
            let x = UInt16(b[base + off]), y = UInt16(b[base + off + 1])
            return little ? (y << 8 | x) : (x << 8 | y)
        }
        func u32(_ b: [UInt8], _ off: Int) -> UInt32? {
            guard let x = u16(b, off), let y = u16(b, off + 2) else { return nil }
            return little ? (UInt32(y) << 16 | UInt32(x)) : (UInt32(x) << 16 | UInt32(y))
        }

        /// One IFD entry: its tag, type, count, byte size of its value and where the value lives.
        struct Entry { let at: Int; let tag: UInt16; let type: UInt16; let count: Int; let size: Int; let valueOffset: Int }

        static func typeSize(_ t: UInt16) -> Int {
            switch t {
            case 1, 2, 6, 7: return 1
            case 3, 8: return 2
            case 4, 9, 11, 13: return 4
            case 5, 10, 12: return 8
            default: return 0
            }
        }

        /// Entries of the IFD at `off` (empty when malformed), capped at 1000.
        func entries(_ b: [UInt8], at off: Int) -> [Entry] {
            guard let n = u16(b, off), n <= 1000 else { return [] }
            var out: [Entry] = []
            for k in 0..<Int(n) {
                let e = off + 2 + 12 * k
                guard let tag = u16(b, e), let type = u16(b, e + 2), let count = u32(b, e + 4) else { break }
                let size = TIFF.typeSize(type) * Int(min(count, 1 << 24))
                let vo = size <= 4 ? e + 8 : Int(u32(b, e + 8) ?? UInt32.max)
                out.append(Entry(at: e, tag: tag, type: type, count: Int(count), size: size, valueOffset: vo))
            }
            return out
        }

        /// An ASCII value, without trailing NULs and spaces.
        func string(_ b: [UInt8], _ e: Entry) -> String? {
            guard e.type == 2 || e.type == 7, e.size > 0, e.size <= 4096, ok(e.valueOffset, e.size) else { return nil }
            var bytes = Array(b[base + e.valueOffset ..< base + e.valueOffset + e.size])
            while let last = bytes.last, last == 0 || last == 0x20 { bytes.removeLast() }
            return String(decoding: bytes, as: UTF8.self)
        }

        func offsetValue(_ b: [UInt8], _ e: Entry) -> Int? {
            guard e.type == 4 || e.type == 13, e.count == 1, let v = u32(b, e.at + 8) else { return nil }
            return Int(v)
        }
    }

    /// Reads the EXIF fields of a JPEG (a whole file or its leading bytes); nil when there is no readable EXIF.
    static func parse(_ data: Data) -> ExifInfo? {
        let b = [UInt8](data.prefix(MediaSniff.prefixLength))
        guard let r = tiffRange(b), let t = TIFF(b, r), let ifd0 = t.u32(b, 4) else { return nil }
        var info = ExifInfo()
        var exifIFD: Int?
        for e in t.entries(b, at: Int(ifd0)) {
            switch e.tag {
            case tagMake: info.make = t.string(b, e)
            case tagModel: info.model = t.string(b, e)
            case tagExifIFD: exifIFD = t.offsetValue(b, e)
            case tagGPSIFD: info.hasGPS = true
            default: break
            }
        }
        if let exifIFD {
            for e in t.entries(b, at: exifIFD) {
                if e.tag == tagDateTimeOriginal { info.dateTimeOriginal = t.string(b, e) }
                if e.tag == tagOffsetTimeOriginal { info.offsetTimeOriginal = t.string(b, e) }
            }
        }
        return info
    }

    /// Removes location from a JPEG's EXIF without moving any other byte: the GPS IFD's entries and their out-of-line
    /// values are zeroed, and the GPSInfo entry is taken out of IFD0 (later entries shift up, the freed slot is zeroed).
    /// Works on a whole file or on its leading bytes (the result has the same length); other input comes back unchanged.
    static func stripGPS(_ data: Data) -> Data {
        var b = [UInt8](data)
        guard let r = tiffRange(b), let t = TIFF(b, r), let ifd0v = t.u32(b, 4) else { return data }
        let ifd0 = Int(ifd0v)
        let entries = t.entries(b, at: ifd0)
        guard let idx = entries.firstIndex(where: { $0.tag == tagGPSIFD }) else { return data }
        let gpsEntry = entries[idx]
        if let gps = t.offsetValue(b, gpsEntry) {
            let gpsEntries = t.entries(b, at: gps)
            for e in gpsEntries {
                if e.size > 4, t.ok(e.valueOffset, e.size) {
                    for k in 0..<e.size { b[t.base + e.valueOffset + k] = 0 }
                }
            }
            let span = 2 + 12 * gpsEntries.count + 4
            if t.ok(gps, span) { for k in 0..<span { b[t.base + gps + k] = 0 } }
        }
        // Take the GPSInfo entry out of IFD0: shift the following entries and the next-IFD offset up by 12 bytes.
        let n = entries.count
        let tailStart = gpsEntry.at + 12
        let tailEnd = ifd0 + 2 + 12 * n + 4
        guard t.ok(ifd0, tailEnd - ifd0) else { return Data(b) }
        for k in 0..<(tailEnd - tailStart) { b[t.base + gpsEntry.at + k] = b[t.base + tailStart + k] }
        for k in (tailEnd - 12)..<tailEnd { b[t.base + k] = 0 }
        let newCount = UInt16(n - 1)
        b[t.base + ifd0] = t.little ? UInt8(newCount & 0xFF) : UInt8(newCount >> 8)
        b[t.base + ifd0 + 1] = t.little ? UInt8(newCount >> 8) : UInt8(newCount & 0xFF)
        return Data(b)
    }
}
