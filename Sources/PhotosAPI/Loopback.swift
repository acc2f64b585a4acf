// The desktop loopback OAuth flow: a one-shot HTTP listener on 127.0.0.1 plus PKCE, state check and code exchange.
import Dispatch
import Foundation
import Logging
#if canImport(Glibc)
import Glibc
#endif

/// A one-shot listener on 127.0.0.1 that receives the OAuth redirect.
public final class LoopbackListener: Sendable {
    private let fd: Int32
    /// The bound port.
    public let port: Int

    /// Binds 127.0.0.1:`port` (0 = a random free port).
    public init(port: Int = 0) throws(PhotosAPIError) {
        let s = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard s >= 0 else { throw .io("socket() failed: \(String(cString: strerror(errno)))") }
        var one: Int32 = 1
        setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(clamping: port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0, listen(s, 8) == 0 else {
            let msg = String(cString: strerror(errno)); close(s)
            throw .io("cannot listen on 127.0.0.1:\(port): \(msg)")
        }
        var bound = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }
        fd = s
        self.port = Int(UInt16(bigEndian: bound.sin_port))
    }

    deinit { close(fd) }

    /// The redirect URI to register in the authorization request.
    public var redirectURI: String { "http://127.0.0.1:\(port)/" }

    /// Waits (off the cooperative pool) for the redirect carrying `code` or `error`, answers the browser, returns the query.
    public func waitForRedirect(timeout: Double) async throws(PhotosAPIError) -> [String: String] {
        let result: Result<[String: String], PhotosAPIError> = await withCheckedContinuation { cont in
            DispatchQueue.global(qos: .utility).async { [self] in
                cont.resume(returning: Result { () throws(PhotosAPIError) in try self.acceptLoop(timeout: timeout) })
            }
        }
        return try result.get()
    }

    private func acceptLoop(timeout: Double) throws(PhotosAPIError) -> [String: String] {
        let deadline = Date().addingTimeInterval(timeout)
        for _ in 0..<64 {
            let left = deadline.timeIntervalSinceNow
            guard left > 0 else { break }
            var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pfd, 1, Int32(min(left, 3600) * 1000)) > 0 else { continue }
            let c = accept(fd, nil, nil)
            guard c >= 0 else { continue }
            defer { close(c) }
            var tv = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            var data = [UInt8]()
            var buf = [UInt8](repeating: 0, count: 4096)
            while data.count < 65_536 {
                let n = recv(c, &buf, buf.count, 0)
                if n <= 0 { break }
                data.append(contentsOf: buf[0..<n])
                if data.count >= 4, data.suffix(4) == [13, 10, 13, 10] { break }
                if let s = String(bytes: data, encoding: .utf8), s.contains("\r\n\r\n") { break }
            }
            let text = String(decoding: data, as: UTF8.self)
            let first = text.split(separator: "\r\n", maxSplits: 1).first.map(String.init) ?? ""
            let parts = first.split(separator: " ")
            guard parts.count >= 2, parts[0] == "GET" else { Self.reply(c, 400, "Bad request"); continue }
            let target = String(parts[1])
            guard let comps = URLComponents(string: "http://127.0.0.1" + target), comps.path == "/" else {
                Self.reply(c, 404, "Not found"); continue
            }
            var q: [String: String] = [:]
            for item in comps.queryItems ?? [] { q[item.name] = item.value ?? "" }
            guard q["code"] != nil || q["error"] != nil else { Self.reply(c, 400, "Missing code"); continue }
            if q["error"] != nil {
                Self.reply(c, 200, "Authorization was not granted. You can close this window.")
            } else {
                Self.reply(c, 200, "gphotosfs is authorized. You can close this window and return to the terminal.")
            }
            return q
        }
        throw .notAuthorized("no OAuth redirect arrived on 127.0.0.1:\(port) within \(Int(timeout)) s")
    }

    private static func reply(_ c: Int32, _ status: Int, _ message: String) {
        let body = "<!doctype html><html><body><p>\(message)</p></body></html>"
        let head = "HTTP/1.1 \(status) \(status == 200 ? "OK" : "Error")\r\nContent-Type: text/html; charset=utf-8\r\n"
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array((head + body).utf8)
        _ = bytes.withUnsafeBytes { send(c, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

/// The whole desktop login: listener, consent URL, state check, code exchange.
public struct LoopbackLogin: Sendable {
    let oauth: OAuthClient
    let logger: Logger

    /// Creates a login flow against `endpoints`.
    public init(endpoints: PhotosEndpoints, transport: any HTTPTransport, logger: Logger = PhotosAPILog.defaultLogger) {
        oauth = OAuthClient(endpoints: endpoints, transport: transport, logger: logger)
        self.logger = logger
    }

    /// Runs the flow: `present` gets the consent URL (open a browser or print it). Returns the token response.
    public func run(clientId: String, clientSecret: String?, scopes: [String], port: Int = 0, timeout: Double = 300,
                    present: @Sendable (String) -> Void) async throws(PhotosAPIError) -> TokenResponse {
        let listener = try LoopbackListener(port: port)
        let pkce = PKCE()
        let state = PKCE.randomState()
        let url = oauth.authorizationURL(clientId: clientId, redirectURI: listener.redirectURI, scopes: scopes, state: state, pkce: pkce)
        logger.info("waiting for the OAuth redirect", metadata: ["port": "\(listener.port)"])
        present(url)
        let q = try await listener.waitForRedirect(timeout: timeout)
        if let err = q["error"] { throw .oauth(error: err, description: "the consent screen returned an error") }
        guard q["state"] == state else { throw .oauth(error: "state_mismatch", description: "the redirect's state does not match this login; try again") }
        guard let code = q["code"], !code.isEmpty else { throw .oauth(error: "no_code", description: "the redirect carried no code") }
        return try await oauth.exchange(code: code, verifier: pkce.verifier, redirectURI: listener.redirectURI, clientId: clientId, clientSecret: clientSecret)
    }
}
