import Foundation
import Testing
@testable import HeraldCore

/// Bounces through the processor into both engines: the decision, the suppression and the events
/// of each, the soft window and its reset by a good delivery, and a report taken twice.
@Suite("Bounce processing")
struct BounceProcessorTests {
    static let owner = LeaseOwner(host: "host-a", pid: 4242, nonce: "b")
    static let config = BounceConfig(returnPath: BounceReportTests.returnPath)
    static let day: Int64 = 86_400_000

    /// Enqueues one email to `address` and records it sent at `at`; returns its id.
    static func send(_ queue: any MessageQueue, to address: String, key: String, at: Int64) async throws -> Int64 {
        _ = try await queue.enqueue([NewMessage(key: key, channel: .email, template: "t", recipient: Recipient(email: address),
                                                sendAt: at, campaign: "nurture")], now: at)
        let claimed = try await queue.claim(limit: 1, owner: owner, lease: .seconds(60), channels: [.email], now: at).messages
        let message = try #require(claimed.first)
        try await queue.settle([.sent(DeliveryAttempt(messageID: message.id, number: 1, startedAt: at, durationMicroseconds: 1_000,
                                                      worker: "\(owner)", outcome: .sent, remoteCode: "250"))], owner: owner, now: at)
        return message.id
    }

    static func process(_ queue: any MessageQueue, _ name: String, about id: Int64, at: Int64) async throws -> BounceProcessor.Outcome {
        try await BounceProcessor(queue: queue, config: config, events: EventLog(types: Set(EventType.allCases)))
            .process(try BounceReportTests.message(name, about: id), source: "ingest", now: at)
    }

