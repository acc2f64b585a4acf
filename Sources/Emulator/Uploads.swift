// POST /v1/uploads: raw and resumable byte uploads that stream to disk, hash as they go, and answer upload tokens.
import Crypto
import Foundation
import GRDB
import Hummingbird
import NIOCore
import Synchronization

/// Resumable sessions with a request currently writing to them (a second writer gets 409).
private let busySessions = Mutex<Set<String>>([])

extension Emulator {
    static let uploadRoutes: [Route] = [
        Route(method: "POST", pattern: "/v1/uploads", endpoint: "uploads", kind: .api(scopes: [Scope.appendOnly], write: true),
              streamsBody: true) { call in
            try await call.emulator.upload(call)
        },
    ]

    /// How reading a request body ended.
    enum SpoolEnd: Equatable {
        /// The whole body arrived.
        case complete
        /// An injected "reset" fault stopped reading after its byte count.
        case fault
        /// The client went away (or the stream failed) part-way.
        case disconnected
        /// More bytes came than allowed.
        case tooLarge
    }

    /// The outcome of streaming a body to a file.
    struct Spooled {
        /// Bytes written to the file.
        var bytes: Int64 = 0
        var end: SpoolEnd = .complete
        /// SHA-256 over the bytes written.
        var hasher = SHA256()
    }

    /// Streams the request body into `handle` (positioned by the caller), at most `limit` bytes, stopping after
    /// `stopAfter` bytes when a reset fault is being carried out. Never holds more than one network buffer in memory.
    func spool(_ request: Request, to handle: FileHandle, limit: Int64, stopAfter: Int64?) async -> Spooled {
        var s = Spooled()
        do {
            for try await var buffer in request.body {
                var n = Int64(buffer.readableBytes)
                if let stop = stopAfter, s.bytes + n >= stop {
                    n = stop - s.bytes
                    if n > 0, let slice = buffer.readSlice(length: Int(n)) {
                        let d = Data(slice.readableBytesView)
                        try handle.write(contentsOf: d)
                        s.hasher.update(data: d)
                        s.bytes += n
                    }
                    s.end = .fault
                    return s
                }
                if s.bytes + n > limit { s.end = .tooLarge; return s }
                let d = Data(buffer.readableBytesView)
                try handle.write(contentsOf: d)
                s.hasher.update(data: d)
                s.bytes += n
            }
            // A reset fault drops the connection even when the body was shorter than its cutoff.
            if stopAfter != nil { s.end = .fault }
            // A body that ends short of its declared length means the client went away.
            else if let declared = request.header("Content-Length").flatMap({ Int64($0) }), s.bytes < declared {
                s.end = .disconnected
            }
        } catch {
            s.end = .disconnected
        }
        return s
    }

    /// Bytes a reset fault lets through: its `after`, else half the declared Content-Length (0 when unknown).
    func faultCutoff(_ call: Call) -> Int64? {
        guard let f = call.fault else { return nil }
        if let a = f.afterBytes { return Int64(a) }
        return (call.request.header("Content-Length").flatMap { Int64($0) } ?? 0) / 2
    }

    /// Dispatches an upload request: raw, resumable start, or a command on a resumable session.
    func upload(_ call: Call) async throws -> Response {
        let me = try call.me
        if let id = call.query.first("upload_id") { return try await uploadSession(id: id, call: call, me: me) }
        let proto = (call.request.header("X-Goog-Upload-Protocol") ?? "raw").trimmingCharacters(in: .whitespaces).lowercased()
        switch proto {
        case "raw":
            return try await rawUpload(call, me: me)
        case "resumable":
            return try startSession(call, me: me)
        default:
            throw APIError.invalid("Invalid upload protocol '\(proto)': expected raw or resumable.")
        }
    }

    /// The upload's file name header, percent-decoded and bounded.
    private func uploadFileName(_ call: Call) -> String? {
        guard let raw = call.request.header("X-Goog-Upload-File-Name"), !raw.isEmpty else { return nil }
        return String((raw.removingPercentEncoding ?? raw).prefix(1024))
    }

