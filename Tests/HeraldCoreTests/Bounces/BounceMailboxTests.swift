import Foundation
import Testing
@testable import HeraldCore

/// The bounce mailbox read over libcurl's IMAP and POP3, from a real Dovecot the test starts,
/// after real SMTP deliveries whose envelope senders carried the VERP addresses.
@Suite("Bounce mailbox")
struct BounceMailboxTests {
    static let passwordVariable = "HERALD_BOUNCE_MAILBOX_PASSWORD"

    /// A fixture delivering email to a real SMTP server with bounces read from `mailbox`.
    static func fixture(_ folder: TemporaryFolder, smtp: SMTPServer, mailbox: String) throws -> HeraldFixture {
        let fixture = try HeraldFixture(
            endpoints: ["unused": "http://127.0.0.1:9/"],
            email: EmailChannelTests.smtpBlock(port: smtp.port) + """

                bounces:
                  return_path: "bounces@bounce.harbor.example"
                  secret: "test-bounce-key-0123456789"
                  mailbox: {\(mailbox), username: "\(DovecotServer.user)", password: "${\(passwordVariable)}", poll: 1s}
                """,
            topLevel: "events: {}", folder: folder)
        for (path, text) in EmailChannelTests.template { try folder.write("Templates/\(path)", text) }
        return fixture
    }

    /// A message's lines: the server hands out CR LF whatever line ends it was delivered with.
    static func lines(_ text: String) -> [String] {
        text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    static var environment: [String: String] { [passwordVariable: DovecotServer.password] }

    /// Three emails delivered over real SMTP, and the reports their recipients' systems send back
    /// (hard, soft, complaint) with two pieces of mail that are not reports.
    static func deliverAndReport(_ fixture: HeraldFixture, smtp: SMTPServer) async throws -> (ids: [Int64], reports: [[UInt8]], other: [[UInt8]]) {
        try await EmailChannelTests().enqueue(fixture, to: ["ann@example.com", "ben@example.com", "cy@example.com"])
        try await fixture.deliverUntilSettled()
        var ids: [Int64] = []
        for key in ["mail-0", "mail-1", "mail-2"] {
            let message = try #require(try await fixture.queue.message(key))
            try #require(message.state == .sent, "\(key) was delivered")
            ids.append(message.id)
        }
        let envelopes = try smtp.messages().map(\.mail_from)
        try #require(ids.allSatisfy { id in envelopes.contains { BounceReportTests.returnPath.messageID(of: $0) == id } },
                     "the relay saw each message's VERP address: \(envelopes)")
        func report(_ name: String, _ index: Int, _ recipient: String) throws -> [UInt8] {
            Array(String(decoding: try BounceReportTests.message(name, about: ids[index]), as: UTF8.self)
                .replacingOccurrences(of: "sarah.jones@example.com", with: recipient).utf8)
        }
        let reports = [try report("postfix-user-unknown.eml", 0, "ann@example.com"),
                       try report("postfix-mailbox-full.eml", 1, "ben@example.com"),
                       try report("arf-yahoo-abuse.eml", 2, "cy@example.com")]
        let other = [try report("person-reply.eml", 0, "ann@example.com"), try report("newsletter.eml", 0, "ann@example.com")]
        return (ids, reports, other)
    }

