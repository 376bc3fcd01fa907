import Mustache

/// How personalization data is escaped into a part, by the part's context.
enum TemplateEscaping: String, Sendable {
    /// Text parts: data goes in as it is (a header part is checked for CR/LF afterwards).
    case none = "TEXT"
    /// HTML parts: `<`, `>`, `&`, `"` and `'` become entities.
    case html = "HERALD_HTML"
    /// JSON bodies: data is escaped as the inside of a JSON string, so `"{{data.name}}"` stays
    /// one valid string whatever the data holds.
    case json = "HERALD_JSON"

    /// The pragma that selects this escaping in swift-mustache. It is put in front of the file's
    /// first line, so line numbers in errors stay those of the file.
    var pragma: String { "{{% CONTENT_TYPE: \(rawValue)}}" }

    /// swift-mustache knows TEXT and HTML; the JSON context is registered once, before the first
    /// template is compiled.
    static let registered: Bool = {
        MustacheContentTypes.register(JSONStringContentType(), named: TemplateEscaping.json.rawValue)
        MustacheContentTypes.register(HTMLContentType(), named: TemplateEscaping.html.rawValue)
        return true
    }()
}

/// Escapes text for HTML text and attribute values, the same five characters as swift-mustache's
/// own HTML type, but on UTF-8 bytes and returning the text untouched when nothing needs
/// escaping (most names and URLs): the engine's per-Character version was half of a render.
struct HTMLContentType: MustacheContentType {
    func escapeText(_ text: String) -> String {
        var text = text
        return text.withUTF8 { bytes in
            guard bytes.contains(where: { $0 == UInt8(ascii: "<") || $0 == UInt8(ascii: ">") || $0 == UInt8(ascii: "&")
                || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "'") })
            else { return nil }
            var result: [UInt8] = []
            result.reserveCapacity(bytes.count + 32)
            for byte in bytes {
                switch byte {
                case UInt8(ascii: "<"): result += "&lt;".utf8
                case UInt8(ascii: ">"): result += "&gt;".utf8
                case UInt8(ascii: "&"): result += "&amp;".utf8
                case UInt8(ascii: "\""): result += "&quot;".utf8
                case UInt8(ascii: "'"): result += "&#39;".utf8
                default: result.append(byte)
                }
            }
            return String(decoding: result, as: UTF8.self)
        } ?? text
    }
}

/// Escapes text as the inside of a JSON string (RFC 8259 §7).
struct JSONStringContentType: MustacheContentType {
    func escapeText(_ text: String) -> String {
        // Most values need nothing escaped: check the bytes first (0xE2 starts U+2028/2029).
        var text = text
        let clean = text.withUTF8 { bytes in
            !bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 == 0xE2 }
        }
        if clean { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            // U+2028/2029 are valid JSON but end a line in JavaScript; escape them too.
            case "\u{2028}": result += "\\u2028"
            case "\u{2029}": result += "\\u2029"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// A JSON string literal, quotes included, appended as bytes (for output written by hand).
enum JSONStringEscaping {
    static func append(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        out.append(contentsOf: JSONStringContentType().escapeText(text).utf8)
        out.append(UInt8(ascii: "\""))
    }
}
