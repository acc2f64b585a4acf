// Uploads (§3): raw single-request and resumable sessions that a caller can persist and resume after a restart.
import Foundation

/// A resumable upload session; Codable so callers can store it and resume from a new client instance.
public struct UploadSession: Codable, Sendable, Equatable {
    /// The session URL from X-Goog-Upload-URL.
    public var sessionURL: String
    /// Every chunk except the last must be a multiple of this.
    public var granularity: Int64
    /// Total bytes of the file.
    public var totalSize: Int64
    /// The source file.
    public var filePath: String
    /// MIME type announced.
    public var mimeType: String
    /// File name announced.
    public var fileName: String?
    /// When the session was started.
    public var createdAt: Date
}

/// What the server says about a session (query command).
public struct UploadSessionStatus: Sendable, Equatable {
    /// active, final or cancelled.
    public var status: String
    /// Bytes the server holds.
    public var received: Int64
}

extension PhotosClient {
    /// Size of a local file.
    static func fileSize(_ path: String) throws(PhotosAPIError) -> Int64 {
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path), let n = attrs[.size] as? NSNumber else {
            throw .io("cannot stat upload source \(path)")
        }
        return n.int64Value
    }

    private static func nameHeader(_ name: String?) -> [(String, String)] {
        guard let name, !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value >= 0x20 && $0.value != 0x7F }) else { return [] }
        return [("X-Goog-Upload-File-Name", name)]
    }

    /// Uploads a file and returns its upload token: raw below the resumable threshold, resumable above it.
    /// `onSession` receives the resumable session (to persist) before bytes are sent.
    public func upload(file path: String, mimeType: String, fileName: String? = nil,
                       onSession: (@Sendable (UploadSession) -> Void)? = nil) async throws(PhotosAPIError) -> String {
        let size = try Self.fileSize(path)
        if size < config.resumableThreshold { return try await uploadRaw(file: path, mimeType: mimeType, fileName: fileName) }
        let session = try await startResumableUpload(file: path, mimeType: mimeType, fileName: fileName)
        onSession?(session)
        return try await resumeUpload(session, knownOffset: 0)
    }

    /// The raw protocol: one POST streaming the whole file. Retried on transient errors (it only costs bytes).
    public func uploadRaw(file path: String, mimeType: String, fileName: String? = nil) async throws(PhotosAPIError) -> String {
        let size = try Self.fileSize(path)
        let call = Call(endpoint: "uploads", method: "POST", url: endpoints.upload,
                        headers: [("Content-Type", "application/octet-stream"), ("X-Goog-Upload-Content-Type", mimeType),
                                  ("X-Goog-Upload-Protocol", "raw")] + Self.nameHeader(fileName),
                        body: .file(path: path, offset: 0, length: size), sink: .memory(limit: 1 << 20), idempotent: true)
        return try Self.token(try await perform(call))
    }

    private static func token(_ r: HTTPResponse) throws(PhotosAPIError) -> String {
        let t = String(decoding: r.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !t.isEmpty else { throw .invalidResponse(endpoint: "uploads", detail: "empty upload token") }
        return t
    }

    /// Starts a resumable session for a file.
    public func startResumableUpload(file path: String, mimeType: String, fileName: String? = nil) async throws(PhotosAPIError) -> UploadSession {
        let size = try Self.fileSize(path)
        let call = Call(endpoint: "uploads", method: "POST", url: endpoints.upload,
                        headers: [("X-Goog-Upload-Command", "start"), ("X-Goog-Upload-Content-Type", mimeType),
                                  ("X-Goog-Upload-Protocol", "resumable"), ("X-Goog-Upload-Raw-Size", String(size))] + Self.nameHeader(fileName),
                        body: .none, idempotent: true)
        let r = try await perform(call)
        guard let url = r.header("x-goog-upload-url"), !url.isEmpty else {
            throw .invalidResponse(endpoint: "uploads", detail: "no X-Goog-Upload-URL in the start response")
        }
        try URLPolicy.check(url)
        let gran = Int64(r.header("x-goog-upload-chunk-granularity") ?? "") ?? 262_144
        return UploadSession(sessionURL: url, granularity: max(1, gran), totalSize: size, filePath: path, mimeType: mimeType,
                             fileName: fileName, createdAt: clock.now())
    }

    /// Asks the server how much of the session it holds.
    public func queryUpload(_ session: UploadSession) async throws(PhotosAPIError) -> UploadSessionStatus {
        let call = Call(endpoint: "uploads", method: "POST", url: session.sessionURL,
                        headers: [("X-Goog-Upload-Command", "query")], body: .none, idempotent: true)
        let r = try await perform(call)
        let status = (r.header("x-goog-upload-status") ?? "").lowercased()
        let received = Int64(r.header("x-goog-upload-size-received") ?? "") ?? 0
        return UploadSessionStatus(status: status, received: received)
    }

    /// Sends the rest of a session's bytes in chunks and returns the upload token. After a transfer error it asks the
    /// server what it has (query) and continues from there. `knownOffset` skips the first query for a fresh session.
    public func resumeUpload(_ session: UploadSession, knownOffset: Int64? = nil,
                             progress: (@Sendable (Int64) -> Void)? = nil) async throws(PhotosAPIError) -> String {
        let current = try Self.fileSize(session.filePath)
        guard current == session.totalSize else {
            throw .io("upload source changed size (\(session.totalSize) → \(current)); start a new upload")
        }
        let gran = max(1, session.granularity)
        let chunk = max(gran, (config.chunkSize / gran) * gran)
        var offset: Int64
        if let knownOffset { offset = knownOffset } else {
            let s = try await queryUpload(session)
            guard s.status == "active" else { throw .uploadSessionGone(status: s.status.isEmpty ? "unknown" : s.status) }
            offset = s.received
        }
        var failures = 0
        let maxRounds = Int(session.totalSize / chunk) + 2 * config.retry.maxAttempts + 4
        for _ in 0..<maxRounds {
            let len = min(chunk, session.totalSize - offset)
            let last = offset + len >= session.totalSize
            let call = Call(endpoint: "uploads", method: "POST", url: session.sessionURL,
                            headers: [("X-Goog-Upload-Command", last ? "upload, finalize" : "upload"),
                                      ("X-Goog-Upload-Offset", String(offset))],
                            body: len > 0 ? .file(path: session.filePath, offset: offset, length: len) : .none,
                            sink: .memory(limit: 1 << 20), idempotent: false)
            do throws(PhotosAPIError) {
                let r = try await performOnce(call)
                if last { return try Self.token(r) }
                offset += len
                progress?(offset)
                failures = 0
                continue
            } catch let e {
                failures += 1
                let transient: Bool
                switch e {
                case .transport, .outcomeUnknown: transient = true
                case .api(_, let h, _), .http(_, let h, _, _): transient = h >= 500 || h == 429 || h == 400
                default: transient = false
                }
                guard transient, failures < config.retry.maxAttempts else { throw e }
                logger.info("resumable chunk failed, querying the session", metadata: ["offset": "\(offset)", "error": "\(e)"])
                do { try await clock.sleep(seconds: config.retry.delay(attempt: failures, retryAfter: nil)) } catch { throw .cancelled }
                let s = try await queryUpload(session)
                guard s.status == "active" else { throw .uploadSessionGone(status: s.status.isEmpty ? "unknown" : s.status) }
                offset = s.received
                progress?(offset)
            }
        }
        throw .invalidResponse(endpoint: "uploads", detail: "resumable upload made no progress")
    }

    /// One attempt of a call, without the retry policy (the caller recovers), but with the 401 refresh.
    func performOnce(_ call: Call) async throws(PhotosAPIError) -> HTTPResponse {
        var once = config.retry
        once.maxAttempts = 1
        return try await perform(call, policy: once)
    }
}
