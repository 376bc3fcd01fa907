import Foundation
import Testing
@testable import HeraldCore

/// One address rule: what an operator types, what a CRM sends, what a message goes to and what a
/// bounce names all become the same `Address`.
@Suite("Address")
struct AddressTests {
    @Test("each channel's form, the same from typed text and from a message's recipient", arguments: [
        (Channel.email, " Sarah.Jones@Example.COM ", Recipient(email: "SARAH.JONES@example.com"), "sarah.jones@example.com"),
        (.sms, "+1 (555) 123-4567", Recipient(phone: "+15551234567"), "+15551234567"),
        (.webhook, "Advisor-Alerts", Recipient(endpoint: "advisor-alerts"), "advisor-alerts"),
        (.letter, "Sarah  Jones | 62701", Recipient(name: "Sarah Jones ", address: PostalAddress(postalCode: "62701")), "sarah jones|62701"),
    ])
    func sameEverywhere(channel: Channel, typed: String, recipient: Recipient, normal: String) throws {
        let fromText = try Address(typed, channel: channel)
        let fromMessage = Address(of: recipient, on: channel)
        #expect(fromText.value == normal)
        #expect(fromMessage == fromText)
    }

    @Test("the trim is Foundation's CharacterSet.whitespaces trim, without NSString", arguments: [
        "", " ", "\t", "a", " a ", "\ta b\t", "\u{00A0}x\u{2003}", "\u{3000}全角\u{3000}", "\nkept\n", " \u{1F600} ", "é\u{0301} ", "  \t  ",
    ])
    func trimMatchesFoundation(text: String) {
        #expect(Address.trimmed(text) == text.trimmingCharacters(in: .whitespaces), "\(Array(text.unicodeScalars))")
    }

    @Test("bad input is refused naming the field and the value")
    func refusals() {
        #expect(throws: IntakeRejection(field: "address", "not an email address (\"no-at-sign\")")) {
            try Address("no-at-sign", channel: .email)
        }
        #expect(throws: IntakeRejection(field: "address", "not an E.164 phone number (\"555-1234\"), e.g. \"+15551234567\"")) {
            try Address("555-1234", channel: .sms)
        }
        #expect(throws: IntakeRejection(field: "address", "must not be empty")) { try Address("  ", channel: .webhook) }
    }

    @Test("a suppression added as an operator typed it stops a message to the recipient as the CRM wrote it (webhook names were kept as written at dispatch and lower-cased in the list)")
    func suppressionMatchesDispatch() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let owner = LeaseOwner(host: "test-host", pid: 4242, nonce: "a")
        let now = Timestamp.now()
        try await queue.suppress([Suppression(try Address("advisor-alerts", channel: .webhook), reason: .manual),
                                  Suppression(try Address("Lead@Example.com", channel: .email), reason: .unsubscribed)])
        _ = try await queue.enqueue([
            NewMessage(key: "hook", channel: .webhook, template: "t", recipient: Recipient(endpoint: "Advisor-Alerts"), sendAt: now),
            NewMessage(key: "mail", channel: .email, template: "t", recipient: Recipient(email: "LEAD@example.COM"), sendAt: now),
            NewMessage(key: "other", channel: .email, template: "t", recipient: Recipient(email: "other@example.com"), sendAt: now),
        ])
        let screening = try await queue.claimScreened(limit: 10, owner: owner, lease: .seconds(60), channels: [.webhook, .email],
                                                      policies: PolicyConfig(), now: now)
        #expect(screening.count == 3, "precondition: all three were claimed")
        #expect(Set(screening.suppressed.map(\.message.key)) == ["hook", "mail"])
        #expect(screening.deliver.map(\.key) == ["other"])
        #expect(try await queue.message("hook")?.state == .suppressed)
        #expect(try await queue.message("mail")?.lastError == "unsubscribed")
    }
}