    @Test("soft bounces: 3 within 7 days suppress; 2, then a good delivery, then 2 more do not; one older than the window does not count",
          arguments: QueueEngine.allCases)
    func softWindow(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let start = Timestamp.now() - 6 * Self.day
            // Sarah: three messages, each soft-bounced a little later.
            var decisions: [BounceRecord.Decision] = []
            for n in 0..<3 {
                let sent = start + Int64(n) * Self.day
                let id = try await Self.send(queue, to: "Sarah.Jones@Example.com", key: "s-\(n)", at: sent)
                decisions.append(try await Self.process(queue, "postfix-mailbox-full.eml", about: id, at: sent + 600_000).record.decision)
            }
            #expect(decisions == [.counted, .counted, .suppressedSoft])
            let sarah = try Address("sarah.jones@example.com", channel: .email)
            #expect(try await queue.suppression(of: sarah)?.reason == .bounced)

            // Dan: two bounce, the third is delivered and never bounces, two more bounce.
            decisions = []
            for n in 0..<5 {
                let sent = start + Int64(n) * Self.day
                let id = try await Self.send(queue, to: "dan@example.com", key: "d-\(n)", at: sent)
                if n == 2 { continue }
                decisions.append(try await Self.process(queue, "postfix-mailbox-full.eml", about: id, at: sent + 600_000).record.decision)
            }
            #expect(decisions == [.counted, .counted, .counted, .counted], "the good delivery reset the count")
            #expect(try await queue.suppression(of: try Address("dan@example.com", channel: .email)) == nil)

            // Eve: a soft bounce 8 days before the two others is outside their window.
            let recent = Timestamp.now() - 3 * 3_600_000
            let first = try await Self.send(queue, to: "eve@example.com", key: "e-0", at: recent - 8 * Self.day)
            _ = try await Self.process(queue, "postfix-mailbox-full.eml", about: first, at: recent - 8 * Self.day + 600_000)
            for n in 1...2 {
                let sent = recent + Int64(n) * 3_600_000
                let id = try await Self.send(queue, to: "eve@example.com", key: "e-\(n)", at: sent)
                _ = try await Self.process(queue, "postfix-mailbox-full.eml", about: id, at: sent + 600_000)
            }
            #expect(try await queue.suppression(of: try Address("eve@example.com", channel: .email)) == nil, "2 within the window")
        }
    }

    @Test("a hard bounce suppresses at once with message.bounced; a complaint suppresses as complained with recipient.complained and no bounce replaces it; the same report twice is recorded once; a forged return path changes nothing",
          arguments: QueueEngine.allCases)
    func decisions(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            let hard = try await Self.send(queue, to: "sarah.jones@example.com", key: "h", at: now - 60_000)
            let outcome = try await Self.process(queue, "gmail-nosuchuser.eml", about: hard, at: now)
            #expect(outcome.recorded && outcome.record.decision == .suppressed && outcome.record.status == "5.1.1"
                    && outcome.record.recipient == "sarah.jones@example.com" && outcome.record.messageID == hard)
            let sarah = try Address("sarah.jones@example.com", channel: .email)
            #expect(try await queue.suppression(of: sarah)?.reason == .bounced)
            let again = try await Self.process(queue, "gmail-nosuchuser.eml", about: hard, at: now + 1)
            #expect(!again.recorded, "the same bytes again: recorded once")
            #expect(try await queue.bounces(before: nil, recipient: nil, limit: 10).count == 1)

            let complained = try await Self.send(queue, to: "dan@example.com", key: "c", at: now - 60_000)
            #expect(try await Self.process(queue, "arf-yahoo-abuse.eml", about: complained, at: now).record.decision == .complained)
            let dan = try Address("dan@example.com", channel: .email)
            #expect(try await queue.suppression(of: dan)?.reason == .complained)
            let later = try await Self.send(queue, to: "dan@example.com", key: "c2", at: now - 30_000)
            #expect(try await Self.process(queue, "postfix-user-unknown.eml", about: later, at: now + 2).record.decision == .suppressed)
            #expect(try await queue.suppression(of: dan)?.reason == .complained, "a bounce does not replace a complaint")

            let forged = Array(String(decoding: try BounceReportTests.message("postfix-user-unknown.eml", about: 999), as: UTF8.self)
                .replacingOccurrences(of: "bounces+999-", with: "bounces+\(hard)-").utf8)
            let refused = try await BounceProcessor(queue: queue, config: Self.config, events: .off).process(forged, source: "ingest", now: now)
            #expect(refused.record.decision == .review && refused.record.messageID == nil, "\(refused.record.reason)")

            // What the CRM is told (PostgreSQL shows events once older transactions have ended).
            var events: [Event] = []
            let deadline = ContinuousClock.now + .seconds(20)
            while events.count < 3, ContinuousClock.now < deadline {
                events = try await queue.events(after: .start, matching: EventFilter(), limit: 10).map(\.event)
                if events.count < 3 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(events.map(\.type) == [.messageBounced, .recipientComplained, .messageBounced])
            #expect(events.first?.payload.contains(#""bounce":"hard""#) == true && events.first?.payload.contains(#""suppressed":true"#) == true)
            #expect(try await EventSchema.problems(events.map(\.payload)) == [], "as docs/events.schema.json says")
            let listed = try await queue.bounces(before: nil, recipient: nil, limit: 10)
            #expect(listed.map(\.decision) == [.review, .suppressed, .complained, .suppressed], "newest first")
            #expect(try await queue.bounces(before: nil, recipient: dan, limit: 10).map(\.decision) == [.suppressed, .complained],
                    "one address's, newest first")
            #expect(try await queue.bounce(listed[1].id)?.raw.count ?? 0 > 1_000, "the message is kept as received")
            // Kept for retention.bounces, then gone.
            var retention = Retention(sent: nil, failed: nil)
            retention.events = nil
            #expect(try await queue.prune(retention, now: now + 179 * Self.day, dryRun: true).bounces == 0)
            #expect(try await queue.prune(retention, now: now + 181 * Self.day, dryRun: true).bounces == 4)
            #expect(try await queue.prune(retention, now: now + 181 * Self.day).bounces == 4)
            #expect(try await queue.bounces(before: nil, recipient: nil, limit: 10).isEmpty)
        }
    }
}

@Suite("Bounce config")
struct BounceConfigTests {
    static func parse(_ yaml: String) throws -> HeraldConfig {
        try HeraldConfig.parse(yaml: yaml, root: URL(fileURLWithPath: "/srv/herald"), environment: [:])
    }

    static let email = """
        channels:
          email:
            smtp: {url: "smtp://127.0.0.1:25"}
            from: "news@harbor.example"
        """

