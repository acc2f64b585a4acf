// CurlTransport: HTTPTransport over libcurl easy handles, run on dedicated threads and exposed as async calls.
import CCurl
import Dispatch
import Foundation
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One libcurl easy handle. Used by one thread at a time (the pool hands it out exclusively), hence unchecked.
final class CurlEasy: @unchecked Sendable {
    /// The CURL* handle.
    let handle: UnsafeMutableRawPointer
    /// curl's error buffer (CURL_ERROR_SIZE bytes).
    let errorBuffer: UnsafeMutablePointer<CChar>

    init?() {
        guard let h = curl_easy_init() else { return nil }
        handle = h
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }
    deinit {
        curl_easy_cleanup(handle)
        errorBuffer.deallocate()
    }
}

/// A cancellation flag shared between a Task's cancellation handler and the transfer thread.
final class CancelFlag: Sendable {
    let raised = Atomic<Bool>(false)
}

/// A token bucket limiting bytes per second across every transfer that shares it (for --bwlimit).
public final class BandwidthLimiter: Sendable {
    private let state: Mutex<(tokens: Double, last: UInt64)>
    /// Bytes per second.
    public let bytesPerSecond: Double
    private let burst: Double

    /// Creates a limiter of `bytesPerSecond` with a burst of about a quarter second.
    public init(bytesPerSecond: Int64) {
        self.bytesPerSecond = Double(max(1, bytesPerSecond))
        burst = max(16_384, self.bytesPerSecond / 4)
        state = Mutex((burst, DispatchTime.now().uptimeNanoseconds))
    }

    /// Takes `n` bytes of budget, blocking the calling (transfer) thread until they are available.
    func take(_ n: Int, cancelled: CancelFlag) {
        var remaining = Double(n)
        var rounds = 0
        while remaining > 0 && rounds < 100_000 && !cancelled.raised.load(ordering: .relaxed) {
            rounds += 1
            let wait: Double = state.withLock { s in
                let now = DispatchTime.now().uptimeNanoseconds
                s.tokens = min(burst, s.tokens + Double(now - s.last) / 1e9 * bytesPerSecond)
                s.last = now
                let grant = min(remaining, max(0, s.tokens))
                s.tokens -= grant
                remaining -= grant
                return remaining > 0 ? min(0.25, min(remaining, burst) / bytesPerSecond) : 0
            }
            if wait > 0 { usleep(UInt32(wait * 1_000_000)) }
        }
    }
}

/// State reached from libcurl's C callbacks for one transfer; touched only on the transfer thread.
final class TransferContext {
    // Request body.
    var readFD: Int32 = -1
    var readOffset: Int64 = 0
    var readRemaining: Int64 = 0
    var readData = Data()
    var readDataPos = 0
    // Response.
    var headers: [String: String] = [:]
    var memory = Data()
    var memoryLimit = 0
    var writeFD: Int32 = -1
    var consumer: (@Sendable (UnsafeRawBufferPointer) throws -> Void)?
    var bytesReceived: Int64 = 0
    var failure: PhotosAPIError?
    var isMemory = false
    /// The easy handle (to read the status code once body bytes arrive).
    var easy: UnsafeMutableRawPointer?
    var statusChecked = false
    // Control.
    let cancel: CancelFlag
    let shared: BandwidthLimiter?

    init(cancel: CancelFlag, shared: BandwidthLimiter?) { self.cancel = cancel; self.shared = shared }
}

/// libcurl read callback: streams the request body from memory or a file.
private let readCallback: ccurl_data_cb = { buffer, size, nitems, userdata in
    guard let buffer, let userdata else { return 0 }
    let ctx = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    if ctx.cancel.raised.load(ordering: .relaxed) { return Int(CURL_READFUNC_ABORT) }
    var capacity = size * nitems
    if ctx.shared != nil { capacity = min(capacity, 65_536) }
    var produced = 0
    if ctx.readFD >= 0 {
        let want = Int(min(Int64(capacity), ctx.readRemaining))
        if want == 0 { return 0 }
        let n = pread(ctx.readFD, buffer, want, off_t(ctx.readOffset))
        if n < 0 { ctx.failure = .io("reading the upload source failed: \(String(cString: strerror(errno)))"); return Int(CURL_READFUNC_ABORT) }
        if n == 0 { ctx.failure = .io("the upload source is shorter than announced"); return Int(CURL_READFUNC_ABORT) }
        ctx.readOffset += Int64(n); ctx.readRemaining -= Int64(n)
        produced = n
    } else {
        let left = ctx.readData.count - ctx.readDataPos
        produced = min(capacity, left)
        if produced > 0 {
            let start = ctx.readData.startIndex + ctx.readDataPos
            ctx.readData.copyBytes(to: UnsafeMutableRawPointer(buffer).assumingMemoryBound(to: UInt8.self), from: start..<start + produced)
            ctx.readDataPos += produced
        }
    }
    ctx.shared?.take(produced, cancelled: ctx.cancel)
    return produced
}

