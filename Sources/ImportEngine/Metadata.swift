// Capture date, place and description from a sidecar into the imported files: XMP sidecar files, or EXIF/XMP tags
// written in place by one long-running exiftool (`-stay_open`), filling gaps and never overwriting the camera's values.
import Foundation
import SyncEngine

/// What the import knows about an item, to write into or beside the file.
struct ItemMetadata: Sendable, Equatable {
    /// Capture time (epoch seconds, UTC).
    var taken: Int64?
    /// Location (WGS 84), altitude in metres.
    var latitude: Double?, longitude: Double?, altitude: Double?
    /// The description typed in Google Photos.
    var description: String?

    /// True when there is nothing to write.
    var isEmpty: Bool { taken == nil && latitude == nil && description == nil }

    /// An XMP sidecar packet (exif:DateTimeOriginal, xmp:CreateDate, exif:GPS*, dc:description).
    func xmpPacket() -> String {
        var props: [String] = []
        if let taken {
            let iso = Self.iso(taken)
            props += ["<exif:DateTimeOriginal>\(iso)</exif:DateTimeOriginal>", "<xmp:CreateDate>\(iso)</xmp:CreateDate>",
                      "<photoshop:DateCreated>\(iso)</photoshop:DateCreated>"]
        }
        if let latitude, let longitude {
            props += ["<exif:GPSVersionID>2.3.0.0</exif:GPSVersionID>",
                      "<exif:GPSLatitude>\(Self.xmpCoordinate(latitude, positive: "N", negative: "S"))</exif:GPSLatitude>",
                      "<exif:GPSLongitude>\(Self.xmpCoordinate(longitude, positive: "E", negative: "W"))</exif:GPSLongitude>"]
            if let altitude {
                props += ["<exif:GPSAltitudeRef>\(altitude < 0 ? 1 : 0)</exif:GPSAltitudeRef>",
                          "<exif:GPSAltitude>\(Int((abs(altitude) * 100).rounded()))/100</exif:GPSAltitude>"]
            }
        }
        if let description {
            props.append("<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">\(Self.xmlEscape(description))</rdf:li></rdf:Alt></dc:description>")
        }
        return """
            <?xpacket begin="\u{FEFF}" id="W5M0MpCehiHzreSzNTczkc9d"?>
            <x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="gphotos-sync">
             <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
              <rdf:Description rdf:about=""
                xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/"
                xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
            \(props.map { "   " + $0 }.joined(separator: "\n"))
              </rdf:Description>
             </rdf:RDF>
            </x:xmpmeta>
            <?xpacket end="w"?>

            """
    }

    /// exiftool arguments (one per line of its argument file) that add the missing tags of one file.
    /// `descriptionFile` holds the description (any text, newlines included, can't go on an argument line).
    func exiftoolArguments(descriptionFile: String?) -> [String] {
        // -wm cg: create tags that are missing, never edit existing ones (the camera's own date and place win).
        // (No -q: it also silences the "{ready}" line that ends each answer in -stay_open mode.)
        var a = ["-m", "-overwrite_original_in_place", "-wm", "cg", "-api", "QuickTimeUTC=1"]
        if let taken {
            let exif = Self.exifDate(taken)
            a += ["-EXIF:DateTimeOriginal=\(exif)", "-EXIF:CreateDate=\(exif)", "-EXIF:OffsetTimeOriginal=+00:00",
                  "-XMP-exif:DateTimeOriginal=\(exif)+00:00", "-QuickTime:CreateDate=\(exif)"]
        }
        if let latitude, let longitude {
            a += ["-GPSLatitude=\(abs(latitude))", "-GPSLatitudeRef=\(latitude < 0 ? "S" : "N")",
                  "-GPSLongitude=\(abs(longitude))", "-GPSLongitudeRef=\(longitude < 0 ? "W" : "E")"]
            if let altitude { a += ["-GPSAltitude=\(abs(altitude))", "-GPSAltitudeRef=\(altitude < 0 ? "1" : "0")"] }
        }
        if let descriptionFile {
            a += ["-EXIF:ImageDescription<=\(descriptionFile)", "-XMP-dc:Description<=\(descriptionFile)"]
        }
        return a
    }

    /// "2023-10-06T06:30:00Z".
    static func iso(_ t: Int64) -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    /// "2023:10:06 06:30:00" (EXIF's format, UTC).
    static func exifDate(_ t: Int64) -> String {
        var tm = tm()
        var tt = time_t(t)
        gmtime_r(&tt, &tm)
        return String(format: "%04d:%02d:%02d %02d:%02d:%02d", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
                      Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec))
    }

