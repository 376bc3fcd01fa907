import Foundation

/// The encodings an RFC 5322 / MIME message needs: quoted-printable bodies (RFC 2045) and
/// encoded words in headers (RFC 2047), with every line within the 998-octet limit.
enum MIMEEncoding {
    /// Quoted-printable with CRLF line ends and lines of at most 76 characters. Bare LF and CR
    /// in the text become CRLF; trailing spaces and tabs are encoded so no relay strips them.
    static func quotedPrintable(_ text: String) -> String {
        var output: [UInt8] = []
        appendQuotedPrintable(text, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private static let hexDigits: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// `quotedPrintable` appended to `output`. One pass over the UTF-8 bytes with no closures:
    /// a nested function capturing `output` cost a dynamic exclusivity check per byte.
    static func appendQuotedPrintable(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            output.reserveCapacity(output.count + bytes.count + bytes.count / 8 + 16)
            var lineLength = 0
            var index = 0
            let count = bytes.count
            while index < count {
                let byte = bytes[index]
                if byte == 0x0D || byte == 0x0A {
                    output.append(0x0D)
                    output.append(0x0A)
                    lineLength = 0
                    index += (byte == 0x0D && index + 1 < count && bytes[index + 1] == 0x0A) ? 2 : 1
                    continue
                }
                let next = index + 1 < count ? bytes[index + 1] : 0x0A
                let endsLine = next == 0x0D || next == 0x0A
                var plain = (byte >= 0x21 && byte <= 0x7E && byte != UInt8(ascii: "="))
                    || ((byte == 0x20 || byte == 0x09) && !endsLine)
                // "From " at a line start gets mangled by mbox tools: encode its F. (A leading "."
                // is left alone: libcurl dot-stuffs the DATA.)
                if byte == UInt8(ascii: "F"), lineLength == 0, index + 4 < count, bytes[index + 1] == UInt8(ascii: "r"),
                   bytes[index + 2] == UInt8(ascii: "o"), bytes[index + 3] == UInt8(ascii: "m"), bytes[index + 4] == 0x20 {
                    plain = false
                }
                let width = plain ? 1 : 3
                if lineLength + width > 75 {  // leave room for the soft break's "="
                    output.append(UInt8(ascii: "="))
                    output.append(0x0D)
                    output.append(0x0A)
                    lineLength = 0
                }
                if plain {
                    output.append(byte)
                } else {
                    output.append(UInt8(ascii: "="))
                    output.append(hexDigits[Int(byte >> 4)])
                    output.append(hexDigits[Int(byte & 0x0F)])
                }
                lineLength += width
                index += 1
            }
        }
    }

    /// A header value as is when it is printable ASCII, otherwise as RFC 2047 `=?UTF-8?B?…?=`
    /// words of at most 75 characters, never splitting a character, folded onto new lines.
    static func headerText(_ text: String) -> String {
        if text.utf8.count <= 900, text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) { return text }
        var words: [String] = []
        var chunk: [UInt8] = []
        // 75 - len("=?UTF-8?B?") - len("?=") = 63 base64 characters: 45 bytes of text.
        for character in text {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > 45 {
                words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty { words.append("=?UTF-8?B?\(Data(chunk).base64EncodedString())?=") }
        return words.joined(separator: "\r\n ")
    }

    /// A mailbox for From, To and Reply-To: `"Sarah Jones" <sarah@example.com>`.
    static func mailbox(_ mailbox: Mailbox) -> String {
        guard let name = mailbox.name, !name.isEmpty else { return mailbox.address }
        // A quoted name must fit on the header line (998 octets with the address); a longer one
        // goes out as encoded words, folded like any long header.
        if name.utf8.count <= 700, name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            // Most names hold neither a quote nor a backslash: skip the copies.
            let quoted = !name.utf8.contains(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) ? name
                : name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(quoted)\" <\(mailbox.address)>"
        }
        return "\(headerText(name)) <\(mailbox.address)>"
    }

    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// RFC 5322 date in UTC: `Sun, 22 Nov 2026 17:25:56 +0000`. Built from `gmtime_r`: the
    /// locale-aware formatter cost more than the rest of the headers together.
    static func date(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : String(value) }
        return "\(weekdays[Int(parts.tm_wday)]), \(two(parts.tm_mday)) \(months[Int(parts.tm_mon)]) \(parts.tm_year + 1900) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) +0000"
    }
}