    private func uploadContentType(_ call: Call) -> String? {
        call.request.header("X-Goog-Upload-Content-Type").map { String($0.prefix(256)) }
    }

    private func payloadTooLarge() -> APIError {
        .tooLarge("Request payload size exceeds the limit: \(config.maxVideoBytes) bytes.")
    }

    // MARK: Raw

    private func rawUpload(_ call: Call, me: Caller) async throws -> Response {
        let limit = config.maxVideoBytes
        if let cl = call.request.header("Content-Length").flatMap({ Int64($0) }), cl > limit { throw payloadTooLarge() }
        let tmp = store.blobDir.appendingPathComponent("upload-\(Ids.random(24))")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil), let handle = try? FileHandle(forWritingTo: tmp) else {
            throw APIError.internalError()
        }
        let spooled = await spool(call.request, to: handle, limit: limit, stopAfter: faultCutoff(call))
        try? handle.close()
        switch spooled.end {
        case .fault:
            try? FileManager.default.removeItem(at: tmp)
            return Emulator.resetResponse()
        case .disconnected:
            try? FileManager.default.removeItem(at: tmp)
            throw APIError.invalid("The request body was incomplete.")
        case .tooLarge:
            try? FileManager.default.removeItem(at: tmp)
            throw payloadTooLarge()
        case .complete:
            break
        }
        guard spooled.bytes > 0 else {
            try? FileManager.default.removeItem(at: tmp)
            throw APIError.invalid("The upload is empty: the request has no bytes.")
        }
        let sha = Data(spooled.hasher.finalize()).hexString
        try storeContent(from: tmp, sha: sha)
        let token = try issueUploadToken(me: me, sha: sha, size: spooled.bytes, filename: uploadFileName(call),
                                         contentType: uploadContentType(call))
        return HTTPOut.text(token)
    }

    /// Moves a spooled file into the content store under its hash (dropping it when those bytes are already stored).
    private func storeContent(from tmp: URL, sha: String) throws {
        let dest = store.contentURL(sha256: sha)
        let fm = FileManager.default
        if fm.fileExists(atPath: dest.path) {
            try? fm.removeItem(at: tmp)
        } else {
            do { try fm.moveItem(at: tmp, to: dest) } catch {
                if !fm.fileExists(atPath: dest.path) { throw APIError.internalError() }
                try? fm.removeItem(at: tmp)
            }
        }
    }

    /// Records an upload token for stored bytes and returns it.
    private func issueUploadToken(me: Caller, sha: String, size: Int64, filename: String?, contentType: String?) throws -> String {
        let token = Ids.uploadToken()
        try store.db.write { db in
            try db.execute(sql: """
                INSERT INTO upload_tokens(token, client_id, user_id, sha256, size, filename, content_type, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [token, me.clientID, me.userID, sha, size, filename, contentType, clock.now()])
        }
        return token
    }

    // MARK: Resumable

    private func startSession(_ call: Call, me: Caller) throws -> Response {
        let command = (call.request.header("X-Goog-Upload-Command") ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        guard command == "start" else {
            throw APIError.invalid("Invalid upload command '\(command)': a resumable upload starts with X-Goog-Upload-Command: start.")
        }
        var rawSize: Int64?
        if let s = call.request.header("X-Goog-Upload-Raw-Size") {
            guard let v = Int64(s.trimmingCharacters(in: .whitespaces)), v >= 0 else {
                throw APIError.invalid("Invalid X-Goog-Upload-Raw-Size header '\(s)'.")
            }
            guard v <= config.maxVideoBytes else { throw payloadTooLarge() }
            rawSize = v
        }
        let id = "AEnB2U" + Ids.random(90)
        guard FileManager.default.createFile(atPath: store.sessionURL(id: id).path, contents: nil) else { throw APIError.internalError() }
        try store.db.write { db in
            try db.execute(sql: """
                INSERT INTO upload_sessions(id, client_id, user_id, raw_size, filename, content_type, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """, arguments: [id, me.clientID, me.userID, rawSize, uploadFileName(call), uploadContentType(call), clock.now()])
        }
        var r = Response(status: .ok)
        r.set("X-Goog-Upload-URL", "\(publicBase(call.request))/v1/uploads?upload_id=\(id)&upload_protocol=resumable")
        r.set("X-Goog-Upload-Status", "active")
        r.set("X-Goog-Upload-Chunk-Granularity", String(config.chunkGranularity))
        r.set("X-GUploader-UploadID", id)
        r.set("Content-Length", "0")
        return r
    }

    /// One resumable session as stored.
    private struct Session {
        let id: String
        let rawSize: Int64?
        let filename: String?
        let contentType: String?
        let received: Int64
        let status: String
        let token: String?
    }

    private func loadSession(id: String, me: Caller) throws -> Session {
        guard Ids.plausible(id) else { throw APIError.notFound() }
        let row = try store.db.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM upload_sessions WHERE id = ?", arguments: [id])
        }
        guard let row, (row["client_id"] as String) == me.clientID, (row["user_id"] as String) == me.userID,
              (row["created_at"] as Double) + config.uploadSessionTTL >= clock.now() else { throw APIError.notFound() }
        return Session(id: id, rawSize: row["raw_size"], filename: row["filename"], contentType: row["content_type"],
                       received: row["received"], status: row["status"], token: row["token"])
    }

    private func statusResponse(_ s: Session, status: String? = nil, received: Int64? = nil) -> Response {
        var r = Response(status: .ok)
        r.set("X-Goog-Upload-Status", status ?? s.status)
        r.set("X-Goog-Upload-Size-Received", String(received ?? s.received))
        r.set("Content-Length", "0")
        return r
    }

    private func setReceived(_ id: String, _ n: Int64) throws {
        try store.db.write { db in
            try db.execute(sql: "UPDATE upload_sessions SET received = ? WHERE id = ?", arguments: [n, id])
        }
    }

    /// Marks a session cancelled or final (with its token).
    private func setSessionStatus(_ id: String, _ status: String, token: String? = nil) throws {
        try store.db.write { db in
            try db.execute(sql: "UPDATE upload_sessions SET status = ?, token = ? WHERE id = ?", arguments: [status, token, id])
        }
    }

    /// Truncates a session's spool file back to `n` bytes.
    private func truncateSpool(_ id: String, to n: Int64) {
        if let h = try? FileHandle(forWritingTo: store.sessionURL(id: id)) {
            try? h.truncate(atOffset: UInt64(n))
            try? h.close()
        }
    }

    private func uploadSession(id: String, call: Call, me: Caller) async throws -> Response {
        let s = try loadSession(id: id, me: me)
        let commands = Set((call.request.header("X-Goog-Upload-Command") ?? "").lowercased()
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        if commands == ["query"] { return statusResponse(s) }
        if call.fault != nil, !commands.contains("upload") { return Emulator.resetResponse() }
        if commands == ["cancel"] {
            if s.status == "active" {
                try setSessionStatus(id, "cancelled")
                try? FileManager.default.removeItem(at: store.sessionURL(id: id))
            }
            return statusResponse(s, status: s.status == "active" ? "cancelled" : s.status)
        }
        guard commands == ["upload"] || commands == ["upload", "finalize"] || commands == ["finalize"] else {
            throw APIError.invalid("Invalid X-Goog-Upload-Command '\(call.request.header("X-Goog-Upload-Command") ?? "")'.")
        }
        guard s.status == "active" else {
            var e = APIError.invalid("The upload session is \(s.status == "final" ? "already finalized" : "cancelled").")
            e.headers = [("X-Goog-Upload-Status", s.status)]
            throw e
        }
        let claimed = busySessions.withLock { $0.insert(id).inserted }
        guard claimed else { throw APIError(http: 409, status: "ABORTED", message: "Another request is writing to this upload session.") }
        defer { _ = busySessions.withLock { $0.remove(id) } }

        var received = s.received
        if commands.contains("upload") {
            guard let offText = call.request.header("X-Goog-Upload-Offset"), let off = Int64(offText.trimmingCharacters(in: .whitespaces)) else {
                throw APIError.invalid("An upload command needs an X-Goog-Upload-Offset header.")
            }
            guard off == s.received else {
                var e = APIError.invalid("Invalid X-Goog-Upload-Offset \(off): the session has received \(s.received) bytes.")
                e.headers = [("X-Goog-Upload-Status", "active"), ("X-Goog-Upload-Size-Received", String(s.received))]
                throw e
            }
            let limit = (s.rawSize ?? config.maxVideoBytes) - s.received
            guard let handle = try? FileHandle(forWritingTo: store.sessionURL(id: id)) else { throw APIError.internalError() }
            _ = try? handle.seek(toOffset: UInt64(s.received))
            let spooled = await spool(call.request, to: handle, limit: max(0, limit), stopAfter: faultCutoff(call))
            try? handle.close()
            let gran = Int64(config.chunkGranularity)
            switch spooled.end {
            case .fault, .disconnected:
                // Google keeps what arrived, rounded down to the chunk granularity.
                let kept = s.received + spooled.bytes / gran * gran
                truncateSpool(id, to: kept)
                try setReceived(id, kept)
                if spooled.end == .fault { return Emulator.resetResponse() }
                throw APIError.invalid("The request body was incomplete.")
            case .tooLarge:
                truncateSpool(id, to: s.received)
                throw APIError.invalid("The upload is larger than its X-Goog-Upload-Raw-Size (\(s.rawSize.map { String($0) } ?? "the limit")).")
            case .complete:
                break
            }
            if !commands.contains("finalize"), spooled.bytes % gran != 0 {
                truncateSpool(id, to: s.received)
                throw APIError.invalid("The chunk size \(spooled.bytes) is not a multiple of the chunk granularity \(gran).")
            }
            if commands.contains("finalize"), let raw = s.rawSize, s.received + spooled.bytes != raw {
                truncateSpool(id, to: s.received)
                throw APIError.invalid("The upload has \(s.received + spooled.bytes) bytes but X-Goog-Upload-Raw-Size said \(raw).")
            }
            received = s.received + spooled.bytes
            try setReceived(id, received)
            if !commands.contains("finalize") { return statusResponse(s, status: "active", received: received) }
        } else if let raw = s.rawSize, received != raw {
            throw APIError.invalid("The upload has \(received) bytes but X-Goog-Upload-Raw-Size said \(raw).")
        }
        guard received > 0 else { throw APIError.invalid("The upload is empty: the session has no bytes.") }
        // Finalize: hash the spooled bytes, move them into the content store, issue the token.
        let spoolURL = store.sessionURL(id: id)
        guard let reader = try? FileHandle(forReadingFrom: spoolURL) else { throw APIError.internalError() }
        var hasher = SHA256()
        var total: Int64 = 0
        while total < received {
            guard let chunk = try? reader.read(upToCount: 1 << 20), !chunk.isEmpty else { break }
            hasher.update(data: chunk)
            total += Int64(chunk.count)
        }
        try? reader.close()
        guard total == received else { throw APIError.internalError() }
        let sha = Data(hasher.finalize()).hexString
        try storeContent(from: spoolURL, sha: sha)
        let token = try issueUploadToken(me: me, sha: sha, size: received, filename: s.filename, contentType: s.contentType)
        try setSessionStatus(id, "final", token: token)
        var r = HTTPOut.text(token)
        r.set("X-Goog-Upload-Status", "final")
        r.set("X-Goog-Upload-Size-Received", String(received))
        return r
    }
}
