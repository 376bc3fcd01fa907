import Foundation

/// Any JSON value, as a message's fields arrive before validation.
public enum JSONValue: Sendable, Equatable, Codable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// Parses one JSON document.
    public static func parse(_ bytes: some DataProtocol) throws -> JSONValue {
        if let contiguous = bytes as? Data {
            return try contiguous.withUnsafeBytes { buffer throws(JSONParser.SyntaxError) in try JSONParser.parse(buffer) }
        }
        return try Array(bytes).withUnsafeBytes { buffer throws(JSONParser.SyntaxError) in try JSONParser.parse(buffer) }
    }

    /// Compact JSON text with sorted keys (so equal values are stored as equal text).
    public var jsonText: String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        appendJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func appendJSON(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .integer(let value): out.append(contentsOf: String(value).utf8)
        case .number(let value): out.append(contentsOf: "\(value)".utf8)
        case .string(let value): JSONStringEscaping.append(value, to: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            // Sorted pairs rather than sorted keys looked up again: every message's data passes here.
            for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONStringEscaping.append(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.appendJSON(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// How the value reads in an error message: its JSON type and, for scalars, the value.
    var errorDescription: String {
        switch self {
        case .null: "null"
        case .bool(let value): "boolean \(value)"
        case .integer(let value): "number \(value)"
        case .number(let value): "number \(value)"
        case .string(let value): "\"\(value.prefix(80))\""
        case .array: "an array"
        case .object: "an object"
        }
    }
}
