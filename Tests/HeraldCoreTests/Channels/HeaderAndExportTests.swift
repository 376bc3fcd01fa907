import Foundation
import Testing
@testable import HeraldCore

/// What leaves Herald in a header or an export file stays inside its format, whatever the data.
@Suite("Headers and exports")
struct HeaderAndExportTests {
    @Test("a 10,000-character ASCII name in To: is folded into lines within 998 octets (it was one 10,022-octet line)")
    func longNameIsFolded() {
        let name = String(repeating: "Ab ", count: 3_334)
        let header = "To: " + MIMEEncoding.mailbox(Mailbox(name: name, address: "sarah@example.com"))
        let lines = header.components(separatedBy: "\r\n")
        #expect(lines.count > 1)
        #expect(lines.allSatisfy { $0.utf8.count <= 998 }, "longest \(lines.map(\.utf8.count).max() ?? 0)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") }, "continuation lines start with white space")
        #expect(header.hasSuffix(" <sarah@example.com>"))
        // A short name stays a quoted string.
        #expect(MIMEEncoding.mailbox(Mailbox(name: "Sarah Jones", address: "s@example.com")) == #""Sarah Jones" <s@example.com>"#)
    }

    @Test("to.email with a non-ASCII or control character is refused at intake, naming the field (no SMTPUTF8)")
    func nonASCIIAddress() {
        let validation = MessageValidation(channels: [.email], webhookEndpoints: [])
        for address in ["sarah\u{85}@example.com", "zoë@example.com", "sarah@exämple.com"] {
            let message: JSONValue = .object([
                "channel": .string("email"), "template": .string("welcome"), "to": .object(["email": .string(address)]),
            ])
            switch validation.validate(message) {
            case .success: Issue.record("\(address.debugDescription) accepted")
            case .failure(let rejection): #expect(rejection.field == "to.email", "\(rejection)")
            }
        }
    }

    @Test("letter CSV cells that a spreadsheet would run as formulas get a leading quote")
    func csvInjection() {
        for (cell, expected) in [("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1+1", "'+1+1"), ("-2", "'-2"),
                                 ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("Sarah", "Sarah"), ("", ""), ("a=b", "a=b")]
        {
            #expect(LetterCSV.neutralized(cell) == expected, "\(cell.debugDescription)")
        }
        var address = PostalAddress()
        address.line1 = "12 Elm St"
        address.city = "Springfield"
        let letter = Letter(messageID: 1, key: "k", name: "=cmd|' /C calc'!A0", address: address, campaign: "c", format: .text,
                            body: "Dear Sarah")
        let text = String(decoding: LetterCSV.encode([letter]), as: UTF8.self)
        #expect(text.contains(",'=cmd|' /C calc'!A0,"), "\(text)")
    }
}
