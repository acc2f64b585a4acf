// Test support: run gphotos-emulator as a real process and talk raw HTTP/1.1 to it over 127.0.0.1.
import Foundation
import Harness
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Test-support failures (from the shared harness).
typealias TestFailure = Harness.TestFailure

/// A running `gphotos-emulator serve` child process.
final class EmulatorProcess: Sendable {
    let child: ChildProcess
    /// e.g. http://127.0.0.1:41234
    let baseURL: String
    let port: Int

    /// Path of a built executable next to the test bundle.
    static func executable(_ name: String) -> URL { builtExecutable(name) }

    /// Starts the emulator with extra arguments (default: ephemeral state, any free port) and waits for its first line.
    init(_ args: [String] = [], state: URL? = nil) throws {
        var a = ["serve", "--port", "0"]
        if let state { a += ["--state", state.path] } else { a += ["--ephemeral"] }
        child = try ChildProcess(executable: builtExecutable("gphotos-emulator"), arguments: a + args)
        let text = child.readLine(timeout: 20)
        guard let r = text.range(of: "listening on ") else {
            let err = child.stderrSoFar()
            child.stop()
            throw TestFailure("emulator did not start: '\(text)' \(err)")
        }
        baseURL = String(text[r.upperBound...])
        port = Int(baseURL.split(separator: ":").last ?? "") ?? 0
    }

    /// Stops the process: SIGTERM, then SIGKILL after 5 s. Returns the exit status.
    @discardableResult
    func stop() -> Int32 { child.stop() }
}

/// Runs `body` with a fresh emulator and always stops it.
func withEmulator<T>(_ args: [String] = [], state: URL? = nil, _ body: (EmulatorProcess) async throws -> T) async throws -> T {
    let emu = try EmulatorProcess(args, state: state)
    defer { emu.stop() }
    return try await body(emu)
}

/// One HTTP response as seen on the wire.
struct HTTPResult: Sendable {
    let status: Int
    /// Header names lower-cased.
    let headers: [String: String]
    let body: Data

    /// Body as UTF-8 text.
    var text: String { String(decoding: body, as: UTF8.self) }
    /// Body parsed as JSON (object or array), or nil.
    var json: Any? { try? JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }
    /// Body as a JSON object ([:] when not one).
    var object: [String: Any] { (json as? [String: Any]) ?? [:] }
    /// error.status of a Google error envelope.
    var errorStatus: String? { (object["error"] as? [String: Any])?["status"] as? String }
    /// error.message of a Google error envelope.
    var errorMessage: String? { (object["error"] as? [String: Any])?["message"] as? String }
    /// A header by lower-case name.
    func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// Errors of the raw client: the connection broke before a whole response arrived.
enum RawHTTPError: Error, Equatable {
    case connect(Int32)
    case closedEarly(received: Int)
    /// The connection closed after a response head and part of its body.
    case truncated(status: Int, headers: [String: String], body: Data)
    case timeout
}

/// A deliberately small HTTP/1.1 client over a TCP socket, so tests control every byte sent.
enum RawHTTP {
    /// Sends one request on a new connection and reads the whole response.
    static func request(_ method: String, _ url: String, headers: [(String, String)] = [], body: Data? = nil,
                        chunked: Bool = false, timeout: Double = 20) throws -> HTTPResult {
        let (port, target) = split(url)
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        var payload = Data()
        if let body {
            if chunked {
                head += "Transfer-Encoding: chunked\r\n"
                var off = 0
                while off < body.count {
                    let n = min(7001, body.count - off)
                    payload.append(Data(String(n, radix: 16).utf8)); payload.append(Data("\r\n".utf8))
                    payload.append(body[body.startIndex + off ..< body.startIndex + off + n]); payload.append(Data("\r\n".utf8))
                    off += n
                }
                payload.append(Data("0\r\n\r\n".utf8))
            } else if !headers.contains(where: { $0.0.lowercased() == "content-length" }) {
                head += "Content-Length: \(body.count)\r\n"
                payload = body
            } else {
                payload = body
            }
        } else if ["POST", "PUT", "PATCH"].contains(method), !headers.contains(where: { $0.0.lowercased() == "content-length" }) {
            head += "Content-Length: 0\r\n"
        }
        head += "\r\n"
        return try exchange(port: port, bytes: Data(head.utf8) + payload, method: method, timeout: timeout)
    }

