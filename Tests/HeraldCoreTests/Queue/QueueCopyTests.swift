import Foundation
import Logging
import Testing
@testable import HeraldCore

/// `herald copy` from an SQLite installation to a real PostgreSQL server, then `herald run` on
/// the copy.
@Suite("herald copy")
struct QueueCopyTests {
    static let owner = LeaseOwner(host: "old-host", pid: 4242, nonce: "c")

    /// 100,000 messages in every state, their attempts, 100 suppressions, a closed letter batch.
    static func installation(_ queue: SQLiteQueue, receiverURL: String) async throws -> (queued: Set<String>, leased: Set<String>) {
        let now = Timestamp.now()
        let past = now - 3_600_000
        for chunk in stride(from: 0, to: 100_000, by: 5_000) {
            _ = try await queue.enqueue((chunk..<chunk + 5_000).map { index in
                NewMessage(key: "m-\(index)", channel: .webhook, template: "alert", recipient: Recipient(endpoint: "hook"),
                           dataJSON: #"{"n": \#(index)}"#, sendAt: past, campaign: "copy")
            }, now: past)
        }
        // All but the last 1,000 are claimed; most end sent, some failed, suppressed, retried for
        // later or returned (queued, one attempt spent); ten stay leased past their lease.
        var settled = 0
        while settled < 99_000 {
            let batch = try await queue.claim(limit: min(5_000, 99_000 - settled), owner: owner, lease: .seconds(1),
                                              channels: [.webhook], now: past)
            var settlements: [Settlement] = []
            for message in batch.messages {
                let index = Int(message.key!.dropFirst(2))!
                let attempt = DeliveryAttempt(messageID: message.id, number: message.attempt, startedAt: past, durationMicroseconds: 900,
                                              worker: "\(owner)", outcome: .sent, remoteCode: "200", remoteText: "ok \(index)")
                switch index % 100 {
                case 0: settlements.append(.failed(DeliveryAttempt(messageID: message.id, number: 1, startedAt: past, durationMicroseconds: 5,
                                                                   worker: "\(owner)", outcome: .permanent, errorCode: "http_status",
                                                                   remoteCode: "400"), lastError: "HTTP 400"))
                case 1: settlements.append(.suppressed(messageID: message.id, Suppression(try Address("hook", channel: .webhook),
                                                                                          reason: .manual)))
                case 2: settlements.append(.retry(DeliveryAttempt(messageID: message.id, number: 1, startedAt: past, durationMicroseconds: 5,
                                                                  worker: "\(owner)", outcome: .transient, errorCode: "http_status",
                                                                  remoteCode: "503", retryAt: now + 86_400_000), lastError: "HTTP 503"))
                case 3 where index < 1_000: break  // stays leased
                default: settlements.append(.sent(attempt))
                }
            }
            _ = try await queue.settle(settlements, owner: owner, now: past)
            settled += batch.messages.count
        }
        _ = try await queue.cancel("m-99999", events: [], now: past)
        try await queue.suppress((0..<100).map { Suppression(try! Address("lead\($0)@example.com", channel: .email), reason: .unsubscribed) },
                                 events: [], now: past)
        for id in Int64(1)...3 {
            _ = try await queue.place(Letter(messageID: id, key: "m-\(id - 1)", name: "Lead \(id)",
                                             address: PostalAddress(line1: "1 Elm St", city: "Springfield", postalCode: "62701"),
                                             campaign: "copy", format: .text, body: "Dear Lead"), batchSize: 10, now: past)
        }
        let closing = try await queue.beginClosing(openedBefore: nil, now: past)
        try await queue.markClosed(closing[0].id, sha256: "feed", bytes: 300, uploadPending: false, now: past)
        // Events for the CRM, the push past the first 30 of 50.
        let log = EventLog(types: Set(EventType.allCases))
        try await queue.record((0..<50).compactMap { n in
            log.event(.messageSent, about: EventSubject(messageID: Int64(n + 1), key: "m-\(n)", campaign: nil, channel: .webhook,
                                                      template: "alert", recipient: "hook"), at: past + Int64(n))
        })
        // A processed bounce, kept with its bytes.
        _ = try await queue.recordBounce(BounceRecord(receivedAt: past, source: "ingest", sourceID: "abc", kind: .bounce, format: "dsn",
                                                      messageID: 5, messageSentAt: past, recipient: "lead5@example.com", status: "5.2.2",
                                                      severity: .soft, decision: .counted, reason: "soft bounce 5.2.2, 1 of 3",
                                                      raw: Array("Subject: bounce\r\n\r\n\u{0}\u{FF}é".utf8) + [0, 255]),
                                         suppression: nil, events: [])
        // Two leads in a drip, one a step further on, with the version they follow.
        _ = try await queue.enroll(["lead-a", "lead-b"].map {
            NewEnrollment(key: $0, sequence: "drip", version: "v1", recipient: Recipient(email: "\($0)@example.com"), startedAt: past,
                          firstDue: past + 1_000)
        }, versions: [SequenceVersion(sequence: "drip", version: "v1", definition: "steps: []")], now: past)
        let first = try await queue.dueEnrollments(now: past + 1_000, limit: 1)[0]
        _ = try await queue.advance([EnrollmentAdvance(id: first.id, expectedStep: 0,
                                                       action: .wait(until: past + 5_000, shift: 60_000))], now: past + 1_000)
        let pushed = try await queue.events(after: .start, matching: EventFilter(), limit: 30)
        _ = try await queue.takePush("crm", owner: owner, lease: .seconds(1), now: past)
        _ = try await queue.advancePush("crm", to: try #require(pushed.last).cursor, owner: owner)
        let queued = Set((99_000..<99_999).map { "m-\($0)" })
        let leased = Set((0..<1_000).filter { $0 % 100 == 3 }.map { "m-\($0)" })
        return (queued, leased)
    }

    @Test("a 100,000-message installation copies with equal counts and rows; the copy delivers what was queued and nothing twice; a second copy is refused")
    func copyAndRun() async throws {
        let settings = try await PostgresServer.shared.database()
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        defer { Task { await receiver.stop() } }
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/ok")], workers: 32, lease: "10s",
                                        topLevel: "intake: {drop_folder: off, socket: off}")
        let (queued, leased) = try await Self.installation(fixture.queue, receiverURL: receiver.url("/ok"))
        let before = try await fixture.queue.status()
        #expect(before.count(state: .queued) == 999 + 990 && before.count(state: .leased) == 10, "precondition: \(before.counts)")
        #expect([MessageState.sent, .failed, .suppressed, .canceled].allSatisfy { before.count(state: $0) > 0 }, "every state")

        let url = PostgresRunTests.url(settings)
        let copied = try await HeraldCommand.run(["copy", "--to", url], fixture: fixture, timeout: .seconds(300))
        #expect(copied.status == 0, "\(copied.stderr)")
        #expect(copied.stderr.contains("copy: messages: 100000 rows") && copied.stderr.contains("copy: suppressions: 100 rows"),
                "progress on stderr: \(copied.stderr)")

        try await PostgresRunTests.inspect(settings) { copy in
            let after = try await copy.status(now: before.takenAt)
            #expect(after.counts == before.counts, "counts by state and channel")
            #expect(after.deferred == before.deferred)
            for key in ["m-0", "m-1", "m-2", "m-3", "m-4", "m-57", "m-98765", "m-99000", "m-99999"] + (0..<20).map({ "m-\($0 * 4_999)" }) {
                #expect(try await copy.message(key) == (try await fixture.queue.message(key)), "\(key)")
            }
            #expect(try await copy.suppressions(channel: nil, after: nil, limit: 1_000)
                .map { [$0.address.value, $0.reason.rawValue] } == (try await fixture.queue.suppressions(channel: nil, after: nil, limit: 1_000))
                .map { [$0.address.value, $0.reason.rawValue] })
            let batches = try await copy.letterBatches(limit: 10)
            #expect(batches == (try await fixture.queue.letterBatches(limit: 10)))
            #expect(try await copy.letters(inBatch: batches[0].id).count == 3)
            // The events, in order, and the push where it stood: the same 20 still wait.
            let copiedEvents = try await copy.events(after: .start, matching: EventFilter(), limit: 100).map(\.event)
            #expect(copiedEvents == (try await fixture.queue.events(after: .start, matching: EventFilter(), limit: 100)).map(\.event))
            #expect(copiedEvents.count == 50)
            #expect(try await copy.bounces(before: nil, recipient: nil, limit: 10) == (try await fixture.queue.bounces(before: nil, recipient: nil, limit: 10)),
                    "bounces copied byte for byte, so the soft window goes on")
            #expect(try await copy.dueEnrollments(now: Timestamp.now(), limit: 10) == (try await fixture.queue.dueEnrollments(now: Timestamp.now(), limit: 10)),
                    "enrollments copied where they stood")
            #expect(try await copy.dueEnrollments(now: Timestamp.now(), limit: 10).count == 2)
            #expect(try await copy.sequenceVersion("drip", version: "v1") == "steps: []", "the version they follow goes with them")
            let waiting = try await copy.eventBacklog(after: try await copy.pushCursor("crm"))
            #expect(waiting.count == 20, "the push goes on after the 30 it had delivered: \(waiting)")
            let sqliteCursor = try #require(try await fixture.queue.events(after: .start, matching: EventFilter(), limit: 10).last).cursor
            #expect(try await copy.events(after: sqliteCursor, matching: EventFilter(), limit: 100).count == 40,
                    "a CRM's cursor from before the copy goes on where it was")
            // New ids continue after the copied ones.
            let fresh = try await copy.enqueue([NewMessage(key: "after-copy", channel: .webhook, template: "alert",
                                                           recipient: Recipient(endpoint: "hook"), dataJSON: #"{"n": 0}"#,
                                                           sendAt: Timestamp.now())])
            #expect(fresh == [.queued(id: 100_001)])
        }

        // Herald on the copy: the queued messages and those leased at the snapshot (their leases
        // long expired) are delivered, each once; nothing sent before is sent again.
        try fixture.folder.write("Config/herald.yaml", try String(contentsOf: fixture.folder.file("Config/herald.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "database: \"var/herald.sqlite\"", with: "database: \"\(url)\""))
        let run = try await HeraldCommand.run(["run", "--once"], fixture: fixture, timeout: .seconds(300))
        #expect(run.status == 0, "\(run.stderr.suffix(2_000))")
        let delivered = try receiver.requests().filter { $0.path == "/ok" }.compactMap { request -> String? in
            guard let body = try? JSONValue.parse(Data(request.body.utf8)), case .object(let object) = body,
                  case .string(let key)? = object["key"] else { return nil }
            return key
        }
        #expect(delivered.count == Set(delivered).count, "nothing delivered twice")
        let expected = queued.union(leased).union(["after-copy"])
        #expect(Set(delivered) == expected, "missing \(expected.subtracting(delivered).sorted().prefix(10)), unexpected \(Set(delivered).subtracting(expected).sorted().prefix(10))")

        let again = try await HeraldCommand.run(["copy", "--from", fixture.queue.path, "--to", url], fixture: fixture)
        #expect(again.status != 0 && again.stderr.contains("already holds a queue"), "\(again.stderr)")
    }
}
