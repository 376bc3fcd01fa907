import Foundation
import GRDB
import Logging
import ServiceLifecycle
import Testing
@testable import HeraldCore

/// Finished messages leave the database after their retention; nothing else does.
@Suite("Retention")
struct RetentionTests {
    static let day: Int64 = 86_400_000
    let owner = LeaseOwner(host: "test-host", pid: 4242, nonce: "r")

    func webhook(_ key: String, sendAt: Int64 = 0) -> NewMessage {
        NewMessage(key: key, channel: .webhook, template: "t", recipient: Recipient(endpoint: "e"), sendAt: sendAt)
    }

    func attempt(_ id: Int64, _ number: Int, _ outcome: DeliveryAttempt.Outcome, at: Int64) -> DeliveryAttempt {
        DeliveryAttempt(messageID: id, number: number, startedAt: at, durationMicroseconds: 1_000, worker: owner.description,
                        outcome: outcome, errorCode: outcome == .sent ? nil : "http_status")
    }

    func count(_ queue: SQLiteQueue, _ sql: String) throws -> Int {
        try queue.readNow { db in try Int.fetchOne(db, sql: sql)! }
    }

    /// A database as a year of use leaves it: 4,500 sent (more than two deletion batches), a
    /// failed message with two attempts, a canceled and a suppressed one, one sent late (50 days
    /// after the rest), one still leased, one queued far in the future.
    func history(_ queue: MessageQueue, now: Int64) async throws -> (sent: [Int64], failed: Int64) {
        _ = try await queue.enqueue((0..<4_500).map { webhook("s-\($0)") } + [webhook("f-1"), webhook("late"), webhook("leased")], now: now)
        _ = try await queue.enqueue([webhook("future", sendAt: now + 400 * Self.day), webhook("cancel-me")], now: now)
        _ = try await queue.enqueue([NewMessage(key: "unsubscribed", channel: .email, template: "t", recipient: Recipient(email: "gone@example.com"), sendAt: 0)],
                              now: now)
        try await queue.suppress([Suppression(try Address("gone@example.com", channel: .email), reason: .unsubscribed)], events: [], now: now)
        guard case .done = try await queue.cancel("cancel-me", events: [], now: now) else { throw TestFailure("cancel-me not canceled") }

        let claim = try await queue.claimScreened(limit: 10_000, owner: owner, lease: .seconds(3_600), channels: [.webhook, .email],
                                          policies: PolicyConfig(), now: now)
        #expect(claim.suppressed.count == 1)
        let byKey = Dictionary(uniqueKeysWithValues: claim.deliver.map { ($0.key!, $0.id) })
        let sent = (0..<4_500).map { byKey["s-\($0)"]! }
        try await queue.settle(sent.map { .sent(attempt($0, 1, .sent, at: now)) }, owner: owner, now: now)
        let failed = byKey["f-1"]!
        try await queue.settle([.retry(attempt(failed, 1, .transient, at: now), lastError: "503")], owner: owner, now: now)
        let again = try await queue.claim(limit: 1, owner: owner, lease: .seconds(3_600), channels: [.webhook], now: now + 1).messages
        #expect(again.map(\.id) == [failed])
        try await queue.settle([.failed(attempt(failed, 2, .permanent, at: now + 1), lastError: "400")], owner: owner, now: now + 1)
        try await queue.settle([.sent(attempt(byKey["late"]!, 1, .sent, at: now + 50 * Self.day))], owner: owner, now: now + 50 * Self.day)
        return (sent, failed)
    }

    @Test("finished messages older than their retention go with their attempts; queued, leased, recent and failed-within-retention stay; a dry run counts the same and removes nothing")
    func prune() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let now = Timestamp.now()
        let (sent, failed) = try await history(queue, now: now)
        #expect(try count(queue, "SELECT count(*) FROM messages") == 4_506)
        #expect(try count(queue, "SELECT count(*) FROM attempts") == 4_503)
        let retention = Retention()  // sent 90d, failed 180d

        // 100 days on: past `sent`, not past `failed`.
        let later = now + 100 * Self.day
        let preview = try await queue.prune(retention, now: later, dryRun: true)
        #expect(try count(queue, "SELECT count(*) FROM messages") == 4_506)
        var reports: [Int] = []
        let pruned = try await queue.prune(retention, now: later, pause: .zero) { reports.append($0.messageCount) }
        #expect(pruned == preview)
        #expect(pruned.messages == ["sent": 4_500, "suppressed": 1, "canceled": 1, "failed": 0])
        #expect(pruned.attempts == 4_500)
        #expect(reports == [2_000, 4_000, 4_500, 4_501, 4_502], "one report per transaction")
        let left = try queue.readNow { db in
            try Row.fetchAll(db, sql: "SELECT key, state FROM messages ORDER BY key").map { "\($0["key"] as String):\($0["state"] as String)" }
        }
        #expect(left == ["f-1:failed", "future:queued", "late:sent", "leased:leased"])
        #expect(try count(queue, "SELECT count(*) FROM attempts") == 3, "f-1's two and late's one")
        #expect(try count(queue, "SELECT count(*) FROM attempts WHERE message_id IN (\(sent.prefix(50).map(String.init).joined(separator: ",")))") == 0)

