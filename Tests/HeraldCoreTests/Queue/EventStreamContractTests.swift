import Foundation
import Synchronization
import Testing
@testable import HeraldCore

/// The events outbox, against both engines: events are written with the change they report (and
/// not without it), a reader paging with its cursor gets every event once while writers race,
/// and one process at a time holds the push.
/// Set once the writers of a race are done.
final class WritersFinished: Sendable {
    private let done = Mutex(false)
    func set() { done.withLock { $0 = true } }
    var value: Bool { done.withLock { $0 } }
}

@Suite("Event stream contract")
struct EventStreamContractTests {
    static let owner = LeaseOwner(host: "host-a", pid: 4242, nonce: "a")
    static let other = LeaseOwner(host: "host-b", pid: 4343, nonce: "b")
    static let log = EventLog(types: Set(EventType.allCases))

    static func webhook(_ key: String, at now: Int64) -> NewMessage {
        NewMessage(key: key, channel: .webhook, template: "t", recipient: Recipient(endpoint: "hook"), sendAt: now,
                   campaign: "spring")
    }

    static func sent(_ message: ClaimedMessage, at now: Int64) -> Settlement {
        .sent(DeliveryAttempt(messageID: message.id, number: message.attempt, startedAt: now, durationMicroseconds: 10,
                              worker: "\(owner)", outcome: .sent, remoteCode: "200", remoteID: "r-\(message.id)"))
    }

    /// Every event of the stream, paged `limit` at a time, once `count` of them can be read.
    /// PostgreSQL shows an event once every older transaction on the server has ended (tests on
    /// other databases share the server), so the reader waits for that, as a CRM would.
    static func drain(_ queue: any MessageQueue, count: Int, limit: Int = 50) async throws -> [StoredEvent] {
        var all: [StoredEvent] = []
        var cursor = EventCursor.start
        let deadline = ContinuousClock.now + .seconds(20)
        while all.count < count, ContinuousClock.now < deadline {
            let page = try await queue.events(after: cursor, matching: EventFilter(), limit: limit)
            guard let last = page.last else {
                try await Task.sleep(for: .milliseconds(20))
                continue
            }
            all += page
            cursor = last.cursor
        }
        #expect(all.count == count, "\(count) events readable within 20 s")
        #expect(try await queue.events(after: cursor, matching: EventFilter(), limit: limit).isEmpty, "and no more")
        return all
    }

