import Crypto
import Foundation

/// A rendered email as it goes on the wire: RFC 5322 headers and a MIME body
/// (`multipart/alternative` with text and HTML when the template has both), UTF-8,
/// quoted-printable, CRLF line ends.
public struct EmailMessage: Sendable {
    public var from: Mailbox
    public var to: Mailbox
    public var replyTo: String?
    public var subject: String
    public var text: String?
    public var html: String?
    /// Stable across attempts of one message, so receivers and relays can deduplicate.
    public var messageID: String
    public var date: Date
    /// `https` link and optional `mailto:` for List-Unsubscribe (marketing mail, RFC 8058).
    public var unsubscribeURL: String?
    public var unsubscribeMailto: String?
    public var headers: [(name: String, value: String)]

    /// The bytes to hand to the SMTP server after DATA.
    public func bytes(boundarySeed: String) -> [UInt8] {
        var lines: [String] = []
        lines.append("From: \(MIMEEncoding.mailbox(from))")
        lines.append("To: \(MIMEEncoding.mailbox(to))")
        if let replyTo { lines.append("Reply-To: \(replyTo)") }
        lines.append("Subject: \(MIMEEncoding.headerText(subject))")
        lines.append("Date: \(MIMEEncoding.date(date))")
        lines.append("Message-ID: <\(messageID)>")
        lines.append("MIME-Version: 1.0")
        if let unsubscribeURL {
            var targets = ["<\(unsubscribeURL)>"]
            if let unsubscribeMailto { targets.append("<mailto:\(unsubscribeMailto)?subject=unsubscribe>") }
            lines.append("List-Unsubscribe: " + targets.joined(separator: ",\r\n "))
            lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        }
        for header in headers { lines.append("\(header.name): \(MIMEEncoding.headerText(header.value))") }

        func part(_ type: String, _ content: String) -> [String] {
            ["Content-Type: \(type); charset=utf-8", "Content-Transfer-Encoding: quoted-printable", "",
             MIMEEncoding.quotedPrintable(content)]
        }
        switch (text, html) {
        case let (text?, html?):
            // The boundary must not occur in the parts; quoted-printable output never contains
            // "==_", so a boundary starting with it is safe.
            let boundary = "==_herald_" + String(SHA256.hash(data: Data(boundarySeed.utf8)).prefix(12).map { String(format: "%02x", $0) }.joined())
            lines.append("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            lines.append("")
            lines.append("--\(boundary)")
            lines += part("text/plain", text)
            lines.append("--\(boundary)")
            lines += part("text/html", html)
            lines.append("--\(boundary)--")
        case let (text?, nil):
            lines += part("text/plain", text)
        case let (nil, html?):
            lines += part("text/html", html)
        case (nil, nil):
            lines += part("text/plain", "")
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8)
    }
}
