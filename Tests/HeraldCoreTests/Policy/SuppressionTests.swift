import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// Suppressions checked at dispatch, against a real SMTP server, with the `herald suppress` CLI.
@Suite("Suppression at dispatch", .serialized)
struct SuppressionTests {
    func fixture(_ folder: TemporaryFolder, smtpPort: Int, topLevel: String = "") throws -> HeraldFixture {
        let fixture = try HeraldFixture(endpoints: ["unused": "http://127.0.0.1:9/"], workers: 8,
                                        email: EmailChannelTests.smtpBlock(port: smtpPort), topLevel: topLevel, folder: folder)
        for (path, text) in EmailChannelTests.template { try folder.write("Templates/\(path)", text) }
        return fixture
    }

    @Test("1,000 queued, 300 recipients suppressed afterwards (CLI import): none of the 300 reach the server, all 300 end suppressed with no attempt, the 700 are sent")
    func suppressedAfterEnqueue() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMTPServer(folder: folder)
        let fixture = try fixture(folder, smtpPort: server.port)
        let addresses = (0..<1_000).map { "lead-\($0)@example.com" }
        try await EmailChannelTests().enqueue(fixture, to: addresses)

        // Suppress every index ending in 0, 1 or 2, written as a CRM exports them (mixed case).
        let suppressed = addresses.indices.filter { $0 % 10 < 3 }
        var csv = "channel,address,reason\n"
        for index in suppressed { csv += "email,Lead-\(index)@Example.COM,unsubscribed\n" }
        csv += "email,not an address,unsubscribed\nfax,x@example.com,manual\n"
        try folder.write("suppress.csv", csv)
        let imported = try await HeraldCommand.run(["suppress", "import", folder.file("suppress.csv").path], fixture: fixture)
        #expect(imported.status == 1)
        #expect(imported.stdout.contains("line 302: rejected address: not an email address (\"not an address\")"), "\(imported.stdout)")
        #expect(imported.stdout.contains("line 303: rejected channel: unknown channel \"fax\""), "\(imported.stdout)")
        #expect(imported.stderr.contains("300 suppressed, 2 rejected"), "\(imported.stderr)")

        let run = try await HeraldCommand.run(["run", "--once"], fixture: fixture)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try await waitUntil(timeout: .seconds(10)) { try server.messages().count >= 700 })
        await server.stop()

        let received = Set(try server.messages().flatMap(\.rcpt_tos))
        #expect(received.count == 700)
        #expect(received.isDisjoint(with: suppressed.map { addresses[$0] }))
        let rows = try fixture.queue.readNow { db in
            try Row.fetchAll(db, sql: """
                SELECT m.key, m.state, m.attempts, m.last_error, (SELECT count(*) FROM attempts a WHERE a.message_id = m.id) AS tries
                FROM messages m
                """)
        }
        let byState = Dictionary(grouping: rows) { $0["state"] as String }
        #expect(byState["sent"]?.count == 700)
        #expect(byState["suppressed"]?.count == 300)
        #expect(byState["suppressed"]?.allSatisfy { ($0["attempts"] as Int) == 0 && ($0["tries"] as Int) == 0 } == true)
        #expect(byState["suppressed"]?.first.map { $0["last_error"] as String }?.hasPrefix("unsubscribed (import suppress.csv)") == true)
    }

    @Test("transactional messages skip an unsubscribe when the config allows, never a bounce or a manual block")
    func transactional() async throws {
        let folder = try TemporaryFolder()
        let server = try await SMTPServer(folder: folder)
        let fixture = try fixture(folder, smtpPort: server.port, topLevel: "policies: {transactional_skips_unsubscribed: true}")
        try await fixture.queue.suppress([
            Suppression(try Address("unsubscribed@example.com", channel: .email), reason: .unsubscribed),
            Suppression(try Address("bounced@example.com", channel: .email), reason: .bounced),
            Suppression(try Address("blocked@example.com", channel: .email), reason: .manual),
        ])
        try await EmailChannelTests().enqueue(fixture, to: ["unsubscribed@example.com", "bounced@example.com", "blocked@example.com"],
                                        category: .transactional)
        _ = try await fixture.queue.enqueue([NewMessage(
            key: "marketing", channel: .email, template: "mail", recipient: Recipient(email: "unsubscribed@example.com"),
            dataJSON: #"{"first_name": "A", "url": "u", "long": "l"}"#, sendAt: Timestamp.now(), category: .marketing)])
        let run = try await HeraldCommand.run(["run", "--once"], fixture: fixture)
        #expect(run.status == 0, "\(run.stderr)")
        await server.stop()
        #expect(try server.messages().flatMap(\.rcpt_tos) == ["unsubscribed@example.com"])
        #expect(try fixture.state(ofKey: "mail-0") == "sent")
        #expect(try fixture.state(ofKey: "mail-1") == "suppressed")
        #expect(try fixture.state(ofKey: "mail-2") == "suppressed")
        #expect(try fixture.state(ofKey: "marketing") == "suppressed")
    }

    @Test("herald suppress add, list and remove, addresses normalized")
    func commandLine() async throws {
        let fixture = try HeraldFixture(endpoints: ["ok": "http://127.0.0.1:9/"])
        let add = try await HeraldCommand.run(["suppress", "add", "sms", "+1 (555) 010-0177", "--reason", "complained"], fixture: fixture)
        #expect(add.status == 0 && add.stdout.contains("suppressed sms +15550100177 (complained)"), "\(add.stdout)\(add.stderr)")
        #expect(try await HeraldCommand.run(["suppress", "add", "email", "Ann@Example.com"], fixture: fixture).status == 0)
        let bad = try await HeraldCommand.run(["suppress", "add", "sms", "call me"], fixture: fixture)
        #expect(bad.status != 0 && bad.stderr.contains("not an E.164 phone number (\"call me\")"), "\(bad.stderr)")

        let list = try await HeraldCommand.run(["suppress", "list", "--json"], fixture: fixture)
        let entries = list.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(Data($0.utf8)) }
        #expect(entries.map { $0["address"]?.string } == ["ann@example.com", "+15550100177"])
        #expect(entries.map { $0["reason"]?.string } == ["manual", "complained"])

        #expect(try await HeraldCommand.run(["suppress", "remove", "email", "ANN@example.com"], fixture: fixture).status == 0)
        let again = try await HeraldCommand.run(["suppress", "remove", "email", "ann@example.com"], fixture: fixture)
        #expect(again.status != 0 && again.stderr.contains("not suppressed"))
        #expect(try await fixture.queue.suppression(of: try Address("ann@example.com", channel: .email)) == nil)
    }
}