    /// A TCP connection to 127.0.0.1:`port` with send and receive timeouts; the caller closes it.
    static func connect(port: Int, timeout: Double) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RawHTTPError.connect(errno) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else { let e = errno; close(fd); throw RawHTTPError.connect(e) }
        return fd
    }

    /// Writes all of `bytes`, stopping quietly if the peer closes: a server may refuse part-way and still answer,
    /// and the answer is what the test checks.
    static func sendAll(_ fd: Int32, _ bytes: Data) {
        bytes.withUnsafeBytes { raw in
            var off = 0
            while off < raw.count, let base = raw.baseAddress {
                let n = send(fd, base + off, raw.count - off, Int32(MSG_NOSIGNAL))
                if n <= 0 { return }
                off += n
            }
        }
    }

    /// Sends raw bytes and parses whatever response comes back.
    static func exchange(port: Int, bytes: Data, method: String = "GET", timeout: Double = 20) throws -> HTTPResult {
        let fd = try connect(port: port, timeout: timeout)
        defer { close(fd) }
        sendAll(fd, bytes)
        var data = Data()
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buf, buf.count, 0)
            if n > 0 { data.append(contentsOf: buf[0..<n]); if let r = parse(data, method: method) { return r } ; continue }
            if n == 0 { break }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw RawHTTPError.timeout }
            break
        }
        if let r = parse(data, method: method, eof: true) {
            if let cl = r.header("content-length").flatMap(Int.init), r.body.count < cl {
                throw RawHTTPError.truncated(status: r.status, headers: r.headers, body: r.body)
            }
            return r
        }
        throw RawHTTPError.closedEarly(received: data.count)
    }

    /// Sends a request head with `Expect: 100-continue`, returns the interim status line the server sends before
    /// any body byte, then sends the body and returns the final response.
    static func expectContinue(_ url: String, headers: [(String, String)], body: Data) throws -> (interim: String, final: HTTPResult) {
        let (port, target) = split(url)
        var head = "POST \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\nExpect: 100-continue\r\n"
        for (k, v) in headers { head += "\(k): \(v)\r\n" }
        head += "Content-Length: \(body.count)\r\n\r\n"
        let fd = try connect(port: port, timeout: 5)
        defer { close(fd) }
        sendAll(fd, Data(head.utf8))
        var buf = [UInt8](repeating: 0, count: 65536)
        var interim = Data()
        while interim.range(of: Data("\r\n\r\n".utf8)) == nil {
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { throw RawHTTPError.timeout }
            interim.append(contentsOf: buf[0..<n])
        }
        let sep = interim.range(of: Data("\r\n\r\n".utf8))!
        let statusLine = String(decoding: interim[..<sep.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")[0]
        var rest = Data(interim[sep.upperBound...])
        sendAll(fd, body)
        while true {
            if let r = parse(rest, method: "POST") { return (statusLine, r) }
            let n = recv(fd, &buf, buf.count, 0)
            if n <= 0 { break }
            rest.append(contentsOf: buf[0..<n])
        }
        guard let r = parse(rest, method: "POST", eof: true) else { throw RawHTTPError.closedEarly(received: rest.count) }
        return (statusLine, r)
    }

    private static func split(_ url: String) -> (Int, String) {
        var rest = url
        if let r = rest.range(of: "://") { rest = String(rest[r.upperBound...]) }
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let hostPort = rest[..<slash]
        let target = slash == rest.endIndex ? "/" : String(rest[slash...])
        let port = Int(hostPort.split(separator: ":").last ?? "80") ?? 80
        return (port, target)
    }

    /// Parses a complete response from `data`, or nil when more bytes are needed.
    private static func parse(_ data: Data, method: String, eof: Bool = false) -> HTTPResult? {
        guard let sep = data.range(of: Data("\r\n\r\n".utf8)) else { return nil }
        let headText = String(decoding: data[data.startIndex..<sep.lowerBound], as: UTF8.self)
        var lines = headText.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for l in lines {
            guard let c = l.firstIndex(of: ":") else { continue }
            let k = l[..<c].lowercased()
            let v = l[l.index(after: c)...].trimmingCharacters(in: .whitespaces)
            headers[k] = headers[k].map { $0 + ", " + v } ?? v
        }
        let bodyStart = sep.upperBound
        if method == "HEAD" || status == 204 || status == 304 { return HTTPResult(status: status, headers: headers, body: Data()) }
        if let cl = headers["content-length"].flatMap(Int.init) {
            guard data.count - bodyStart >= cl else {
                return eof ? HTTPResult(status: status, headers: headers, body: data[bodyStart...]) : nil
            }
            return HTTPResult(status: status, headers: headers, body: data[bodyStart..<bodyStart + cl])
        }
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            var out = Data()
            var i = bodyStart
            while true {
                guard let le = data[i...].range(of: Data("\r\n".utf8)) else { return nil }
                let sizeText = String(decoding: data[i..<le.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
                guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16) else { return nil }
                let start = le.upperBound
                if size == 0 { return HTTPResult(status: status, headers: headers, body: out) }
                guard data.count >= start + size + 2 else { return nil }
                out.append(data[start..<start + size])
                i = start + size + 2
            }
        }
        return eof ? HTTPResult(status: status, headers: headers, body: data[bodyStart...]) : nil
    }
}

/// Scope URLs used by the tests.
enum Scopes {
    static let append = "https://www.googleapis.com/auth/photoslibrary.appendonly"
    static let read = "https://www.googleapis.com/auth/photoslibrary.readonly.appcreateddata"
    static let edit = "https://www.googleapis.com/auth/photoslibrary.edit.appcreateddata"
    static let picker = "https://www.googleapis.com/auth/photospicker.mediaitems.readonly"
    static let oldFull = "https://www.googleapis.com/auth/photoslibrary"
    static let oldReadonly = "https://www.googleapis.com/auth/photoslibrary.readonly"
    static let oldSharing = "https://www.googleapis.com/auth/photoslibrary.sharing"
    static let library = [append, read, edit]
}

/// A test's view of one OAuth client on the emulator: a token and JSON helpers that send it.
struct APIClient: Sendable {
    let emu: EmulatorProcess
    let clientID: String
    let accessToken: String
    let refreshToken: String

    /// Mints a token for `clientID` with `scopes` through the control API.
    init(_ emu: EmulatorProcess, clientID: String = "client-a.apps.googleusercontent.com", scopes: [String] = Scopes.library,
         userID: String? = nil, project: String? = nil) throws {
        self.emu = emu
        self.clientID = clientID
        var body: [String: Any] = ["clientId": clientID, "scopes": scopes]
        if let userID { body["userId"] = userID }
        if let project { body["project"] = project }
        let r = try RawHTTP.request("POST", emu.baseURL + "/emulator/v1/tokens", headers: [("Content-Type", "application/json")],
                                    body: try JSONSerialization.data(withJSONObject: body))
        guard r.status == 200, let at = r.object["access_token"] as? String else { throw TestFailure("mint failed: \(r.status) \(r.text)") }
        accessToken = at
        refreshToken = r.object["refresh_token"] as? String ?? ""
    }

    /// GET with the bearer token.
    func get(_ path: String, headers: [(String, String)] = []) throws -> HTTPResult {
        try RawHTTP.request("GET", emu.baseURL + path, headers: [("Authorization", "Bearer \(accessToken)")] + headers)
    }

    /// POST a JSON object with the bearer token.
    func post(_ path: String, _ json: Any = [String: Any]()) throws -> HTTPResult {
        try send("POST", path, json)
    }

    /// PATCH a JSON object with the bearer token.
    func patch(_ path: String, _ json: Any) throws -> HTTPResult { try send("PATCH", path, json) }

    /// Any method with a JSON body.
    func send(_ method: String, _ path: String, _ json: Any) throws -> HTTPResult {
        try RawHTTP.request(method, emu.baseURL + path,
                            headers: [("Authorization", "Bearer \(accessToken)"), ("Content-Type", "application/json")],
                            body: try JSONSerialization.data(withJSONObject: json))
    }
}

/// Calls to the emulator's control API.
extension EmulatorProcess {
    /// POST a JSON object to /emulator/v1/PATH.
    @discardableResult
    func control(_ method: String, _ path: String, _ json: Any? = nil) throws -> HTTPResult {
        try RawHTTP.request(method, baseURL + "/emulator/v1/" + path, headers: [("Content-Type", "application/json")],
                            body: try json.map { try JSONSerialization.data(withJSONObject: $0) })
    }

    /// Moves the emulator's clock forward.
    func advanceClock(_ seconds: Double) throws {
        let r = try control("POST", "clock:advance", ["seconds": seconds])
        guard r.status == 200 else { throw TestFailure("advance failed: \(r.text)") }
    }

    /// Per-endpoint request counts from the request log.
    func requestCounts() throws -> [String: Int] {
        let r = try control("GET", "requests?limit=0")
        return (r.object["counts"] as? [String: Any])?.compactMapValues { ($0 as? NSNumber)?.intValue } ?? [:]
    }
}
