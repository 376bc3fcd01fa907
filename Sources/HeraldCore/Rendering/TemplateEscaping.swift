import Mustache

/// How personalization data is escaped into a part, by the part's context.
enum TemplateEscaping: String, Sendable {
    /// Text parts: data goes in as it is (a header part is checked for CR/LF afterwards).
    case none = "TEXT"
    /// HTML parts: `<`, `>`, `&`, `"` and `'` become entities.
    case html = "HTML"
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
        return true
    }()
}

/// Escapes text as the inside of a JSON string (RFC 8259 §7).
struct JSONStringContentType: MustacheContentType {
    func escapeText(_ text: String) -> String {
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