/// libcurl write callback: sends response bytes to memory, a file or a consumer.
private let writeCallback: ccurl_data_cb = { ptr, size, nmemb, userdata in
    guard let userdata else { return 0 }
    let ctx = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * nmemb
    guard n > 0, let ptr else { return n }
    if !ctx.statusChecked && !ctx.isMemory {
        // Error bodies never go into a download target: divert them to memory for the error parser.
        ctx.statusChecked = true
        var code = 0
        if let easy = ctx.easy { ccurl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code) }
        if !(200..<300).contains(code) { ctx.isMemory = true; ctx.memoryLimit = 1 << 20 }
    }
    ctx.bytesReceived += Int64(n)
    if ctx.isMemory {
        if ctx.memory.count + n > ctx.memoryLimit {
            ctx.failure = .invalidResponse(endpoint: "", detail: "response larger than \(ctx.memoryLimit) bytes"); return 0
        }
        ptr.withMemoryRebound(to: UInt8.self, capacity: n) { ctx.memory.append($0, count: n) }
    } else if ctx.writeFD >= 0 {
        var off = 0
        var guardRounds = 0
        while off < n && guardRounds < 1_000_000 {
            guardRounds += 1
            let w = write(ctx.writeFD, ptr + off, n - off)
            if w < 0 {
                if errno == EINTR { continue }
                ctx.failure = .io("writing the download failed: \(String(cString: strerror(errno)))"); return 0
            }
            off += w
        }
    } else if let consumer = ctx.consumer {
        do { try consumer(UnsafeRawBufferPointer(start: ptr, count: n)) } catch {
            ctx.failure = (error as? PhotosAPIError) ?? .io("download consumer failed: \(error)"); return 0
        }
    }
    ctx.shared?.take(n, cancelled: ctx.cancel)
    return n
}

