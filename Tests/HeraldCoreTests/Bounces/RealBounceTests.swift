import Foundation
import Testing
@testable import HeraldCore

/// Bounces made by real MTAs: Herald delivers to Debian's Postfix or Exim as its relay; the relay
/// bounces the mail for nonexistent users and a full mailbox and returns its DSNs to the VERP
/// envelope senders, which the bounce domain's MX (the test's SMTP server) collects. One DSN
/// is piped to `herald bounces ingest -`, the others are put in a real Dovecot mailbox beside
/// a person's reply and read by `herald bounces poll`.
@Suite("Real bounces from Postfix and Exim")
struct RealBounceTests {
    @Test("Postfix and Exim bounce nonexistent users (hard, suppressed) and a full mailbox (soft, counted); each DSN matched to its message by VERP, through the pipe and through IMAP; the unrelated mail stays in the mailbox",
          arguments: RealMTA.Kind.allCases)
    func realBounces(mta kind: RealMTA.Kind) async throws {
        let folder = try TemporaryFolder()
        let collected = folder.file("bounce-mx")
        try FileManager.default.createDirectory(at: collected, withIntermediateDirectories: true)
        let bounceMX = try await SMTPServer(folder: folder, rawFolder: collected)
        let mta = try await RealMTA(kind, folder: folder, relayPort: bounceMX.port)
        let dovecot = try await DovecotServer(folder: folder)
        // Patient retries: a relay that has just started may answer 4xx a while on a loaded machine.
        let fixture = try HeraldFixture(
            endpoints: ["unused": "http://127.0.0.1:9/"], retry: "{max_attempts: 10, initial: 200ms, max: 2s}",
            email: EmailChannelTests.smtpBlock(port: mta.port) + """

                bounces:
                  return_path: "bounces@bounce.harbor.example"
                  secret: "test-bounce-key-0123456789"
                  mailbox: {url: "\(dovecot.imapsURL())", ca_file: "\(dovecot.certificate.path)", username: "\(DovecotServer.user)", password: "${\(BounceMailboxTests.passwordVariable)}"}
                """,
            topLevel: "events: {}", folder: folder)
        for (path, text) in EmailChannelTests.template { try folder.write("Templates/\(path)", text) }
        let recipients = ["ann@local.test", "bob@local.test", "full@local.test", "kept@local.test"]
        try await EmailChannelTests().enqueue(fixture, to: recipients)
        try await fixture.deliverUntilSettled()
        var ids: [String: Int64] = [:]
        for (n, recipient) in recipients.enumerated() {
            let message = try #require(try await fixture.queue.message("mail-\(n)"))
            let attempts = message.attempts.map { "\($0.outcome) \($0.remoteCode ?? "") \($0.remoteText ?? "")" }
            try #require(message.state == .sent, "precondition: \(kind) took the mail for \(recipient): \(message.state) \(attempts)")
            ids[recipient] = message.id
        }

        // The relay's bounces arrive at the bounce domain's MX.
        func dsns() -> [String: [UInt8]] {
            var found: [String: [UInt8]] = [:]
            for name in (try? FileManager.default.contentsOfDirectory(atPath: collected.path)) ?? [] {
                guard let data = FileManager.default.contents(atPath: collected.appendingPathComponent(name).path) else { continue }
                let text = String(decoding: data, as: UTF8.self).lowercased()
                for recipient in recipients where text.contains("final-recipient: rfc822;\(recipient)") || text.contains("final-recipient: rfc822; \(recipient)") {
                    found[recipient] = Array(data)
                }
            }
            return found
        }
        // The MX writes a DSN's raw file before its log line: wait for both.
        let arrived = try await waitUntil(timeout: .seconds(90)) {
            let logged = (try? bounceMX.messages().count) ?? 0  // a line being written may not parse yet
            return dsns().count >= 3 && logged >= 3
        }
        try #require(arrived, "three DSNs from \(kind): \(dsns().keys.sorted()); its log: \(mta.log.split(separator: "\n").filter { $0.contains("full") || $0.contains("==") || $0.contains("**") }.suffix(20).joined(separator: "\n"))")
        let bounces = dsns()
        try #require(bounces["kept@local.test"] == nil, "the mail kept was not bounced")
        for (recipient, dsn) in bounces {
            let envelope = try #require(try bounceMX.messages().first { $0.to.contains("bounces+\(ids[recipient]!)-") }?.rcpt_tos.first,
                                        "the DSN for \(recipient) went to its message's VERP address")
            #expect(BounceReportTests.returnPath.messageID(of: envelope) == ids[recipient])
            #expect(!dsn.isEmpty)
        }

