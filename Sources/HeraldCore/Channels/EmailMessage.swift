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
        var output: [UInt8] = []
        output.reserveCapacity(1_024 + (text?.utf8.count ?? 0) * 11 / 10 + (html?.utf8.count ?? 0) * 11 / 10)
        func line(_ text: String) {
            output += text.utf8
            output += [0x0D, 0x0A]
        }
        line("From: \(MIMEEncoding.mailbox(from))")
        line("To: \(MIMEEncoding.mailbox(to))")
        if let replyTo { line("Reply-To: \(replyTo)") }
        line("Subject: \(MIMEEncoding.headerText(subject))")
        line("Date: \(MIMEEncoding.date(date))")
        line("Message-ID: <\(messageID)>")
        line("MIME-Version: 1.0")
        if let unsubscribeURL {
            var targets = ["<\(unsubscribeURL)>"]
            if let unsubscribeMailto { targets.append("<mailto:\(unsubscribeMailto)?subject=unsubscribe>") }
            line("List-Unsubscribe: " + targets.joined(separator: ",\r\n "))
            line("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        }
        for header in headers { line("\(header.name): \(MIMEEncoding.headerText(header.value))") }

        func part(_ type: String, _ content: String) {
            line("Content-Type: \(type); charset=utf-8")
            line("Content-Transfer-Encoding: quoted-printable")
            line("")
            MIMEEncoding.appendQuotedPrintable(content, to: &output)
            output += [0x0D, 0x0A]
        }
        switch (text, html) {
        case let (text?, html?):
            // The boundary must not occur in the parts; quoted-printable output never contains
            // "==_", so a boundary starting with it is safe.
            let boundary = "==_herald_" + Hex.encode(SHA256.hash(data: Data(boundarySeed.utf8)).prefix(12))
            line("Content-Type: multipart/alternative; boundary=\"\(boundary)\"")
            line("")
            line("--\(boundary)")
            part("text/plain", text)
            line("--\(boundary)")
            part("text/html", html)
            line("--\(boundary)--")
        case let (text?, nil):
            part("text/plain", text)
        case let (nil, html?):
            part("text/html", html)
        case (nil, nil):
            part("text/plain", "")
        }
        return output
    }
}
