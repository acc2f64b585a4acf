// A small JSON value type: the emulator builds proto3-style JSON explicitly (int64 as strings, defaults omitted).
import Foundation

/// A JSON document built or parsed by the emulator.
enum JSONValue: Sendable, Equatable, Decodable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON bytes; nil when they are not JSON.
    static func parse(_ data: Data) -> JSONValue? {
        try? JSONDecoder().decode(JSONValue.self, from: data)
    }

    /// Serialises to compact JSON text (keys sorted, so output is stable).
    func serialized() -> Data {
        var s = ""
        write(into: &s)
        return Data(s.utf8)
    }

    private func write(into s: inout String) {
        switch self {
        case .null: s += "null"
        case .bool(let b): s += b ? "true" : "false"
        case .int(let i): s += String(i)
        case .double(let d): s += d.isFinite ? (d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)) : "null"
        case .string(let str): JSONValue.quote(str, into: &s)
        case .array(let a):
            s += "["
            for (i, e) in a.enumerated() { if i > 0 { s += "," }; e.write(into: &s) }
            s += "]"
        case .object(let o):
            s += "{"
            for (i, k) in o.keys.sorted().enumerated() {
                if i > 0 { s += "," }
                JSONValue.quote(k, into: &s); s += ":"; o[k]!.write(into: &s)
            }
            s += "}"
        }
    }

    private static func quote(_ str: String, into s: inout String) {
        s += "\""
        for u in str.unicodeScalars {
            switch u {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            case "\n": s += "\\n"
            case "\r": s += "\\r"
            case "\t": s += "\\t"
            default:
                if u.value < 0x20 { s += String(format: "\\u%04x", u.value) } else { s.unicodeScalars.append(u) }
            }
        }
        s += "\""
    }

    /// Member of an object, or nil.
    subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] } else { return nil }
    }

    /// The string value, or nil.
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    /// The array value, or nil.
    var array: [JSONValue]? { if case .array(let a) = self { return a } else { return nil } }
    /// The object value, or nil.
    var object: [String: JSONValue]? { if case .object(let o) = self { return o } else { return nil } }
    /// The bool value, or nil.
    var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    /// An integer given as a JSON number or, proto3-style, as a decimal string.
    var int: Int? {
        switch self {
        case .int(let i): return i
        case .double(let d): return d == d.rounded() && abs(d) < 9e15 ? Int(d) : nil
        case .string(let s): return Int(s)
        default: return nil
        }
    }

    /// An int64 the proto3 way: a decimal string.
    static func int64(_ v: Int) -> JSONValue { .string(String(v)) }
}

extension JSONValue {
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let i = try? c.decode(Int.self) { self = .int(i) }
        else if let d = try? c.decode(Double.self) { self = .double(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try c.decode([String: JSONValue].self)) }
    }
}
