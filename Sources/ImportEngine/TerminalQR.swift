// QR codes drawn with Unicode half blocks for a terminal (for example a URL to open on a phone).
import CQREncode

/// QR codes as lines of text for a terminal.
public enum TerminalQR {
    /// Modules of light margin drawn around the symbol.
    static let quietZone = 2

    /// The most bytes passed to libqrencode (a version-40 symbol holds at most 2,953 bytes in 8-bit mode).
    static let maxBytes = 4096

    /// The QR code of `text` as lines of Unicode half-block characters (▀ ▄ █ and space), two modules per character row, with a 2-module quiet zone; nil if libqrencode fails (e.g. text too long).
    ///
    /// Colours are inverted: *light* modules (and the quiet zone) are drawn as blocks in the terminal's foreground
    /// colour and *dark* modules are left as spaces (background). On the common light-text-on-dark-background terminal
    /// the code therefore shows dark-on-light, as QR readers expect; on a dark-on-light terminal it appears inverted.
    /// The text is encoded as UTF-8 bytes in 8-bit mode, error-correction level M, smallest version that fits. Each
    /// line is `modules + 4` characters wide; when the row count is odd the last line's lower halves are background.
    public static func render(_ text: String) -> [String]? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= maxBytes else { return nil }
        // QRcode_encodeData is QRcode_encodeString8bit with an explicit length (safe for any bytes, including NUL).
        guard let code = QRcode_encodeData(Int32(bytes.count), bytes, 0, QR_ECLEVEL_M) else { return nil }
        defer { QRcode_free(code) }
        let width = Int(code.pointee.width)
        guard width > 0, let modules = code.pointee.data else { return nil }
        let size = width + 2 * quietZone

        /// Whether the module at (x, y) of the padded matrix is light (the quiet zone is light; bit 0 set = dark).
        func isLight(_ x: Int, _ y: Int) -> Bool {
            let column = x - quietZone, row = y - quietZone
            guard column >= 0, row >= 0, column < width, row < width else { return true }
            return modules[row * width + column] & 1 == 0
        }

        var lines: [String] = []
        lines.reserveCapacity((size + 1) / 2)
        for y in stride(from: 0, to: size, by: 2) {
            var line = ""
            line.reserveCapacity(size * 3)
            for x in 0..<size {
                let top = isLight(x, y)
                let bottom = y + 1 < size && isLight(x, y + 1)
                switch (top, bottom) {
                case (true, true): line.append("█")
                case (true, false): line.append("▀")
                case (false, true): line.append("▄")
                case (false, false): line.append(" ")
                }
            }
            lines.append(line)
        }
        return lines
    }
}
