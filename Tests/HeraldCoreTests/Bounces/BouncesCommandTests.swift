import Foundation
import Testing
@testable import HeraldCore

/// `herald bounces ingest|list|show` as an MTA's pipe and an operator use them, after a real
/// SMTP delivery whose envelope sender carried the VERP address.
@Suite("herald bounces")
struct BouncesCommandTests {
    @Test("a DSN piped to herald bounces ingest - is matched by VERP to the delivered message and suppresses it (hard); the same DSN again is recorded once; other mail is recorded as unrelated; list and show tell what was decided")
    func ingest() async throws {
        let folder = try TemporaryFolder()
        let smtp = try await SMTPServer(folder: folder)
        let fixture = try HeraldFixture(
            endpoints: ["unused": "http://127.0.0.1:9/"],
            email: EmailChannelTests.smtpBlock(port: smtp.port)
                + "\nbounces: {return_path: \"bounces@bounce.harbor.example\", secret: \"test-bounce-key-0123456789\"}",
            topLevel: "events: {}", folder: folder)
        for (path, text) in EmailChannelTests.template { try folder.write("Templates/\(path)", text) }
        try await EmailChannelTests().enqueue(fixture, to: ["zoe@example.com"])
        try await fixture.deliverUntilSettled()
        await smtp.stop()
        let message = try #require(try await fixture.queue.message("mail-0"))
        let envelope = try #require(try smtp.messages().first?.mail_from)
        #expect(BounceReportTests.returnPath.messageID(of: envelope) == message.id, "the relay saw the VERP address: \(envelope)")

        // What the relay's bounce would be: returned to that envelope sender.
        let dsn = String(decoding: try BounceReportTests.message("postfix-user-unknown.eml", about: message.id), as: UTF8.self)
            .replacingOccurrences(of: "sarah.jones@example.com", with: "zoe@example.com")
        try folder.write("dsn.eml", dsn)
        func pipe(_ file: String) async throws -> (status: Int32, stdout: String, stderr: String) {
            let child = try ChildProcess("/bin/sh", ["-c", "exec \"$0\" bounces ingest - --config \"$1\" < \"$2\"",
                                                     SupportPaths.herald.path, fixture.configPath, folder.file(file).path],
                                         environment: HeraldCommand.environment(), currentDirectory: folder.url)
            let status = await child.wait(timeout: .seconds(60))
            return (status, child.output().stdout, child.output().stderr)
        }
        let first = try await pipe("dsn.eml")
        #expect(first.status == 0 && first.stdout.contains("bounce (dsn), message \(message.id) <zoe@example.com>: suppressed — hard bounce 5.1.1"),
                "\(first.stdout) \(first.stderr)")
        let zoe = try Address("zoe@example.com", channel: .email)
        #expect(try await fixture.queue.suppression(of: zoe)?.reason == .bounced)
        let again = try await pipe("dsn.eml")
        #expect(again.status == 0 && again.stdout.hasPrefix("already recorded: bounce"), "\(again.stdout) \(again.stderr)")

        try folder.write("reply.eml", String(decoding: try BounceReportTests.message("person-reply.eml", about: message.id), as: UTF8.self))
        let reply = try await HeraldCommand.run(["bounces", "ingest", folder.file("reply.eml").path], fixture: fixture)
        #expect(reply.status == 0 && reply.stdout.contains("unrelated (none)") && reply.stdout.contains(": unrelated"), "\(reply.stdout)")

        let listed = try await HeraldCommand.run(["bounces", "list"], fixture: fixture)
        let lines = listed.stdout.split(separator: "\n")
        #expect(listed.status == 0 && lines.count == 3 && lines[0].contains("unrelated") && lines[1].contains("suppressed")
                && lines[1].contains("message \(message.id)") && lines[1].contains("zoe@example.com") && lines[1].contains("5.1.1"),
                "\(listed.stdout)")
        let id = try #require(lines[1].split(separator: " ").first)
        let shown = try await HeraldCommand.run(["bounces", "show", String(id)], fixture: fixture)
        #expect(shown.status == 0 && shown.stdout.contains("decision:  suppressed: hard bounce 5.1.1")
                && shown.stdout.contains("Undelivered Mail Returned to Sender"), "\(shown.stdout)")
        // Reprocessing reads the kept bytes again, once: the reply is still unrelated.
        let replyID = try #require(lines[0].split(separator: " ").first)
        let reprocessed = try await HeraldCommand.run(["bounces", "reprocess", String(replyID)], fixture: fixture)
        #expect(reprocessed.status == 0 && reprocessed.stdout.contains("bounce \(replyID) read again: unrelated"), "\(reprocessed.stdout)")
        let twice = try await HeraldCommand.run(["bounces", "reprocess", String(replyID)], fixture: fixture)
        #expect(twice.status == 0 && twice.stdout.contains("was reprocessed before"), "\(twice.stdout)")
        // The console lists them, on a real herald run's socket.
        let run = try await SocketAPITests.start(fixture)
        defer { run.signal(SIGKILL) }
        let page = try await APIClient(.socket(fixture.folder.file("var/herald.sock").path)).get("/console/bounces")
        #expect(page.status == 200 && page.body.contains(#"<table id="bounces">"#) && page.body.contains(#"<td class="decision">suppressed</td>"#)
                && page.body.contains("zoe@example.com") && page.body.contains(#"<a href="/console/messages/\#(message.id)">"#),
                "\(page.body.suffix(1_500))")
        run.signal(SIGKILL)
        _ = await run.wait(timeout: .seconds(10))
        // Lifting the suppression names the bounce that set it.
        let lifted = try await HeraldCommand.run(["suppress", "remove", "email", "Zoe@Example.com"], fixture: fixture)
        #expect(lifted.status == 0 && lifted.stdout.contains("removed email zoe@example.com")
                && lifted.stdout.contains("it was set by bounce \(id),") && lifted.stdout.contains("suppressed — hard bounce 5.1.1"),
                "\(lifted.stdout) \(lifted.stderr)")
        let events = try await fixture.queue.events(after: .start, matching: EventFilter(types: [.messageBounced]), limit: 10)
        #expect(events.count == 1 && events.first?.event.messageID == message.id, "one message.bounced, for the message")
    }
}
