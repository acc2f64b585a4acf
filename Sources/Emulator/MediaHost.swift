// The base-URL media host: signed /lr/ (Library) and /pk/ (Picker) URLs with =d, =dv and =wW-hH parameters,
// HEAD, byte ranges, expiry, picker auth and the daily media quota.
import Foundation
import GRDB
import HTTPTypes
import Hummingbird
import NIOCore

extension Emulator {
    static let mediaHostRoutes: [Route] = [
        Route(method: "GET", pattern: "/lr/{blob*}", endpoint: "media", kind: .media, allowsHead: true) { call in
            try await call.emulator.serveMedia(call, picker: false)
        },
        Route(method: "GET", pattern: "/pk/{blob*}", endpoint: "media", kind: .media, allowsHead: true) { call in
            try await call.emulator.serveMedia(call, picker: true)
        },
    ]

    /// The parameters after `=` in a base URL.
    struct MediaParams: Equatable {
        var width: Int?
        var height: Int?
        var crop = false
        var download = false
        var video = false
        var noPlayOverlay = false

        /// Parses `d`, `dv`, `wN-hN[-c][-no][-d]`, `sN`; nil when empty or unknown.
        init?(_ text: String) {
            guard !text.isEmpty, text.count <= 200 else { return nil }
            for part in text.split(separator: "-", omittingEmptySubsequences: false) {
                switch part {
                case "d": download = true
                case "dv": video = true
                case "c": crop = true
                case "no": noPlayOverlay = true
                default:
                    guard let first = part.first, "whs".contains(first), part.count >= 2, part.count <= 6,
                          let n = Int(part.dropFirst()), n >= 0, part.dropFirst().allSatisfy(\.isASCII) else { return nil }
                    switch first {
                    case "w": width = n
                    case "h": height = n
                    default: width = n; height = n
                    }
                }
            }
            if video, download || crop || width != nil || height != nil { return nil }
            if crop, width == nil, height == nil { return nil }
        }

        /// Whether an image of some size is asked for.
        var sized: Bool { width != nil || height != nil }
    }

    /// Google's HTML error page for the media host.
    static func mediaError(_ status: Int) -> Response {
        let reason = ["400": "Bad Request", "403": "Forbidden", "404": "Not Found", "416": "Requested Range Not Satisfiable"][String(status)] ?? "Error"
        if status == 404 {
            // Google sends some media-host 404s as images.
            return HTTPOut.bytes(GeneratedPNG(width: 1, height: 1, gray: 0xDD).data, status: 404, contentType: "image/png")
        }
        let html = """
        <!DOCTYPE html>
        <html lang=en><meta charset=utf-8><title>Error \(status) (\(reason))!!1</title>
        <p><b>\(status).</b> <ins>That’s an error.</ins>
        <p>Your client does not have permission to get this URL or the request was malformed.  <ins>That’s all we know.</ins>

        """
        return HTTPOut.bytes(Data(html.utf8), status: status, contentType: "text/html; charset=UTF-8")
    }

    func serveMedia(_ call: Call, picker: Bool) async throws -> Response {
        let blob = call.param("blob")
        let eq = blob.firstIndex(of: "=") ?? blob.endIndex
        let token = String(blob[..<eq])
        let paramText = eq == blob.endIndex ? "" : String(blob[blob.index(after: eq)...])
        let denied = config.expiredBaseURLStatus
        guard let claim = verifyBaseURL(token: token, picker: picker), claim.expires >= clock.now() else {
            return Emulator.mediaError(denied)
        }
        if picker || config.libraryBaseURLNeedsAuth {
            guard let c = try? authenticate(bearerToken(call.request, query: call.query)), c.userID == claim.userID,
                  c.clientID == claim.clientID,
                  c.has(anyOf: picker ? [Scope.picker] : [Scope.readAppCreated, Scope.appendOnly, Scope.editAppCreated]) else {
                return Emulator.mediaError(403)
            }
        }
        let found = try mediaLookup(claim)
        try spendQuota(project: found.0, kind: .media)
        guard let item = found.1 else { return Emulator.mediaError(denied) }
        guard let params = MediaParams(paramText) else { return Emulator.mediaError(400) }

        if params.video {
            guard item.kind == "video" else { return Emulator.mediaError(400) }
            // A video that is still PROCESSING has no downloadable bytes yet: 404, as for a URL that leads nowhere.
            guard item.videoStatus(now: clock.now(), processingSeconds: config.videoProcessingSeconds) == "READY" else {
                return Emulator.mediaError(404)
            }
            // "Transcoded" bytes: the original followed by an MP4 `free` box, so they differ from the upload.
            let note = Data("gphotos-emulator transcode".utf8)
            var tail = Data()
            tail.appendBE32(UInt32(8 + note.count))
            tail.append(Data("free".utf8))
            tail.append(note)
            return try byteResponse(call, item: item, head: Data(), tail: tail)
        }
        if params.download, !params.sized, item.kind == "photo" {
            var head = Data()
            if item.mimeType == "image/jpeg",
               let h = try? FileHandle(forReadingFrom: store.contentURL(sha256: item.sha256)) {
                head = Exif.stripGPS((try? h.read(upToCount: MediaSniff.prefixLength)) ?? Data())
                try? h.close()
            }
            return try byteResponse(call, item: item, head: head, tail: Data())
        }
        // An image: the requested size (video stills included), fitted or cropped.
        let srcW = item.width > 0 ? item.width : (params.width ?? params.height ?? 512)
        let srcH = item.height > 0 ? item.height : (params.height ?? params.width ?? 512)
        var outW = srcW, outH = srcH
        if params.crop {
            outW = params.width ?? params.height ?? srcW
            outH = params.height ?? params.width ?? srcH
        } else if params.sized {
            let bw = Double(params.width ?? Int.max), bh = Double(params.height ?? Int.max)
            let scale = min(1, bw / Double(srcW), bh / Double(srcH))
            outW = max(1, min(params.width ?? Int.max, Int((Double(srcW) * scale).rounded())))
            outH = max(1, min(params.height ?? Int.max, Int((Double(srcH) * scale).rounded())))
        }
        let png = GeneratedPNG(width: outW, height: outH)
        var headers = HTTPFields()
        headers[.contentType] = "image/png"
        headers[.cacheControl] = "private, max-age=86400, no-transform"
        return Response(status: .ok, headers: headers, body: ResponseBody(contentLength: png.byteCount) { writer in
            var it = png.pieces()
            while let d = it.next() { try await writer.write(ByteBuffer(bytes: d)) }
            try await writer.finish(nil)
        })
    }