    @Test("IMAP: each report is recorded by VERP (hard suppresses, soft counts, the complaint suppresses complained) and moved to Processed; mail that is not a report stays in INBOX with its read state; a second pass changes nothing; a wrong password is named")
    func imap() async throws {
        let folder = try TemporaryFolder()
        let dovecot = try await DovecotServer(folder: folder)
        let smtp = try await SMTPServer(folder: folder)
        let fixture = try Self.fixture(folder, smtp: smtp,
                                       mailbox: "url: \"\(dovecot.imapsURL())\", ca_file: \"\(dovecot.certificate.path)\"")
        let (ids, reports, other) = try await Self.deliverAndReport(fixture, smtp: smtp)
        await smtp.stop()
        try dovecot.deliver([other[0], reports[0], reports[1], other[1], reports[2]])
        let before = try await dovecot.list()
        try #require(before.count == 5 && before.allSatisfy { !$0.seen }, "precondition: five unread messages in INBOX: \(before)")
        try await dovecot.markSeen(uid: before[3].uid)  // the newsletter was read by someone
        let unrelatedBefore = try await dovecot.list().filter { [before[0].uid, before[3].uid].contains($0.uid) }
        #expect(unrelatedBefore.map(\.seen) == [false, true], "precondition: one unread, one read")

        let listed = try await dovecot.list()
        let wrong = try await HeraldCommand.run(["bounces", "poll"], fixture: fixture, environment: [Self.passwordVariable: "not-it"])
        #expect(wrong.status == 75 && wrong.stderr.lowercased().contains("login"), "\(wrong.stdout) \(wrong.stderr)")
        #expect(try await dovecot.list() == listed, "nothing changed")
        #expect(try await fixture.queue.bounces(before: nil, recipient: nil, limit: 10).isEmpty)

        let poll = try await HeraldCommand.run(["bounces", "poll"], fixture: fixture, environment: Self.environment)
        #expect(poll.status == 0 && poll.stdout.contains("5 in the mailbox: 3 recorded, 0 recorded earlier and moved on now, 2 not reports and left (2 read now)"),
                "\(poll.stdout) \(poll.stderr)")
        #expect(try await dovecot.list() == unrelatedBefore, "the unrelated mail is where it was, as it was")
        let processed = try await dovecot.list("Processed")
        #expect(processed.count == 3, "the reports moved to Processed: \(processed)")
        let bodies = try await processed.asyncMap { try await dovecot.message(uid: $0.uid, in: "Processed") }
        #expect(Set(bodies.map(Self.lines)) == Set(reports.map { Self.lines(String(decoding: $0, as: UTF8.self)) }),
                "the reports are in Processed as delivered")

        let records = try await fixture.queue.bounces(before: nil, recipient: nil, limit: 10)
        #expect(records.count == 5 && records.allSatisfy { $0.source == "imap" && $0.sourceID.contains(";UIDVALIDITY=") })
        let byMessage = Dictionary(grouping: records.filter { $0.decision != .unrelated }, by: { $0.messageID ?? 0 })
        #expect(byMessage[ids[0]]?.map(\.decision) == [.suppressed] && byMessage[ids[0]]?.first?.status == "5.1.1")
        #expect(byMessage[ids[1]]?.map(\.decision) == [.counted] && byMessage[ids[1]]?.first?.severity == .soft)
        #expect(byMessage[ids[2]]?.map(\.decision) == [.complained])
        #expect(try await fixture.queue.suppression(of: try Address("ann@example.com", channel: .email))?.reason == .bounced)
        #expect(try await fixture.queue.suppression(of: try Address("ben@example.com", channel: .email)) == nil)
        #expect(try await fixture.queue.suppression(of: try Address("cy@example.com", channel: .email))?.reason == .complained)

        let again = try await HeraldCommand.run(["bounces", "poll"], fixture: fixture, environment: Self.environment)
        #expect(again.status == 0 && again.stdout.contains("2 in the mailbox: 0 recorded, 0 recorded earlier and moved on now, 2 not reports and left (0 read now)"),
                "\(again.stdout) \(again.stderr)")
        #expect(try await dovecot.list() == unrelatedBefore)
        #expect(try await fixture.queue.bounces(before: nil, recipient: nil, limit: 10).count == 5)
        await dovecot.stop()
    }

    @Test("POP3: reports are recorded and deleted, mail that is not a report is left; herald run reads the mailbox every poll")
    func pop3() async throws {
        let folder = try TemporaryFolder()
        let dovecot = try await DovecotServer(folder: folder)
        let smtp = try await SMTPServer(folder: folder)
        let fixture = try Self.fixture(folder, smtp: smtp,
                                       mailbox: "url: \"\(dovecot.pop3sURL)\", ca_file: \"\(dovecot.certificate.path)\"")
        let (ids, reports, other) = try await Self.deliverAndReport(fixture, smtp: smtp)
        await smtp.stop()
        try dovecot.deliver([reports[0], other[0]])
        try #require(try await dovecot.list().count == 2, "precondition: two messages")

        let run = try HeraldCommand.start(["run"], fixture: fixture, environment: Self.environment)
        defer { run.signal(SIGKILL) }
        try #require(try await waitUntil(timeout: .seconds(60)) {
            try await dovecot.list().count == 1 || !run.isRunning
        }, "the report is deleted: \(run.output().stderr)")
        // Mail arriving while it runs is read at the next poll.
        try dovecot.deliver([reports[1], reports[2], other[1]])
        let settled = try await waitUntil(timeout: .seconds(60)) {
            let recorded = try await fixture.queue.bounces(before: nil, recipient: nil, limit: 10).count
            let listed = try await dovecot.list().count
            return recorded == 5 && listed == 2
        }
        let inMailbox = try await dovecot.list()
        try #require(settled, "every report recorded and deleted: \(inMailbox), \(run.output().stderr)")
        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(30)) == 0)
        let left = try await dovecot.list().asyncMap { try await dovecot.message(uid: $0.uid) }
        #expect(Set(left.map(Self.lines)) == Set(other.map { Self.lines(String(decoding: $0, as: UTF8.self)) }),
                "the two pieces of unrelated mail are left")
        let records = try await fixture.queue.bounces(before: nil, recipient: nil, limit: 10)
        #expect(records.allSatisfy { $0.source == "pop3" && $0.sourceID.contains(";UIDL=") })
        #expect(Set(records.compactMap { $0.decision == .unrelated ? nil : $0.messageID }) == Set(ids))
        #expect(records.filter { $0.decision == .unrelated }.count == 2)
        await dovecot.stop()
    }

    /// How many reports the crash test puts in the mailbox (`Benchmarks/bounce-mailbox.sh` asks for more).
    static let crashReports = ProcessInfo.processInfo.environment["HERALD_TEST_MAILBOX_REPORTS"].flatMap(Int.init) ?? 1_000

    @Test("SIGKILL while the mailbox is read (at the failpoint after a record, then from outside mid-pass): after restarts every report is recorded exactly once, none is lost or moved twice, the unrelated mail is where it was")
    func crashes() async throws {
        let folder = try TemporaryFolder()
        let dovecot = try await DovecotServer(folder: folder)
        let smtp = try await SMTPServer(folder: folder)
        let fixture = try Self.fixture(folder, smtp: smtp,
                                       mailbox: "url: \"\(dovecot.imapsURL())\", ca_file: \"\(dovecot.certificate.path)\"")
        await smtp.stop()
        // Messages recorded as sent a day ago, each soft-bounced once: a report processed twice
        // would count twice or be recorded twice.
        let count = Self.crashReports
        let sentAt = Timestamp.now() - BounceProcessorTests.day
        var mail: [[UInt8]] = []
        let unrelated = try BounceReportTests.message("person-reply.eml", about: 1)
        for n in 0..<count {
            let id = try await BounceProcessorTests.send(fixture.queue, to: "lead-\(n)@example.com", key: "m-\(n)", at: sentAt)
            mail.append(Array(String(decoding: try BounceReportTests.message("postfix-mailbox-full.eml", about: id), as: UTF8.self)
                .replacingOccurrences(of: "sarah.jones@example.com", with: "lead-\(n)@example.com").utf8))
            if n % 20 == 0 { mail.append(unrelated) }
        }
        try dovecot.deliver(mail)
        let others = mail.count - count
        let listedFirst = try await dovecot.list().count
        try #require(listedFirst == mail.count, "precondition: \(mail.count) messages in INBOX, listed \(listedFirst)")
        func recorded() async throws -> [BounceRecord] {
            try await fixture.queue.bounces(before: nil, recipient: nil, limit: 2 * mail.count)
        }
        // What the waits poll: a count, not the records (reading thousands of them every 50 ms
        // would take the CPU from the run under test).
        func recordedCount() throws -> Int {
            try fixture.queue.readNow { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM bounces") ?? 0 }
        }

        // 1. Killed right after the first report's outcome is committed, before it is moved.
        let failpoint = try await HeraldCommand.run(["bounces", "poll"], fixture: fixture,
                                                    environment: Self.environment.merging(["HERALD_FAILPOINTS": Failpoint.mailboxAfterRecord]) { $1 })
        #expect(failpoint.stderr.contains("failpoint \(Failpoint.mailboxAfterRecord): SIGKILL"), "\(failpoint.stderr)")
        let afterFailpoint = (recorded: try recordedCount(), listed: try await dovecot.list().count)
        #expect(afterFailpoint == (1, mail.count), "one report recorded, still in the mailbox: \(afterFailpoint)")

        // 2. herald run, killed from outside in the middle of its pass.
        let run = try HeraldCommand.start(["run"], fixture: fixture, environment: Self.environment)
        defer { run.signal(SIGKILL) }
        let started = ContinuousClock.now
        try #require(try await waitUntil(timeout: .seconds(300)) { try recordedCount() >= count / 3 || !run.isRunning },
                     "a third recorded: \(run.output().stderr)")
        run.signal(SIGKILL)
        _ = await run.wait(timeout: .seconds(10))
        let atKill = try recordedCount()
        try #require(atKill < mail.count, "precondition: killed mid-pass (\(atKill) of \(mail.count) recorded)")

        // 3. One pass to the end.
        let resumed = ContinuousClock.now
        let poll = try await HeraldCommand.run(["bounces", "poll"], fixture: fixture, environment: Self.environment, timeout: .seconds(600))
        let pass = ContinuousClock.now - resumed
        #expect(poll.status == 0, "\(poll.stdout) \(poll.stderr)")
        let records = try await recorded()
        #expect(records.count == mail.count, "each message recorded: \(records.count) of \(mail.count)")
        #expect(Set(records.map(\.sourceID)).count == records.count)
        let reports = records.filter { $0.decision != .unrelated }
        #expect(reports.count == count && reports.allSatisfy { $0.decision == .counted } && Set(reports.compactMap(\.messageID)).count == count,
                "every report once, each counted once: \(Dictionary(grouping: reports, by: \.decision).mapValues(\.count))")
        let events = try await fixture.queue.events(after: .start, matching: EventFilter(types: [.messageBounced]), limit: 2 * count)
        #expect(events.count == count, "one message.bounced per report: \(events.count)")
        let inbox = try await dovecot.list()
        let processed = try await dovecot.list("Processed")
        #expect(inbox.count == others && inbox.allSatisfy { !$0.seen }, "the unrelated mail stays, unread: \(inbox.count) of \(others)")
        #expect(processed.count == count, "every report in Processed once: \(processed.count) of \(count)")
        let rate = Double(mail.count - atKill) / (Double(pass.components.seconds) + Double(pass.components.attoseconds) / 1e18)
        print("bounce mailbox: \(mail.count) messages (\(count) reports); killed at \(atKill) recorded after \(ContinuousClock.now - started); "
              + "the rest read in \(pass) by herald bounces poll, \(Int(rate)) messages/s (debug build, IMAP over TLS, SQLite)")
        await dovecot.stop()
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