    @Test("a settlement's events are written with it; a settlement whose lease was lost writes none",
          arguments: QueueEngine.allCases)
    func settlementEvents(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            _ = try await queue.enqueue((0..<3).map { Self.webhook("e-\($0)", at: now) }, now: now)
            let claimed = try await queue.claim(limit: 3, owner: Self.owner, lease: .seconds(60), channels: [.webhook], now: now)
                .messages
            try #require(claimed.count == 3)
            let settlements = claimed.map { Self.sent($0, at: now) }
            let events = zip(settlements, claimed).flatMap { Self.log.events(for: $0, of: EventSubject($1), at: now) }
            try #require(events.count == 3 && events.allSatisfy { $0.type == .messageSent })
            // The third one is settled by a process that does not hold its lease.
            #expect(try await queue.settle(Array(settlements[0..<2]), events: events, owner: Self.owner, now: now).isEmpty)
            #expect(try await queue.settle([settlements[2]], events: [events[2]], owner: Self.other, now: now) == [claimed[2].id])
            let stream = try await Self.drain(queue, count: 2)
            #expect(stream.map(\.event.messageID) == [claimed[0].id, claimed[1].id], "only the changes that took effect")
            let payload = try JSONValue.parse(Data(try #require(stream.first).event.payload.utf8))
            guard case .object(let fields) = payload else { throw TestFailure("payload is not an object") }
            #expect(fields["type"] == .string("message.sent") && fields["key"] == .string("e-0")
                    && fields["campaign"] == .string("spring") && fields["channel"] == .string("webhook")
                    && fields["template"] == .string("t") && fields["recipient"] == .string("hook")
                    && fields["remote_id"] == .string("r-\(claimed[0].id)") && fields["message_id"] == .integer(claimed[0].id))
            #expect(fields["id"] == .string(stream[0].event.id) && stream[0].event.id.hasPrefix("evt_"))
            #expect(try await queue.events(after: stream[1].cursor, matching: EventFilter(), limit: 10).isEmpty)
            #expect(try await queue.events(after: .start, matching: EventFilter(messageID: claimed[1].id), limit: 10)
                .map(\.event.messageID) == [claimed[1].id])
            #expect(try await queue.events(after: .start, matching: EventFilter(types: [.messageFailed]), limit: 10).isEmpty)
        }
    }

    @Test("suppress, unsuppress and cancel write their events only when the change happened", arguments: QueueEngine.allCases)
    func operatorEvents(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            let lead = try Address("lead@example.com", channel: .email)
            try await queue.suppress([Suppression(lead, reason: .unsubscribed)], reporting: Self.log, how: .oneClick)
            #expect(try await queue.unsuppress(lead, reporting: Self.log, how: .operator))
            #expect(try await !queue.unsuppress(lead, reporting: Self.log, how: .operator), "nothing left to lift")
            // "busy" is due first, so the claim takes it: being delivered, it cannot be canceled.
            _ = try await queue.enqueue([Self.webhook("busy", at: now - 1_000), Self.webhook("waiting", at: now)], now: now)
            let claimed = try await queue.claim(limit: 1, owner: Self.owner, lease: .seconds(60), channels: [.webhook], now: now)
            try #require(claimed.messages.map(\.key) == ["busy"])
            #expect(try await queue.cancel("busy", reporting: Self.log) == .refused(.leased))
            guard case .done = try await queue.cancel("waiting", reporting: Self.log) else { throw TestFailure("waiting not canceled") }
            let stream = try await Self.drain(queue, count: 3)
            #expect(stream.map(\.event.type) == [.recipientUnsubscribed, .recipientResubscribed, .messageCanceled],
                    "one event per change that happened, none for the refused ones")
            #expect(stream[0].event.payload.contains(#""how":"one_click""#))
            #expect(stream[1].event.payload.contains(#""how":"operator""#))
            #expect(stream[2].event.payload.contains(#""key":"waiting""#))
        }
    }

    @Test("a reader paging on with its cursor while four writers on two instances record gets every event exactly once, in order per writer",
          arguments: QueueEngine.allCases)
    func cursorUnderConcurrentWriters(engine: QueueEngine) async throws {
        try await engine.withQueues(2) { queues in
            let perWriter = 400
            let now = Timestamp.now()
            let finished = WritersFinished()
            async let writing: Void = {
                defer { finished.set() }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        let queue = queues[writer % 2]
                        group.addTask {
                            var sequence = 0
                            while sequence < perWriter {
                                let size = min(perWriter - sequence, Int.random(in: 1...9))
                                let batch = (sequence..<sequence + size).compactMap { n in
                                    Self.log.event(.emailOpened, about: EventSubject(
                                        messageID: Int64(writer * 100_000 + n), key: nil, campaign: nil, channel: .email,
                                        template: nil, recipient: "w\(writer)@example.com"), at: now)
                                }
                                try await queue.record(batch)
                                sequence += size
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }()
            var seen: [StoredEvent] = []
            var cursor = EventCursor.start
            var pagesDuringWrites = 0
            // Once the writers are done, read on until all is read: PostgreSQL shows an event only
            // once every older transaction on the server has ended (other tests share it).
            var deadline: ContinuousClock.Instant?
            while seen.count < 4 * perWriter {
                let done = finished.value
                if done, deadline == nil { deadline = .now + .seconds(20) }
                if let deadline, ContinuousClock.now > deadline { break }
                let page = try await queues[1].events(after: cursor, matching: EventFilter(), limit: 37)
                if let last = page.last {
                    #expect(last.cursor > cursor, "the cursor only moves forward")
                    cursor = last.cursor
                    seen += page
                    if !done { pagesDuringWrites += 1 }
                } else if done {
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            #expect(try await queues[1].events(after: cursor, matching: EventFilter(), limit: 37).isEmpty, "nothing more")
            try await writing
            #expect(pagesDuringWrites > 0, "the reader paged while the writers wrote")
            let ids = seen.compactMap(\.event.messageID)
            #expect(ids.count == 4 * perWriter, "every event read: \(ids.count)")
            var once = Set<Int64>()
            let repeated = seen.filter { !once.insert($0.event.messageID ?? -1).inserted }
            if let first = repeated.first, let at = seen.firstIndex(of: first) {
                let second = seen.lastIndex(of: first)!
                Issue.record("read twice: \(first.event.messageID ?? -1) at \(first.cursor); first read among \(seen[max(0, at - 3)...min(seen.count - 1, at + 3)].map { "\($0.cursor)" }), again among \(seen[max(0, second - 3)...min(seen.count - 1, second + 3)].map { "\($0.cursor)" })")
            }
            for writer in 0..<4 {
                let own = ids.filter { $0 / 100_000 == writer }
                let late = zip(own, own.dropFirst()).first { $0 > $1 }
                #expect(late == nil, "writer \(writer)'s events out of order: \(late.map { "\($0) before \($1)" } ?? "")")
            }
        }
    }

    @Test("one process holds the push at a time; another takes it once the lease lapses, and the first can no longer move it",
          arguments: QueueEngine.allCases)
    func pushLease(engine: QueueEngine) async throws {
        try await engine.withQueues(2) { queues in
            let now = Timestamp.now()
            let first = try await queues[0].takePush("crm", owner: Self.owner, lease: .seconds(30), now: now)
            #expect(first == EventCursor.start)
            let refused = try await queues[1].takePush("crm", owner: Self.other, lease: .seconds(30), now: now + 1_000)
            #expect(refused == nil, "held by the first")
            let renewed = try await queues[0].takePush("crm", owner: Self.owner, lease: .seconds(30), now: now + 2_000)
            #expect(renewed == EventCursor.start, "the holder renews")
            let moved = EventCursor(transaction: engine == .postgres ? 7 : 0, position: 12)
            #expect(try await queues[0].advancePush("crm", to: moved, owner: Self.owner))
            let takenOver = try await queues[1].takePush("crm", owner: Self.other, lease: .seconds(30), now: now + 32_001)
            #expect(takenOver == moved, "taken over where the first left it")
            #expect(try await !queues[0].advancePush("crm", to: EventCursor(position: 99), owner: Self.owner))
            let stands = try await queues[1].pushCursor("crm")
            #expect(stands == moved)
            let unused = try await queues[1].pushCursor("never-used")
            #expect(unused == EventCursor.start)
        }
    }

    @Test("the backlog counts what waits after a cursor; retention removes events older than its cutoff",
          arguments: QueueEngine.allCases)
    func backlogAndRetention(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            let subject = EventSubject(messageID: 1, key: nil, campaign: nil, channel: .email, template: nil, recipient: "a@example.com")
            try await queue.record([Self.log.event(.emailOpened, about: subject, at: now - 10_000)!])
            try await queue.record((0..<4).map { Self.log.event(.emailClicked, about: subject, at: now + Int64($0))! })
            let stream = try await Self.drain(queue, count: 5)
            try #require(stream.count == 5)
            #expect(try await queue.eventBacklog(after: .start) == EventBacklog(count: 5, oldest: now - 10_000))
            #expect(try await queue.eventBacklog(after: stream[2].cursor) == EventBacklog(count: 2, oldest: now + 2))
            #expect(try await queue.eventBacklog(after: stream[4].cursor) == EventBacklog(count: 0, oldest: nil))
            #expect(try await queue.pruneEvents(before: now, limit: 100, dryRun: true) == 1)
            #expect(try await queue.pruneEvents(before: now, limit: 100, dryRun: false) == 1)
            #expect(try await Self.drain(queue, count: 4).map(\.event.type) == Array(repeating: .emailClicked, count: 4))
        }
    }
}
