// Generated images for `=wW-hH` base-URL requests: a hand-written gray PNG (stored deflate blocks), produced piecewise.
import Foundation

/// A gray 8-bit PNG of a given size, generated in pieces of at most ~64 KB so memory stays bounded at any size.
struct GeneratedPNG: Sendable {
    /// Largest side the emulator generates (larger requests are clamped).
    static let maxSide = 16384
    /// Largest stored deflate block.
    static let blockSize = 65535

    let width: Int
    let height: Int
    /// Gray level of every pixel.
    let gray: UInt8

    /// A PNG of `width`×`height` (each clamped to 1...maxSide).
    init(width: Int, height: Int, gray: UInt8 = 0x80) {
        self.width = min(max(width, 1), GeneratedPNG.maxSide)
        self.height = min(max(height, 1), GeneratedPNG.maxSide)
        self.gray = gray
    }

    /// Bytes of filtered scanlines (one filter byte per row) that the zlib stream stores.
    var rawLength: Int { height * (width + 1) }
    private var blocks: Int { max(1, (rawLength + GeneratedPNG.blockSize - 1) / GeneratedPNG.blockSize) }

    /// Exact size of the file: signature, IHDR, one IDAT with the zlib header, one IDAT per stored block, one IDAT
    /// with the Adler-32, IEND.
    var byteCount: Int { 8 + 25 + (12 + 2) + blocks * (12 + 5) + rawLength + (12 + 4) + 12 }

    /// The whole file in memory (only for small images).
    var data: Data {
        var out = Data()
        var it = pieces()
        while let d = it.next() { out.append(d) }
        return out
    }

    /// An iterator over the file's bytes, a chunk at a time.
    func pieces() -> Pieces { Pieces(png: self) }

    /// Yields the PNG chunk by chunk.
    struct Pieces: Sendable {
        let png: GeneratedPNG
        private var stage = 0
        private var block = 0
        private var adler = Adler32()

        init(png: GeneratedPNG) { self.png = png }

        /// The next piece, or nil at the end.
        mutating func next() -> Data? {
            switch stage {
            case 0:
                stage = 1
                var ihdr = Data()
                ihdr.appendBE32(UInt32(png.width)); ihdr.appendBE32(UInt32(png.height))
                ihdr.append(contentsOf: [8, 0, 0, 0, 0])  // 8-bit, grayscale, deflate, filter 0, no interlace
                var d = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
                d.append(GeneratedPNG.chunk("IHDR", ihdr))
                d.append(GeneratedPNG.chunk("IDAT", Data([0x78, 0x01])))
                return d
            case 1:
                let start = block * GeneratedPNG.blockSize
                let len = min(GeneratedPNG.blockSize, png.rawLength - start)
                let last = start + len >= png.rawLength
                var payload = Data(capacity: len + 5)
                payload.append(last ? 1 : 0)
                payload.append(UInt8(len & 0xFF)); payload.append(UInt8(len >> 8))
                payload.append(UInt8(~len & 0xFF)); payload.append(UInt8((~len >> 8) & 0xFF))
                let row = png.width + 1
                var raw = [UInt8](repeating: png.gray, count: len)
                // Filter bytes (0) sit at every multiple of the row length in the raw stream.
                var p = (start % row == 0) ? 0 : row - start % row
                while p < len { raw[p] = 0; p += row }
                adler.update(raw)
                payload.append(contentsOf: raw)
                block += 1
                if last { stage = 2 }
                return GeneratedPNG.chunk("IDAT", payload)
            case 2:
                stage = 3
                var d = Data()
                d.appendBE32(adler.value)
                var out = GeneratedPNG.chunk("IDAT", d)
                out.append(GeneratedPNG.chunk("IEND", Data()))
                return out
            default:
                return nil
            }
        }
    }

    /// One PNG chunk: length, type, data, CRC-32 of type and data.
    static func chunk(_ type: String, _ body: Data) -> Data {
        var d = Data()
        d.appendBE32(UInt32(body.count))
        let t = Data(type.utf8)
        d.append(t); d.append(body)
        var crc = CRC32()
        crc.update(t); crc.update(body)
        d.appendBE32(crc.value)
        return d
    }
}

/// CRC-32 (IEEE, as PNG uses it).
struct CRC32: Sendable {
    private static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
    private var c: UInt32 = 0xFFFF_FFFF
    mutating func update<S: Sequence>(_ bytes: S) where S.Element == UInt8 {
        for b in bytes { c = CRC32.table[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
    }
    var value: UInt32 { c ^ 0xFFFF_FFFF }
}

/// Adler-32 (zlib's trailer checksum).
struct Adler32: Sendable {
    private var a: UInt32 = 1
    private var b: UInt32 = 0
    mutating func update(_ bytes: [UInt8]) {
        var i = 0
        while i < bytes.count {
            let end = min(bytes.count, i + 5552)
            while i < end { a &+= UInt32(bytes[i]); b &+= a; i += 1 }
            a %= 65521; b %= 65521
        }
    }
    var value: UInt32 { b << 16 | a }
}

extension Data {
    /// Appends a big-endian 32-bit value.
    mutating func appendBE32(_ v: UInt32) {
        append(contentsOf: [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)])
    }
}