/// libcurl header callback: collects the final response's headers.
private let headerCallback: ccurl_data_cb = { ptr, size, nmemb, userdata in
    guard let userdata, let ptr else { return 0 }
    let ctx = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
    let n = size * nmemb
    let line = String(decoding: UnsafeRawBufferPointer(start: ptr, count: n), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
    if line.hasPrefix("HTTP/") { ctx.headers = [:]; return n }
    if let colon = line.firstIndex(of: ":") {
        let k = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
        let v = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        ctx.headers[k] = ctx.headers[k].map { $0 + ", " + v } ?? v
    }
    return n
}

/// libcurl progress callback: aborts when the Task was cancelled.
private let progressCallback: ccurl_xferinfo_cb = { clientp, _, _, _, _ in
    guard let clientp else { return 0 }
    let ctx = Unmanaged<TransferContext>.fromOpaque(clientp).takeUnretainedValue()
    return ctx.cancel.raised.load(ordering: .relaxed) ? 1 : 0
}

/// HTTPTransport over libcurl: pooled easy handles (keep-alive), HTTP/2 over TLS where offered, streaming bodies.
public final class CurlTransport: HTTPTransport {
    private static let globalInit: Bool = { curl_global_init(Int(CURL_GLOBAL_ALL)) == CURLE_OK }()

    private let pool = Mutex<[CurlEasy]>([])
    private let queue = DispatchQueue(label: "gphotosfs.curl", qos: .utility, attributes: .concurrent)
    private let logger: Logger
    /// Bandwidth shared by every transfer of this transport (nil = unlimited).
    public let sharedBandwidth: BandwidthLimiter?
    /// The User-Agent sent.
    public let userAgent: String
    private let maxIdleHandles: Int
    private let connects = Atomic<Int>(0)
    /// New connections opened so far (reused keep-alive connections do not count).
    public var connectionsOpened: Int { connects.load(ordering: .relaxed) }

    /// Creates a transport; `sharedBandwidth` caps all transfers together.
    public init(sharedBandwidth: BandwidthLimiter? = nil, userAgent: String = "gphotosfs/0.1",
                maxIdleHandles: Int = 16, logger: Logger = PhotosAPILog.defaultLogger) {
        _ = CurlTransport.globalInit
        self.sharedBandwidth = sharedBandwidth
        self.userAgent = userAgent
        self.maxIdleHandles = maxIdleHandles
        self.logger = logger
    }

    /// Performs the request on a transfer thread; cancelling the Task aborts the transfer.
    public func send(_ request: HTTPRequest, endpoint: String) async throws -> HTTPResponse {
        try URLPolicy.check(request.url)
        try Task.checkCancellation()
        let flag = CancelFlag()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (cont: CheckedContinuation<HTTPResponse, any Error>) in
                queue.async { [self] in
                    let result = Result { () throws(PhotosAPIError) -> HTTPResponse in
                        try self.perform(request, endpoint: endpoint, cancel: flag)
                    }
                    cont.resume(with: result.mapError { $0 as any Error })
                }
            }
        } onCancel: {
            flag.raised.store(true, ordering: .relaxed)
        }
    }

    private func checkout() throws(PhotosAPIError) -> CurlEasy {
        if let h = pool.withLock({ $0.popLast() }) { return h }
        guard let h = CurlEasy() else { throw .transport(endpoint: "", curlCode: -1, message: "curl_easy_init failed") }
        return h
    }

    private func checkin(_ h: CurlEasy) {
        pool.withLock { if $0.count < maxIdleHandles { $0.append(h) } }
    }

    /// The blocking transfer (runs on the transport's queue).
    private func perform(_ req: HTTPRequest, endpoint: String, cancel: CancelFlag) throws(PhotosAPIError) -> HTTPResponse {
        let easy = try checkout()
        var reusable = true
        defer { if reusable { checkin(easy) } }
        let h = easy.handle
        curl_easy_reset(h)
        easy.errorBuffer[0] = 0

        let ctx = TransferContext(cancel: cancel, shared: sharedBandwidth)
        ctx.easy = h
        let ctxPtr = Unmanaged.passRetained(ctx)
        defer { ctxPtr.release() }
        let opaque = ctxPtr.toOpaque()

        // Body source.
        switch req.body {
        case .none: break
        case .data(let d): ctx.readData = d
        case let .file(path, offset, length):
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .io("cannot open upload source: \(String(cString: strerror(errno)))") }
            ctx.readFD = fd; ctx.readOffset = offset; ctx.readRemaining = length
        }
        defer { if ctx.readFD >= 0 { close(ctx.readFD) } }

        // Response sink.
        switch req.sink {
        case .memory(let limit): ctx.isMemory = true; ctx.memoryLimit = limit
        case let .file(path, append):
            let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o600)
            guard fd >= 0 else { throw .io("cannot open download target: \(String(cString: strerror(errno)))") }
            ctx.writeFD = fd
        case .callback(let c): ctx.consumer = c
        }
        defer { if ctx.writeFD >= 0 { close(ctx.writeFD) } }

        // Headers.
        var slist: UnsafeMutablePointer<curl_slist>? = nil
        for (k, v) in req.headers { slist = curl_slist_append(slist, "\(k): \(v)") }
        slist = curl_slist_append(slist, "Expect:")
        defer { curl_slist_free_all(slist) }

        let method = req.method.uppercased()
        ccurl_setopt_string(h, CURLOPT_URL, req.url)
        ccurl_setopt_pointer(h, CURLOPT_ERRORBUFFER, easy.errorBuffer)
        ccurl_setopt_long(h, CURLOPT_HTTP_VERSION, Int(CURL_HTTP_VERSION_2TLS))
        ccurl_setopt_string(h, CURLOPT_USERAGENT, userAgent)
        ccurl_setopt_long(h, CURLOPT_NOSIGNAL, 1)
        ccurl_setopt_long(h, CURLOPT_TCP_KEEPALIVE, 1)
        ccurl_setopt_long(h, CURLOPT_CONNECTTIMEOUT_MS, Int(req.options.connectTimeout * 1000))
        ccurl_setopt_long(h, CURLOPT_LOW_SPEED_LIMIT, 1)
        ccurl_setopt_long(h, CURLOPT_LOW_SPEED_TIME, max(1, Int(req.options.idleTimeout.rounded(.up))))
        if req.options.totalTimeout > 0 { ccurl_setopt_long(h, CURLOPT_TIMEOUT_MS, Int(req.options.totalTimeout * 1000)) }
        if req.options.maxSendRate > 0 { ccurl_setopt_off(h, CURLOPT_MAX_SEND_SPEED_LARGE, curl_off_t(req.options.maxSendRate)) }
        if req.options.maxReceiveRate > 0 { ccurl_setopt_off(h, CURLOPT_MAX_RECV_SPEED_LARGE, curl_off_t(req.options.maxReceiveRate)) }
        if req.options.followRedirects {
            ccurl_setopt_long(h, CURLOPT_FOLLOWLOCATION, 1)
            ccurl_setopt_long(h, CURLOPT_MAXREDIRS, 5)
            // Redirects are followed to https only: URLPolicy allows plain http for loopback alone, and curl cannot
            // tell a loopback redirect target from a remote one before it connects.
            ccurl_setopt_long(h, CURLOPT_REDIR_PROTOCOLS, Int(CURLPROTO_HTTPS))
        }
        ccurl_setopt_long(h, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTPS | CURLPROTO_HTTP))
        ccurl_setopt_slist(h, CURLOPT_HTTPHEADER, slist)
        ccurl_setopt_data_cb(h, CURLOPT_WRITEFUNCTION, writeCallback)
        ccurl_setopt_pointer(h, CURLOPT_WRITEDATA, opaque)
        // Downloads hand bytes on in 512 KiB pieces (libcurl's 16 KiB default meant 13,000 callbacks, copies and
        // reader wake-ups for a 200 MB video); API answers keep the default.
        ccurl_setopt_long(h, CURLOPT_BUFFERSIZE, ctx.isMemory ? 16 * 1024 : 512 * 1024)
        ccurl_setopt_data_cb(h, CURLOPT_HEADERFUNCTION, headerCallback)
        ccurl_setopt_pointer(h, CURLOPT_HEADERDATA, opaque)
        ccurl_setopt_long(h, CURLOPT_NOPROGRESS, 0)
        ccurl_setopt_xferinfo_cb(h, progressCallback)
        ccurl_setopt_pointer(h, CURLOPT_XFERINFODATA, opaque)

        switch method {
        case "GET": ccurl_setopt_long(h, CURLOPT_HTTPGET, 1)
        case "HEAD": ccurl_setopt_long(h, CURLOPT_NOBODY, 1)
        default:
            ccurl_setopt_long(h, CURLOPT_POST, 1)
            ccurl_setopt_off(h, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(req.body.length))
            ccurl_setopt_data_cb(h, CURLOPT_READFUNCTION, readCallback)
            ccurl_setopt_pointer(h, CURLOPT_READDATA, opaque)
            if method != "POST" { ccurl_setopt_string(h, CURLOPT_CUSTOMREQUEST, method) }
        }

        let rc = curl_easy_perform(h)
        if rc != CURLE_OK {
            if cancel.raised.load(ordering: .relaxed) { throw .cancelled }
            if let f = ctx.failure {
                if case .invalidResponse(_, let d) = f { throw .invalidResponse(endpoint: endpoint, detail: d) }
                throw f
            }
            let detail = String(cString: easy.errorBuffer)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
            reusable = false
            logger.debug("transfer failed", metadata: ["endpoint": "\(endpoint)", "curl": "\(rc.rawValue)", "error": "\(text)"])
            throw .transport(endpoint: endpoint, curlCode: Int(rc.rawValue), message: text)
        }
        var code = 0
        ccurl_getinfo_long(h, CURLINFO_RESPONSE_CODE, &code)
        var opened = 0
        ccurl_getinfo_long(h, CURLINFO_NUM_CONNECTS, &opened)
        connects.add(opened, ordering: .relaxed)
        return HTTPResponse(status: code, headers: ctx.headers, body: ctx.memory, bodyBytes: ctx.bytesReceived)
    }
}