        // A second sweep at the same time finds nothing.
        #expect(try await queue.prune(retention, now: later).isEmpty)
        // 200 days on: the failed one and the late one go too; queued and leased never do.
        let muchLater = try await queue.prune(retention, now: now + 200 * Self.day)
        #expect(muchLater.messages["failed"] == 1 && muchLater.messages["sent"] == 1 && muchLater.attempts == 3)
        #expect(try await queue.message("\(failed)") == nil)
        #expect(try count(queue, "SELECT count(*) FROM messages") == 2)
        #expect(try await queue.prune(retention, now: now + 5_000 * Self.day).isEmpty)

        // A key is remembered as long as its message: after that, it is new.
        let outcomes = try await queue.enqueue([webhook("s-0"), webhook("future")], now: now + 200 * Self.day)
        #expect(outcomes.map { if case .queued = $0 { "queued" } else { "duplicate" } } == ["queued", "duplicate"])
    }

    @Test("off keeps everything; a message retried recently is kept whatever its age")
    func offAndRetried() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let now = Timestamp.now()
        _ = try await history(queue, now: now)
        #expect(try await queue.prune(Retention(sent: nil, failed: nil), now: now + 1_000 * Self.day).isEmpty)
        #expect(try count(queue, "SELECT count(*) FROM messages") == 4_506)

        // The failed message, retried by an operator at day 170 and failed again at day 171,
        // counts from day 171.
        guard case .done = try await queue.retry("f-1", now: now + 170 * Self.day) else { throw TestFailure("f-1 not retried") }
        // (The claim also takes back "leased", whose lease ran out long ago.)
        let claimed = try await queue.claim(limit: 10, owner: owner, lease: .seconds(60), channels: [.webhook], now: now + 170 * Self.day).messages
        let retried = try #require(claimed.first { $0.key == "f-1" })
        try await queue.settle([.failed(attempt(retried.id, 3, .permanent, at: now + 171 * Self.day), lastError: "400")],
                               owner: owner, now: now + 171 * Self.day)
        let pruned = try await queue.prune(Retention(sent: nil, failed: .seconds(180 * 86_400)), now: now + 200 * Self.day)
        #expect(pruned.isEmpty)
        #expect(try await queue.message("f-1")?.state == .failed)
    }

    @Test("the id horizon: everything below it is older than the cutoff, the first message above it is not, across a gap in the ids")
    func horizon() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        for (index, createdAt) in [1_000, 2_000, 3_000, 5_000, 8_000].enumerated() {
            _ = try await queue.enqueue([webhook("h-\(index)")], now: Int64(createdAt))
        }
        try queue.writeNow { db in try db.execute(sql: "DELETE FROM messages WHERE key = 'h-2'") }  // a gap in the ids
        let ids = try queue.readNow { db in try Int64.fetchAll(db, sql: "SELECT id FROM messages ORDER BY id") }
        var horizons: [Int64] = []
        for cutoff: Int64 in [0, 2_000, 2_500, 7_999, 9_000] { horizons.append(try await queue.idHorizon(createdBefore: cutoff)) }
        let created = try queue.readNow { db in
            try Dictionary(uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT id, created_at FROM messages").map { ($0["id"] as Int64, $0["created_at"] as Int64) })
        }
        for (cutoff, horizon) in zip([Int64(0), 2_000, 2_500, 7_999, 9_000], horizons) {
            // Everything below the horizon is older than the cutoff; the first message at or above it is not.
            #expect(ids.filter { $0 < horizon }.allSatisfy { created[$0]! < cutoff }, "cutoff \(cutoff): horizon \(horizon)")
            if cutoff <= 8_000 {
                let first = try #require(ids.first(where: { $0 >= horizon }), "cutoff \(cutoff): no message at or above horizon \(horizon)")
                #expect(created[first]! >= cutoff, "cutoff \(cutoff): horizon \(horizon)")
            }
        }
        #expect(horizons.last! > ids.last!, "past the last message")
    }

    @Test("letters of closed batches (uploaded or not uploading) and archived drop-folder records go; open batches and pending uploads stay")
    func lettersAndIntakeFiles() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let now = Timestamp.now()
        let address = PostalAddress(line1: "12 Elm St", city: "Springfield", region: "IL", postalCode: "62701", country: "US")
        func letter(_ id: Int64) -> Letter {
            Letter(messageID: id, key: "l-\(id)", name: "Sarah", address: address, campaign: "c", format: .text, body: "Dear Sarah")
        }
        // Three batches of two: closed without upload, closed with an upload pending, still open.
        for id in Int64(1)...6 { _ = try await queue.place(letter(id), batchSize: 2, now: now) }
        let closing = try await queue.beginClosing(openedBefore: now + 1, now: now)
        #expect(closing.count == 3)
        try await queue.markClosed(closing[0].id, sha256: "x", bytes: 1, uploadPending: false, now: now)
        try await queue.markClosed(closing[1].id, sha256: "y", bytes: 1, uploadPending: true, now: now)
        _ = try await queue.place(letter(7), batchSize: 2, now: now)

        let archived = try await queue.intakeFile(name: "a.ndjson", identity: "1:1:1:1", now: now)
        try await queue.markIntakeFile(archived.id, .archived, now: now)
        _ = try await queue.intakeFile(name: "b.ndjson", identity: "1:2:1:1", now: now)  // still being read

        let pruned = try await queue.prune(Retention(), now: now + 100 * Self.day)
        #expect(pruned.letters == 2 && pruned.intakeFiles == 1)
        #expect(try count(queue, "SELECT count(*) FROM letters") == 5)
        #expect(try count(queue, "SELECT count(*) FROM letter_batches") == 4, "batch records stay")
        #expect(try count(queue, "SELECT count(*) FROM intake_files") == 1)
    }

    @Test("herald run's sweep prunes shortly after start and stops on graceful shutdown")
    func sweepService() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let now = Timestamp.now()
        _ = try await history(queue, now: now - 400 * Self.day)
        var logger = Logger(label: "test")
        // A failed sweep waits for the next one, an hour on: its error must show.
        logger.logLevel = .error
        let sweep = RetentionSweep(queue: queue, retention: Retention(), firstSweepAfter: .milliseconds(50), logger: logger)
        let group = ServiceGroup(services: [sweep], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // 4,500 messages in small transactions: a loaded machine (stress-ng beside the suites) took over 20 s.
            let swept = try await waitUntil(timeout: .seconds(90)) {
                try count(queue, "SELECT count(*) FROM messages") == 2
            }
            let left = try count(queue, "SELECT count(*) FROM messages")
            #expect(swept, "only the queued and the leased message are left: \(left) are")
            let stopping = ContinuousClock.now
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            // The sweep's next wait is an hour: ending well inside a minute proves the wait was
            // cut short, with room for a loaded machine (2.1 s was seen with the suites in parallel).
            #expect(ContinuousClock.now - stopping < .seconds(60), "the hourly wait ends at once")
        }
    }
}

