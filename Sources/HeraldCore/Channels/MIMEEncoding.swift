import Foundation

/// The encodings an RFC 5322 / MIME message needs: quoted-printable bodies (RFC 2045) and
/// encoded words in headers (RFC 2047), with every line within the 998-octet limit.
enum MIMEEncoding {
    /// Quoted-printable with CRLF line ends and lines of at most 76 characters. Bare LF and CR
    /// in the text become CRLF; trailing spaces and tabs are encoded so no relay strips them.
    static func quotedPrintable(_ text: String) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + bytes.count / 8 + 16)
        var lineLength = 0
        var index = 0
        let hex = Array("0123456789ABCDEF".utf8)
        let from = Array("From ".utf8)
        @inline(__always) func softBreakIfNeeded(_ width: Int) {
            if lineLength + width > 75 {  // leave room for the soft break's "="
                output.append(UInt8(ascii: "="))
                output.append(0x0D)
                output.append(0x0A)
                lineLength = 0
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D || byte == 0x0A {
                output.append(0x0D)
                output.append(0x0A)
                lineLength = 0
                index += (byte == 0x0D && index + 1 < bytes.count && bytes[index + 1] == 0x0A) ? 2 : 1
                continue
            }
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0x0A
            let endsLine = next == 0x0D || next == 0x0A
            let plain = (byte >= 0x21 && byte <= 0x7E && byte != UInt8(ascii: "="))
                || ((byte == 0x20 || byte == 0x09) && !endsLine)
            // "From " at a line start gets mangled by mbox tools: encode its F. (A leading "." is
            // left alone: libcurl dot-stuffs the DATA.)
            let mboxFrom = byte == UInt8(ascii: "F") && lineLength == 0 && bytes[index...].starts(with: from)
            if plain && !mboxFrom {
                softBreakIfNeeded(1)
                output.append(byte)
                lineLength += 1
            } else {
                softBreakIfNeeded(3)
                output.append(UInt8(ascii: "="))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0x0F)])
                lineLength += 3
            }
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
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
        if name.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F }) {
            let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(quoted)\" <\(mailbox.address)>"
        }
        return "\(headerText(name)) <\(mailbox.address)>"
    }

    /// RFC 5322 date: `Sun, 22 Nov 2026 17:25:56 +0000`.
    static func date(_ date: Date) -> String {
        date.formatted(Date.VerbatimFormatStyle(
            format: "\(weekday: .abbreviated), \(day: .twoDigits) \(month: .abbreviated) \(year: .defaultDigits) \(hour: .twoDigits(clock: .twentyFourHour, hourCycle: .zeroBased)):\(minute: .twoDigits):\(second: .twoDigits) +0000",
            locale: Locale(identifier: "en_US_POSIX"), timeZone: .gmt, calendar: Calendar(identifier: .gregorian)))
    }
}
