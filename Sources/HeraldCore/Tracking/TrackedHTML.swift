/// An email's HTML part with tracking added: every `<a href>` to an http(s) URL rewritten to its
/// signed click link, and the open pixel placed before `</body>`. Links the recipient must reach
/// as they are (the unsubscribe link, anything already on Herald's own public URLs) and links
/// inside comments (Outlook's conditional blocks) are left alone; so are `mailto:`, `tel:` and
/// in-page anchors. Works on the UTF-8 bytes, since the part is already rendered and escaped.
enum TrackedHTML {
    /// `html` with tracking for message `messageID`; `untouched` names the URLs to leave as written.
    static func rewrite(_ html: String, messageID: Int64, links: TrackingLinks, untouched: (String) -> Bool) -> String {
        var bytes = Array(html.utf8)
        if links.clicks {
            let anchors = hrefs(in: bytes).filter { isTrackable($0.url) && !untouched($0.url) }
            // Back to front, so the ranges still to replace keep their offsets.
            for (index, anchor) in anchors.enumerated().reversed() {
                let url = links.url(.click(messageID: messageID, index: index, count: anchors.count, url: anchor.url))
                bytes.replaceSubrange(anchor.value, with: Array("\"\(escaped(url))\"".utf8))
            }
        }
        if links.opens {
            let pixel = Array(("<img src=\"\(escaped(links.url(.open(messageID: messageID))))\" width=\"1\" height=\"1\" alt=\"\" "
                + "style=\"display:block;width:1px;height:1px;border:0\">").utf8)
            bytes.insert(contentsOf: pixel, at: lastBodyClose(in: bytes) ?? bytes.endIndex)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// One `href` of an `<a>` tag: where its value sits (quotes included) and the URL it holds.
    struct Anchor: Equatable {
        var value: Range<Int>
        var url: String
    }

    /// The `href` of every `<a>` tag outside comments, in document order.
    static func hrefs(in bytes: [UInt8]) -> [Anchor] {
        var anchors: [Anchor] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "<") else {
                index += 1
                continue
            }
            if starts(bytes, at: index, with: "<!--") {
                index = find(bytes, "-->", from: index + 4).map { $0 + 3 } ?? bytes.count
                continue
            }
            guard index + 2 < bytes.count, bytes[index + 1] | 0x20 == UInt8(ascii: "a"), isSpace(bytes[index + 2]) else {
                index += 1
                continue
            }
            index += 2
            // Attributes up to the tag's end: name, optional `=` and a quoted or bare value.
            while index < bytes.count, bytes[index] != UInt8(ascii: ">") {
                while index < bytes.count, isSpace(bytes[index]) || bytes[index] == UInt8(ascii: "/") { index += 1 }
                let nameStart = index
                while index < bytes.count, !isSpace(bytes[index]), bytes[index] != UInt8(ascii: "="),
                      bytes[index] != UInt8(ascii: ">"), bytes[index] != UInt8(ascii: "/") { index += 1 }
                let name = bytes[nameStart..<index]
                while index < bytes.count, isSpace(bytes[index]) { index += 1 }
                guard index < bytes.count, bytes[index] == UInt8(ascii: "=") else {
                    if index == nameStart, index < bytes.count, bytes[index] != UInt8(ascii: ">") { index += 1 }
                    continue
                }
                index += 1
                while index < bytes.count, isSpace(bytes[index]) { index += 1 }
                let valueStart = index
                let text: Range<Int>
                if index < bytes.count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'") {
                    let quote = bytes[index]
                    let close = bytes[(index + 1)...].firstIndex(of: quote) ?? bytes.count
                    text = (index + 1)..<close
                    index = min(close + 1, bytes.count)
                } else {
                    while index < bytes.count, !isSpace(bytes[index]), bytes[index] != UInt8(ascii: ">") { index += 1 }
                    text = valueStart..<index
                }
                if name.count == 4, name.map({ $0 | 0x20 }) == Array("href".utf8) {
                    anchors.append(Anchor(value: valueStart..<index, url: unescaped(bytes[text])))
                }
            }
        }
        return anchors
    }

    /// A link a person follows to a page: http or https.
    static func isTrackable(_ url: String) -> Bool {
        let lower = url.prefix(8).lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }

    /// An attribute value as the browser reads it: the entities Herald's own escaping writes, and
    /// numeric ones, decoded; whitespace around the URL dropped.
    static func unescaped(_ value: ArraySlice<UInt8>) -> String {
        let text = String(decoding: value, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.contains("&") else { return text }
        var result = ""
        var rest = Substring(text)
        while let amp = rest.firstIndex(of: "&") {
            result += rest[..<amp]
            rest = rest[amp...]
            guard let semicolon = rest.prefix(12).firstIndex(of: ";") else {
                result += "&"
                rest = rest.dropFirst()
                continue
            }
            let name = rest[rest.index(after: rest.startIndex)..<semicolon]
            let decoded: String? = switch name {
            case "amp": "&"
            case "lt": "<"
            case "gt": ">"
            case "quot": "\""
            case "apos": "'"
            default:
                if name.hasPrefix("#x") || name.hasPrefix("#X") {
                    UInt32(name.dropFirst(2), radix: 16).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else if name.hasPrefix("#") {
                    UInt32(name.dropFirst()).flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                } else {
                    nil
                }
            }
            if let decoded {
                result += decoded
                rest = rest[rest.index(after: semicolon)...]
            } else {
                result += "&"
                rest = rest.dropFirst()
            }
        }
        return result + rest
    }

    /// Herald's tracking URLs hold only base64url text after the configured base; `&` and quotes
    /// in the base are escaped all the same.
    static func escaped(_ url: String) -> String {
        HTMLContentType().escapeText(url)
    }

    /// Where the last `</body` starts, case-insensitively.
    static func lastBodyClose(in bytes: [UInt8]) -> Int? {
        let needle = Array("</body".utf8)
        guard bytes.count >= needle.count else { return nil }
        for start in stride(from: bytes.count - needle.count, through: 0, by: -1)
        where bytes[start] == UInt8(ascii: "<") && (0..<needle.count).allSatisfy({ bytes[start + $0] | 0x20 == needle[$0] | 0x20 }) {
            return start
        }
        return nil
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0C
    }

    private static func starts(_ bytes: [UInt8], at index: Int, with prefix: String) -> Bool {
        let prefix = Array(prefix.utf8)
        return index + prefix.count <= bytes.count && Array(bytes[index..<(index + prefix.count)]) == prefix
    }

    private static func find(_ bytes: [UInt8], _ needle: String, from start: Int) -> Int? {
        let needle = Array(needle.utf8)
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        return (start...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle }
    }
}