    @Test("a return path with + in it, a short secret, and bounce records kept shorter than the soft window are refused, each naming its key")
    func refused() throws {
        for (bounces, retention, expected) in [
            (#"{return_path: "bounces+x@b.example", secret: "0123456789abcdef0123"}"#, "", "channels.email.bounces.return_path"),
            (#"{return_path: "bounces@b.example", secret: "short"}"#, "", "channels.email.bounces.secret"),
            (#"{return_path: "bounces@b.example", secret: "0123456789abcdef0123", soft: {max: 3, per: 10d}}"#,
             "retention: {bounces: 7d}\n", "retention.bounces: must be at least channels.email.bounces.soft.per (10d)"),
        ] {
            do {
                _ = try Self.parse(retention + Self.email + "\n    bounces: \(bounces)")
                Issue.record("accepted: \(bounces) \(retention)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
        let config = try Self.parse(Self.email + #"\n    bounces: {return_path: "Bounces@B.example", secret: "0123456789abcdef0123", soft: {max: 5, per: 14d}}"#
            .replacingOccurrences(of: "\\n", with: "\n"))
        #expect(config.email?.bounces?.softMax == 5 && config.email?.bounces?.softWindow == .seconds(14 * 86_400))
        #expect(config.email?.bounces?.returnPath.address(for: 7).hasSuffix("@b.example") == true)
    }

    @Test("a bounce mailbox: IMAP moves to Processed by default, POP3 deletes; a POP3 folder, a POP3 move, an http URL and a missing password are refused, each naming its key and value")
    func mailbox() throws {
        let base = #"{return_path: "bounces@b.example", secret: "0123456789abcdef0123", mailbox: MAILBOX}"#
        func parse(_ mailbox: String) throws -> HeraldConfig {
            try Self.parse(Self.email + "\n    bounces: " + base.replacingOccurrences(of: "MAILBOX", with: mailbox))
        }
        let imap = try #require(try parse(#"{url: "imaps://mail.b.example/INBOX", username: "b", password: "pw"}"#).email?.bounces?.mailbox)
        #expect(imap.mailProtocol == .imap && imap.folder == "INBOX" && imap.processed == .move("Processed") && imap.poll == .seconds(60))
        #expect(imap.server == "imaps://mail.b.example")
        let pop3 = try #require(try parse(#"{url: "pop3s://mail.b.example:995", username: "b", password: "pw", poll: 5m}"#).email?.bounces?.mailbox)
        #expect(pop3.mailProtocol == .pop3 && pop3.processed == .delete && pop3.poll == .seconds(300) && pop3.server == "pop3s://mail.b.example:995")
        for (mailbox, expected) in [
            (#"{url: "pop3s://mail.b.example/INBOX", username: "b", password: "pw"}"#, #"mailbox.url: a POP3 mailbox has no folders ("/INBOX")"#),
            (#"{url: "pop3s://mail.b.example", username: "b", password: "pw", processed: Archive}"#, #"mailbox.processed: POP3 can only delete ("Archive")"#),
            (#"{url: "https://mail.b.example", username: "b", password: "pw"}"#, "mailbox.url"),
            (#"{url: "imaps://mail.b.example", username: "b"}"#, "mailbox: password: required"),
            (#"{url: "imaps://mail.b.example", username: "b", password: "pw", processed: "A\"B"}"#, "mailbox.processed: not a folder"),
        ] {
            do {
                _ = try parse(mailbox)
                Issue.record("accepted: \(mailbox)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }

    @Test("provider webhooks: SES needs topic ARNs, SendGrid a P-256 public key, Mailgun a key of 16 bytes or more, Postmark a username and password; each refusal names its key")
    func providers() throws {
        func parse(_ providers: String) throws -> HeraldConfig {
            try Self.parse(Self.email + #"\n    bounces: {return_path: "bounces@b.example", secret: "0123456789abcdef0123", providers: PROVIDERS}"#
                .replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "PROVIDERS", with: providers))
        }
        let key = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE6UApdXwD7Gqf/hRb9huO0NoNzwN7ttjM3oBdUGFJEpbfAKymq60dLwedkfUu95GIQdRjRKmyJ+pkzrH1ZiVuIQ=="
        let config = try parse(#"{ses: {topic_arns: ["arn:aws:sns:eu-west-1:1:b"]}, sendgrid: {public_key: "\#(key)"}, mailgun: {signing_key: "0123456789abcdef0123"}, postmark: {username: pm, password: "0123456789abcdef0123"}, max_age: 5m}"#)
        let providers = try #require(config.email?.bounces?.providers)
        #expect(providers.ses?.topicARNs == ["arn:aws:sns:eu-west-1:1:b"] && providers.sendGrid != nil && providers.mailgun != nil
                && providers.postmark?.username == "pm" && providers.maxAge == .seconds(300))
        for (text, expected) in [
            ("{ses: {}}", "providers.ses: topic_arns: required"),
            (#"{ses: {topic_arns: ["my-topic"]}}"#, #"not an SNS topic ARN ("my-topic")"#),
            (#"{sendgrid: {public_key: "bm90IGEga2V5"}}"#, "providers.sendgrid.public_key: not a base64 ECDSA P-256 public key"),
            (#"{mailgun: {signing_key: "short"}}"#, "providers.mailgun.signing_key"),
            ("{postmark: {username: pm}}", "providers.postmark: username and password: required"),
            ("{sparkpost: {}}", "sparkpost"),
        ] {
            do {
                _ = try parse(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect("\(error)".contains(expected), "\(error)")
            }
        }
    }
}