        // Ann's through the MTA pipe.
        try Data(bounces["ann@local.test"]!).write(to: folder.file("ann.dsn"))
        let pipe = try ChildProcess("/bin/sh", ["-c", "exec \"$0\" bounces ingest - --config \"$1\" < \"$2\"",
                                                SupportPaths.herald.path, fixture.configPath, folder.file("ann.dsn").path],
                                    environment: HeraldCommand.environment(), currentDirectory: folder.url)
        #expect(await pipe.wait(timeout: .seconds(60)) == 0, "\(pipe.output().stderr)")
        #expect(pipe.output().stdout.contains("bounce (dsn), message \(ids["ann@local.test"]!) <ann@local.test>: suppressed — hard bounce 5.1."),
                "\(pipe.output().stdout)")

        // Bob's and the full mailbox's through IMAP, with a person's reply beside them.
        let reply = try BounceReportTests.message("person-reply.eml", about: ids["ann@local.test"]!)
        try dovecot.deliver([bounces["bob@local.test"]!, reply, bounces["full@local.test"]!])
        let poll = try await HeraldCommand.run(["bounces", "poll"], fixture: fixture, environment: BounceMailboxTests.environment)
        #expect(poll.status == 0 && poll.stdout.contains("3 in the mailbox: 2 recorded, 0 recorded earlier and moved on now, 1 not reports and left"),
                "\(poll.stdout) \(poll.stderr)")
        let inbox = try await dovecot.list()
        try #require(inbox.count == 1, "one message left in INBOX: \(inbox)")
        let left = try await dovecot.message(uid: inbox[0].uid)
        #expect(!inbox[0].seen && BounceMailboxTests.lines(left) == BounceMailboxTests.lines(String(decoding: reply, as: UTF8.self)),
                "the reply stays, unread")
        #expect(try await dovecot.list("Processed").count == 2)

        let records = try await fixture.queue.bounces(before: nil, recipient: nil, limit: 10).filter { $0.decision != .unrelated }
        func record(_ recipient: String) -> BounceRecord? { records.first { $0.messageID == ids[recipient] } }
        #expect(record("ann@local.test")?.source == "ingest" && record("ann@local.test")?.severity == .hard)
        #expect(record("bob@local.test")?.source == "imap" && record("bob@local.test")?.decision == .suppressed
                && record("bob@local.test")?.status?.hasPrefix("5.1.") == true, "\(String(describing: record("bob@local.test")))")
        #expect(record("full@local.test")?.source == "imap" && record("full@local.test")?.decision == .counted
                && record("full@local.test")?.status == "5.2.2", "\(String(describing: record("full@local.test")))")
        for (recipient, reason) in [("ann@local.test", Suppression.Reason.bounced), ("bob@local.test", .bounced)] {
            #expect(try await fixture.queue.suppression(of: try Address(recipient, channel: .email))?.reason == reason, "\(recipient)")
        }
        for recipient in ["full@local.test", "kept@local.test"] {
            #expect(try await fixture.queue.suppression(of: try Address(recipient, channel: .email)) == nil, "\(recipient) stays mailable")
        }
        await mta.stop()
        await dovecot.stop()
        await bounceMX.stop()
    }
}