    /// XMP's GPSCoordinate: "DDD,MM.mmmmmmK".
    static func xmpCoordinate(_ v: Double, positive: String, negative: String) -> String {
        let a = abs(v)
        let deg = Int(a)
        return String(format: "%d,%.6f%@", deg, (a - Double(deg)) * 60, v < 0 ? negative : positive)
    }

    /// Escapes text for XML character data.
    static func xmlEscape(_ s: String) -> String {
        var out = ""
        for ch in s.unicodeScalars {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            default:
                // XML 1.0 can't carry most control characters: drop them.
                if ch.value < 0x20 && ch != "\n" && ch != "\t" && ch != "\r" { continue }
                out.unicodeScalars.append(ch)
            }
        }
        return out
    }
}

/// One exiftool process in `-stay_open` mode: a file's tags are written in milliseconds, not a Perl start-up each.
final class ExifTool {
    private let pid: pid_t
    private let toTool: Int32
    private let fromTool: Int32
    private var pending = [UInt8]()

    /// The exiftool on PATH, or nil.
    static func find() -> String? {
        for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let p = "\(dir)/exiftool"
            if access(p, X_OK) == 0 { return p }
        }
        return nil
    }

    /// Starts `exe -stay_open True -@ -` (standard error joins standard output).
    init(_ exe: String) throws(SyncError) {
        signal(SIGPIPE, SIG_IGN)   // a dead exiftool must fail a write, not kill the import
        var inPipe: [Int32] = [0, 0], outPipe: [Int32] = [0, 0]
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0 else { throw SyncError.posix(errno, exe, "can't start exiftool") }
        for fd in inPipe + outPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 2)
        // Under setpriv --pdeathsig, exiftool ends with this thread even after a SIGKILL (it would otherwise wait on
        // its standard input for ever: -stay_open reads past the end of its argument file).
        let setpriv = "/usr/bin/setpriv"
        let direct = [exe, "-stay_open", "True", "-@", "-"]
        let useSetpriv = access(setpriv, X_OK) == 0
        let words: [String] = useSetpriv ? [setpriv, "--pdeathsig", "KILL", "--"] + direct : direct
        let argv = words.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, words[0], &actions, nil, argv, environ)
        Glibc.close(inPipe[0]); Glibc.close(outPipe[1])
        guard rc == 0 else {
            Glibc.close(inPipe[1]); Glibc.close(outPipe[0])
            throw SyncError(.usage, "\(exe): can't start exiftool: \(String(cString: strerror(rc)))")
        }
        self.pid = pid
        toTool = inPipe[1]
        fromTool = outPipe[0]
    }

    /// Writes `arguments` into `file` in place; returns exiftool's complaint (its "Error" lines), or nil when it worked.
    func tag(_ arguments: [String], file: String) throws(SyncError) -> String? {
        let lines = (arguments + [file, "-execute"]).joined(separator: "\n") + "\n"
        guard writeAll(toTool, lines) else { throw SyncError(.other, "exiftool stopped unexpectedly (writing \(file))") }
        let errors = try readUntilReady().split(separator: "\n").filter { $0.hasPrefix("Error") }
        return errors.isEmpty ? nil : errors.joined(separator: "\n")
    }

    /// Output up to the "{ready}" line (bounded: exiftool answers each -execute or exits).
    private func readUntilReady() throws(SyncError) -> String {
        let marker = Array("{ready}\n".utf8)
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            if let r = pending.firstRange(of: marker) {
                let out = String(decoding: pending[..<r.lowerBound], as: UTF8.self)
                pending.removeSubrange(..<r.upperBound)
                return out
            }
            let n = Glibc.read(fromTool, &buf, buf.count)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { throw SyncError(.other, "exiftool stopped unexpectedly: \(String(decoding: pending, as: UTF8.self))") }
            pending += buf[0..<n]
        }
    }

    /// Ends the process.
    func finish() {
        _ = writeAll(toTool, "-stay_open\nFalse\n")
        Glibc.close(toTool)
        var status: Int32 = 0
        _ = waitpid(pid, &status, 0)
        Glibc.close(fromTool)
    }
}