extension RetentionTests {
    @Test("herald prune: --dry-run --json counts, then removes; the text names what and the retention")
    func pruneCommand() async throws {
        let fixture = try HeraldFixture(endpoints: ["hook": "http://127.0.0.1:9/"], topLevel: "retention: {sent: 1h, failed: 2h}")
        let threeHoursAgo = Timestamp.now() - 3 * 3_600_000
        _ = try await fixture.queue.enqueue((0..<10).map { webhook("old-\($0)") } + [webhook("kept", sendAt: Timestamp.now() + 3_600_000)],
                                      now: threeHoursAgo)
        for index in 0..<10 {
            guard case .done = try await fixture.queue.cancel("old-\(index)", events: [], now: threeHoursAgo + 1_000) else { throw TestFailure("not canceled") }
        }
        let dry = try await HeraldCommand.run(["prune", "--dry-run", "--json"], fixture: fixture)
        #expect(dry.status == 0, "\(dry.stderr)")
        let counts = try JSONDecoder().decode(PrunedHistory.self, from: Data(dry.stdout.utf8))
        #expect(counts.messages["canceled"] == 10 && counts.messageCount == 10)
        #expect(try count(fixture.queue, "SELECT count(*) FROM messages") == 11)

        let real = try await HeraldCommand.run(["prune"], fixture: fixture)
        #expect(real.status == 0, "\(real.stderr)")
        #expect(real.stdout == "removed 10 messages (canceled 10), 0 attempts, 0 letters, 0 drop-folder files, 0 events, 0 bounces, 0 enrollments (retention: sent 1h, failed 2h, events 90d, bounces 180d)\n")
        #expect(try count(fixture.queue, "SELECT count(*) FROM messages") == 1)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
