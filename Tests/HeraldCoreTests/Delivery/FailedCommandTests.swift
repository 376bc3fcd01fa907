import Foundation
import Testing
@testable import HeraldCore

/// `herald failed list|show|retry|cancel` after a real run with permanent and transient failures
/// (a webhook receiver answering 400 and 500, an SMTP server refusing a mailbox).
@Suite("herald failed", .serialized)
struct FailedCommandTests {
    @Test("list filters by channel, campaign, error text and time; show prints every attempt with the remote's reply; retry delivers on the next run; cancel ends it canceled")
    func operatorFlow() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let smtp = try await SMTPServer(folder: folder)
        let fixture = try HeraldFixture(
            endpoints: ["bad": receiver.url("/status/400"), "flaky": receiver.url("/status/500,500,200")],
            retry: "{max_attempts: 2, initial: 50ms, max: 100ms}", email: EmailChannelTests.smtpBlock(port: smtp.port),
            topLevel: "intake: {drop_folder: off, socket: off}", folder: folder)
        for (path, text) in EmailChannelTests.template { try folder.write("Templates/\(path)", text) }
        let now = Timestamp.now()
        _ = try await fixture.queue.enqueue([
            NewMessage(key: "bad-1", channel: .webhook, template: "alert", recipient: Recipient(endpoint: "bad"),
                       dataJSON: #"{"n":1}"#, sendAt: now, campaign: "spring"),
            NewMessage(key: "flaky-1", channel: .webhook, template: "alert", recipient: Recipient(endpoint: "flaky"),
                       dataJSON: #"{"n":2}"#, sendAt: now, campaign: "autumn"),
            NewMessage(key: "mail-1", channel: .email, template: "mail", recipient: Recipient(email: "nosuchuser@example.com"),
                       dataJSON: #"{"first_name": "A", "url": "u", "long": "l"}"#, sendAt: now, campaign: "spring"),
        ])
        try await fixture.deliverUntilSettled(timeout: .seconds(30))
        #expect(try ["bad-1", "flaky-1", "mail-1"].map { try fixture.state(ofKey: $0) } == ["failed", "failed", "failed"])

        func keys(_ arguments: [String]) async throws -> [String] {
            let run = try await HeraldCommand.run(["failed", "list", "--json"] + arguments, fixture: fixture)
            #expect(run.status == 0, "\(run.stderr)")
            return run.stdout.split(separator: "\n").compactMap { try? JSONValue.parse(Data($0.utf8))["key"]?.string }.sorted()
        }
        #expect(try await keys([]) == ["bad-1", "flaky-1", "mail-1"])
        #expect(try await keys(["--channel", "webhook"]) == ["bad-1", "flaky-1"])
        #expect(try await keys(["--campaign", "spring"]) == ["bad-1", "mail-1"])
        #expect(try await keys(["--error", "No SUCH user"]) == ["mail-1"])
        #expect(try await keys(["--error", "http_status", "--campaign", "autumn"]) == ["flaky-1"])
        #expect(try await keys(["--since", "1h"]) == ["bad-1", "flaky-1", "mail-1"])
        #expect(try await keys(["--since", "2030-01-01T00:00:00Z"]) == [])
        let badFilter = try await HeraldCommand.run(["failed", "list", "--channel", "fax"], fixture: fixture)
        #expect(badFilter.status != 0 && badFilter.stderr.contains("fax"))

        let show = try await HeraldCommand.run(["failed", "show", "flaky-1"], fixture: fixture)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("state:     failed, 2 attempts"), "\(show.stdout)")
        #expect(show.stdout.contains("#1 ") && show.stdout.contains("#2 "), "\(show.stdout)")
        #expect(show.stdout.components(separatedBy: "remote 500").count == 3, "\(show.stdout)")
        #expect(show.stdout.contains("--- body ---") && show.stdout.contains(#""key": "flaky-1""#), "\(show.stdout)")
        let mail = try await HeraldCommand.run(["failed", "show", "mail-1"], fixture: fixture)
        #expect(mail.stdout.contains("remote 550") && mail.stdout.contains("No such user"), "\(mail.stdout)")

        // Retry: requeued now, delivered by the next run (the receiver's third answer is 200).
        let retry = try await HeraldCommand.run(["failed", "retry", "flaky-1"], fixture: fixture)
        #expect(retry.status == 0 && retry.stdout.contains("flaky-1: requeued"), "\(retry.stdout)\(retry.stderr)")
        #expect(try fixture.state(ofKey: "flaky-1") == "queued")
        let run = try await HeraldCommand.run(["run", "--once"], fixture: fixture)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try fixture.state(ofKey: "flaky-1") == "sent")
        // Attempt numbers go on after the retry; the retry had a fresh budget of 2.
        let attempts = try fixture.attempts(ofKey: "flaky-1")
        #expect(attempts.map(\.number) == [1, 2, 3])
        #expect(attempts.map(\.outcome) == ["transient", "transient", "sent"])

        // Cancel with a filter: only the matching failed message changes.
        let cancel = try await HeraldCommand.run(["failed", "cancel", "--all", "--channel", "email"], fixture: fixture)
        #expect(cancel.status == 0 && cancel.stdout.contains("mail-1: canceled"), "\(cancel.stdout)\(cancel.stderr)")
        #expect(try fixture.state(ofKey: "mail-1") == "canceled")
        #expect(try fixture.state(ofKey: "bad-1") == "failed")
        let sent = try await HeraldCommand.run(["failed", "cancel", "flaky-1"], fixture: fixture)
        #expect(sent.status == 1 && sent.stdout.contains("not changed, it is sent"))
        await receiver.stop()
        await smtp.stop()
    }
}
