// Response builders: JSON, plain text and Google's HTML 404, with header helpers.
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Builders for the emulator's HTTP responses.
enum HTTPOut {
    /// A JSON response.
    static func json(_ value: JSONValue, status: Int = 200) -> Response {
        bytes(value.serialized(), status: status, contentType: "application/json; charset=UTF-8")
    }

    /// A response with the given bytes and content type.
    static func bytes(_ data: Data, status: Int = 200, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A plain-text response.
    static func text(_ s: String, status: Int = 200) -> Response {
        bytes(Data(s.utf8), status: status, contentType: "text/plain; charset=UTF-8")
    }

    /// An empty JSON object `{}`.
    static var empty: Response { json(.object([:])) }

    /// Google front-end's HTML 404 for a path or method that does not exist.
    static func htmlNotFound(_ path: String) -> Response {
        let safe = path.replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
        let html = """
        <!DOCTYPE html>
        <html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title>
        <p><b>404.</b> <ins>That’s an error.</ins>
        <p>The requested URL <code>\(safe)</code> was not found on this server.  <ins>That’s all we know.</ins>

        """
        return bytes(Data(html.utf8), status: 404, contentType: "text/html; charset=UTF-8")
    }
}

extension Response {
    /// Sets a header by name.
    mutating func set(_ name: String, _ value: String) {
        if let field = HTTPField.Name(name) { headers[field] = value }
    }
}

extension Request {
    /// The value of a header, by case-insensitive name.
    func header(_ name: String) -> String? {
        guard let field = HTTPField.Name(name) else { return nil }
        return headers[field]
    }
}
