// Base-URL media: downloads (=d, =dv, sizes) into a file or a callback, with Range and resume; HEAD for sizes.
import Foundation
import Synchronization

/// A byte range of a download (inclusive end; nil end = to the end of the file).
public struct ByteRange: Sendable, Equatable {
    /// First byte offset (zero-based).
    public var start: Int64
    /// Last byte offset, inclusive; nil reads to the end of the file.
    public var end: Int64?
    /// Creates a range.
    public init(start: Int64, end: Int64? = nil) { self.start = start; self.end = end }
    var header: String { "bytes=\(start)-\(end.map(String.init) ?? "")" }
}

extension PhotosClient {
    /// The download URL for a base URL: `=d` for photos, `=dv` for videos, or any parameter string.
    public static func mediaURL(baseUrl: String, parameters: String) -> String { baseUrl + "=" + parameters }

    private func mediaCall(endpoint: String, url: String, method: String, range: ByteRange?, sink: HTTPSink, bearer: Bool) throws(PhotosAPIError) -> Call {
        try URLPolicy.check(url)
        var headers: [(String, String)] = []
        if let range { headers.append(("Range", range.header)) }
        return Call(endpoint: endpoint, method: method, url: url, headers: headers, sink: sink, idempotent: true, authorized: bearer, isMedia: true)
    }

    /// Downloads base-URL bytes into `path` (truncated first). On a broken transfer it resumes with a Range from the bytes
    /// already written. Returns the bytes written. `bearer` sends the token (required for Picker base URLs).
    @discardableResult
    public func download(baseUrl: String, parameters: String = "d", to path: String, range: ByteRange? = nil,
                         bearer: Bool = true, endpoint: String = "media") async throws(PhotosAPIError) -> Int64 {
        let url = Self.mediaURL(baseUrl: baseUrl, parameters: parameters)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot create \(path)") }
        close(fd)
        var written: Int64 = 0
        var failures = 0
        let start = range?.start ?? 0
        for _ in 0..<(config.retry.maxAttempts + 1) {
            let r: ByteRange? = (written == 0 && range == nil) ? nil : ByteRange(start: start + written, end: range?.end)
            let call = try mediaCall(endpoint: endpoint, url: url, method: "GET", range: r, sink: .file(path: path, append: true), bearer: bearer)
            do throws(PhotosAPIError) {
                let resp = try await performOnce(call)
                if written > 0 && resp.status == 200 {
                    // The server ignored the Range: start over with the full body it just sent.
                    written = 0
                    _ = truncate(path, 0)
                    continue
                }
                return written + resp.bodyBytes
            } catch let e {
                let now = (try? Self.fileSize(path)) ?? 0
                let transient: Bool
                switch e {
                case .transport, .outcomeUnknown: transient = true
                case .api(_, let h, _), .http(_, let h, _, _): transient = (h >= 500 && h != 501) || h == 429
                case .rateLimited: transient = true
                default: transient = false
                }
                failures += 1
                guard transient, failures < config.retry.maxAttempts else { throw e }
                written = now
                do { try await clock.sleep(seconds: config.retry.delay(attempt: failures, retryAfter: nil)) } catch { throw .cancelled }
            }
        }
        throw .invalidResponse(endpoint: endpoint, detail: "download did not complete")
    }

    /// Streams base-URL bytes to `consumer` (on a transfer thread, chunk by chunk, each a view of the transfer's buffer
    /// valid only during the call). A broken transfer resumes with a Range
    /// from the bytes already delivered, so the consumer never sees a byte twice.
    public func download(baseUrl: String, parameters: String = "d", range: ByteRange? = nil, bearer: Bool = true,
                         endpoint: String = "media", consumer: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void) async throws(PhotosAPIError) -> Int64 {
        let url = Self.mediaURL(baseUrl: baseUrl, parameters: parameters)
        let delivered = DeliveredBytes()
        let counting: @Sendable (UnsafeRawBufferPointer) throws -> Void = { chunk in try consumer(chunk); delivered.add(chunk.count) }
        let start = range?.start ?? 0
        var failures = 0
        for _ in 0..<(config.retry.maxAttempts + 1) {
            let sent = delivered.value
            let r: ByteRange? = (sent == 0 && range == nil) ? nil : ByteRange(start: start + sent, end: range?.end)
            let call = try mediaCall(endpoint: endpoint, url: url, method: "GET", range: r, sink: .callback(counting), bearer: bearer)
            do throws(PhotosAPIError) {
                let resp = try await performOnce(call)
                if sent > 0 && resp.status == 200 {
                    throw .invalidResponse(endpoint: endpoint, detail: "the server ignored the Range of a resumed download")
                }
                return delivered.value
            } catch let e {
                let transient: Bool
                switch e {
                case .transport, .outcomeUnknown, .rateLimited: transient = true
                case .api(_, let h, _), .http(_, let h, _, _): transient = (h >= 500 && h != 501) || h == 429
                default: transient = false
                }
                failures += 1
                guard transient, failures < config.retry.maxAttempts else { throw e }
                do { try await clock.sleep(seconds: config.retry.delay(attempt: failures, retryAfter: nil)) } catch { throw .cancelled }
            }
        }
        throw .invalidResponse(endpoint: endpoint, detail: "download did not complete")
    }

    /// Downloads into memory (small media, thumbnails).
    public func downloadData(baseUrl: String, parameters: String = "d", range: ByteRange? = nil, bearer: Bool = true,
                             endpoint: String = "media", limit: Int = 256 << 20) async throws(PhotosAPIError) -> Data {
        let url = Self.mediaURL(baseUrl: baseUrl, parameters: parameters)
        let call = try mediaCall(endpoint: endpoint, url: url, method: "GET", range: range, sink: .memory(limit: limit), bearer: bearer)
        return try await perform(call).body
    }

    /// The byte size of base-URL media (HEAD and Content-Length), as the API itself never reports sizes.
    public func mediaSize(baseUrl: String, parameters: String = "d", bearer: Bool = true, endpoint: String = "media") async throws(PhotosAPIError) -> Int64 {
        let url = Self.mediaURL(baseUrl: baseUrl, parameters: parameters)
        let r = try await perform(try mediaCall(endpoint: endpoint, url: url, method: "HEAD", range: nil, sink: .memory(limit: 0), bearer: bearer))
        guard let n = r.header("content-length").flatMap({ Int64($0) }) else {
            throw .invalidResponse(endpoint: endpoint, detail: "HEAD without Content-Length")
        }
        return n
    }
}

/// Bytes handed to a download consumer so far (written on the transfer thread, read by the retry loop).
final class DeliveredBytes: Sendable {
    private let count = Atomic<Int64>(0)
    func add(_ n: Int) { count.add(Int64(n), ordering: .relaxed) }
    var value: Int64 { count.load(ordering: .relaxed) }
}