    /// The project to charge for a base URL (its client's) and the item it names.
    private func mediaLookup(_ claim: BaseURLClaim) throws -> (String, ItemRecord?) {
        try store.db.read { db -> (String, ItemRecord?) in
            let project = try String.fetchOne(db, sql: "SELECT project FROM clients WHERE id = ?", arguments: [claim.clientID])
            let item = try Row.fetchOne(db, sql: "SELECT *, CAST(filename AS BLOB) AS filename_bytes FROM media_items WHERE id = ? AND user_id = ?",
                                        arguments: [claim.itemID, claim.userID]).map(ItemRecord.init)
            return (project ?? Emulator.defaultProject, item)
        }
    }

    /// A parsed `Range: bytes=` header against a body of `total` bytes.
    enum ByteRange: Equatable {
        case whole
        case part(Int, Int)
        case unsatisfiable

        init(_ header: String?, total: Int) {
            guard let header, let eq = header.firstIndex(of: "="),
                  header[..<eq].trimmingCharacters(in: .whitespaces).lowercased() == "bytes" else { self = .whole; return }
            let spec = header[header.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else { self = .whole; return }
            let a = spec[..<dash].trimmingCharacters(in: .whitespaces), b = spec[spec.index(after: dash)...].trimmingCharacters(in: .whitespaces)
            if a.isEmpty {
                guard let n = Int(b), n >= 0 else { self = .whole; return }
                if n == 0 || total == 0 { self = .unsatisfiable; return }
                self = .part(max(0, total - n), total - 1)
                return
            }
            guard let start = Int(a), start >= 0 else { self = .whole; return }
            var end = total - 1
            if !b.isEmpty {
                guard let e = Int(b), e >= start else { self = .whole; return }
                end = min(e, total - 1)
            }
            self = start >= total ? .unsatisfiable : .part(start, end)
        }
    }

    /// Streams an item's stored bytes, with `head` overlaying the first bytes and `tail` appended, honouring Range.
    func byteResponse(_ call: Call, item: ItemRecord, head: Data, tail: Data) throws -> Response {
        let url = store.contentURL(sha256: item.sha256)
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: url.path),
              let fileSize = (attrs[.size] as? NSNumber)?.intValue else { return Emulator.mediaError(404) }
        let total = fileSize + tail.count
        var headers = HTTPFields()
        headers[.contentType] = item.mimeType
        headers[.acceptRanges] = "bytes"
        headers[.cacheControl] = "private, max-age=86400, no-transform"
        headers[HTTPField.Name("Content-Disposition")!] = "attachment; filename=\"\(item.filename.replacingOccurrences(of: "\"", with: "_"))\""
        var status = HTTPResponse.Status.ok
        var lo = 0, hi = total - 1
        switch ByteRange(call.request.header("Range"), total: total) {
        case .whole:
            break
        case .part(let a, let b):
            lo = a; hi = b
            status = .partialContent
            headers[.contentRange] = "bytes \(a)-\(b)/\(total)"
        case .unsatisfiable:
            var r = Emulator.mediaError(416)
            r.set("Content-Range", "bytes */\(total)")
            return r
        }
        let length = max(0, hi - lo + 1)
        let first = lo, end = hi + 1
        return Response(status: status, headers: headers, body: ResponseBody(contentLength: length) { writer in
            var pos = first
            // Overlaid head bytes.
            if pos < min(end, head.count) {
                let stop = min(end, head.count)
                try await writer.write(ByteBuffer(bytes: head[head.startIndex + pos ..< head.startIndex + stop]))
                pos = stop
            }
            // File bytes.
            if pos < min(end, fileSize) {
                let h = try FileHandle(forReadingFrom: url)
                defer { try? h.close() }
                try h.seek(toOffset: UInt64(pos))
                while pos < min(end, fileSize) {
                    let want = min(256 * 1024, min(end, fileSize) - pos)
                    guard let d = try h.read(upToCount: want), !d.isEmpty else { break }
                    try await writer.write(ByteBuffer(bytes: d))
                    pos += d.count
                }
            }
            // Appended tail.
            if pos >= fileSize, pos < end {
                let from = pos - fileSize, to = end - fileSize
                try await writer.write(ByteBuffer(bytes: tail[tail.startIndex + from ..< tail.startIndex + to]))
            }
            try await writer.finish(nil)
        })
    }
}
