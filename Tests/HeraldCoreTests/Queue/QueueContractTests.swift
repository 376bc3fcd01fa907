import Foundation
import Testing
@testable import HeraldCore

/// The queue's behaviour, one suite run against both engines: the embedded SQLite file and a real
/// PostgreSQL server. Where an engine must hold up under concurrent writers, the test makes
/// several queue instances over one store (as several processes or hosts would) and races them.
@Suite("Queue contract")
struct QueueContractTests {
    static let owner = LeaseOwner(host: "host-a", pid: 4242, nonce: "a")
    static let other = LeaseOwner(host: "host-b", pid: 4343, nonce: "b")

    static func webhook(_ key: String?, at sendAt: Int64, endpoint: String = "hook") -> NewMessage {
        NewMessage(key: key, channel: .webhook, template: "t", recipient: Recipient(endpoint: endpoint), sendAt: sendAt)
    }

    static func sent(_ message: ClaimedMessage, at now: Int64, by owner: LeaseOwner = owner) -> Settlement {
        .sent(DeliveryAttempt(messageID: message.id, number: message.attempt, startedAt: now, durationMicroseconds: 10,
                              worker: "\(owner)", outcome: .sent, remoteCode: "200"))
    }

    @Test("enqueue is idempotent by key, within a batch and across batches; messages without a key are always new",
          arguments: QueueEngine.allCases)
    func idempotentEnqueue(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            let batch = (0..<1_000).map { Self.webhook("k-\($0)", at: now) } + [Self.webhook("k-7", at: now)]
            let first = try await queue.enqueue(batch, now: now)
            #expect(first.count == 1_001)
            let queuedIDs = first.compactMap { if case .queued(let id) = $0 { id } else { nil } }
            #expect(queuedIDs.count == 1_000 && Set(queuedIDs).count == 1_000)
            #expect(first.last == .duplicate(id: queuedIDs[7]), "a key repeated in one batch names the first one's id")
            let again = try await queue.enqueue([Self.webhook("k-3", at: now), Self.webhook(nil, at: now), Self.webhook(nil, at: now)],
                                                now: now)
            #expect(again[0] == .duplicate(id: queuedIDs[3]))
            #expect(again.dropFirst().allSatisfy { if case .queued = $0 { true } else { false } })
            #expect(try await queue.status(now: now).count(state: .queued) == 1_002)
        }
    }

    @Test("claims from several instances at once never hand one message out twice, and every message is handed out",
          arguments: QueueEngine.allCases)
    func claimExclusivity(engine: QueueEngine) async throws {
        try await engine.withQueues(2) { queues in
            let now = Timestamp.now()
            for chunk in stride(from: 0, to: 3_000, by: 500) {
                _ = try await queues[0].enqueue((chunk..<chunk + 500).map { Self.webhook("m-\($0)", at: now) }, now: now)
            }
            let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for worker in 0..<6 {
                    let queue = queues[worker % 2]
                    let owner = LeaseOwner(host: "host-\(worker % 2)", pid: Int32(100 + worker), nonce: "w")
                    group.addTask {
                        var ids: [Int64] = []
                        while true {
                            let batch = try await queue.claim(limit: 37, owner: owner, lease: .seconds(60), channels: [.webhook])
                            if batch.messages.isEmpty { return ids }
                            ids += batch.messages.map(\.id)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(claimed.count == 3_000, "every message claimed once: \(claimed.count)")
            #expect(Set(claimed).count == claimed.count, "no message claimed twice")
            #expect(try await queues[1].status().count(state: .leased) == 3_000)
        }
    }

    @Test("an expired lease goes back to the queue and is claimed again, the attempt it was on counted",
          arguments: QueueEngine.allCases)
    func leaseExpiry(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            _ = try await queue.enqueue([Self.webhook("lease", at: now)], now: now)
            let first = try await queue.claim(limit: 5, owner: Self.other, lease: .seconds(30), channels: [.webhook], now: now)
            #expect(first.messages.map(\.attempt) == [1])
            #expect(try await queue.claim(limit: 5, owner: Self.owner, lease: .seconds(30), channels: [.webhook], now: now + 29_999)
                .messages.isEmpty, "held while the lease lasts")
            let second = try await queue.claim(limit: 5, owner: Self.owner, lease: .seconds(30), channels: [.webhook], now: now + 30_000)
            #expect(second.messages.map(\.id) == first.messages.map(\.id))
            #expect(second.messages.map(\.attempt) == [2])
            // The first holder's late outcome changes nothing: the message is the second holder's.
            let lost = try await queue.settle([Self.sent(first.messages[0], at: now + 30_001, by: Self.other)], owner: Self.other,
                                              now: now + 30_001)
            #expect(lost == [first.messages[0].id])
            #expect(try await queue.message("lease")?.state == .leased)
            #expect(try await queue.settle([Self.sent(second.messages[0], at: now + 30_002)], owner: Self.owner, now: now + 30_002).isEmpty)
            let detail = try #require(try await queue.message("lease"))
            #expect(detail.state == .sent && detail.attempts.count == 2)
        }
    }

    @Test("a lease held by a process on the claimant's own host is not taken by time (its PID decides), one of another host is",
          arguments: QueueEngine.allCases)
    func ownHostLeases(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            let neighbour = LeaseOwner(host: Self.owner.host, pid: Self.owner.pid + 1, nonce: "n")
            _ = try await queue.enqueue([Self.webhook("neighbour's", at: now)], now: now)
            let held = try await queue.claim(limit: 5, owner: neighbour, lease: .seconds(30), channels: [.webhook], now: now)
            #expect(held.messages.count == 1, "precondition: the neighbour holds the message")
            // A wall clock that stepped a minute ahead: the lease looks expired, but not to this host.
            #expect(try await queue.claim(limit: 5, owner: Self.owner, lease: .seconds(30), channels: [.webhook], now: now + 60_000)
                .messages.isEmpty, "a neighbour's lease is never taken by time")
            let taken = try await queue.claim(limit: 5, owner: Self.other, lease: .seconds(30), channels: [.webhook], now: now + 60_000)
            #expect(taken.messages.map(\.id) == held.messages.map(\.id), "another host takes it once it expired")
        }
    }

    @Test("renewing extends the leases in hand; the holder's expired leases it no longer works on go back to the queue; a settled one is not renewed",
          arguments: QueueEngine.allCases)
    func leaseRenewal(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            _ = try await queue.enqueue(["kept", "given up", "settled"].map { Self.webhook($0, at: now) }, now: now)
            let claimed = try await queue.claim(limit: 5, owner: Self.owner, lease: .seconds(30), channels: [.webhook], now: now)
            let byKey = Dictionary(uniqueKeysWithValues: claimed.messages.map { ($0.key!, $0) })
            try #require(byKey.count == 3, "precondition: all three claimed")
            #expect(try await queue.settle([Self.sent(byKey["settled"]!, at: now + 1_000)], owner: Self.owner, now: now + 1_000).isEmpty)

            // At 20 s the holder still works on "kept" (and thinks it holds "settled"): renewed to 50 s.
            let first = try await queue.renewLeases(holding: [byKey["kept"]!.id, byKey["settled"]!.id], owner: Self.owner,
                                                    lease: .seconds(30), now: now + 20_000)
            #expect(first == [byKey["kept"]!.id], "a settled message is not renewed")
            #expect(try await queue.message("given up")?.state == .leased, "not expired yet at 20 s")
            // At 40 s: "given up" expired unrenewed and goes back; another host cannot take "kept".
            #expect(try await queue.renewLeases(holding: [byKey["kept"]!.id], owner: Self.owner, lease: .seconds(30),
                                                now: now + 40_000) == [byKey["kept"]!.id])
            #expect(try await queue.message("given up")?.state == .queued)
            let taken = try await queue.claim(limit: 5, owner: Self.other, lease: .seconds(30), channels: [.webhook], now: now + 45_000)
            #expect(taken.messages.map(\.key) == ["given up"], "only the message given up is claimed again")
            #expect(taken.messages.first?.attempt == 2, "the attempt it was on stays counted")
            #expect(try await queue.message("kept")?.state == .leased)
        }
    }

    @Test("a retry is due at its time, not before; a release spends no attempt; a permanent failure ends failed with the error",
          arguments: QueueEngine.allCases)
    func retriesAndBackoff(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            _ = try await queue.enqueue([Self.webhook("flaky", at: now), Self.webhook("dropped", at: now), Self.webhook("bad", at: now)],
                                        now: now)
            let claimed = try await queue.claim(limit: 3, owner: Self.owner, lease: .seconds(60), channels: [.webhook], now: now)
            let byKey = Dictionary(uniqueKeysWithValues: claimed.messages.map { ($0.key!, $0) })
            func attempt(_ message: ClaimedMessage, _ outcome: DeliveryAttempt.Outcome, retryAt: Int64? = nil) -> DeliveryAttempt {
                DeliveryAttempt(messageID: message.id, number: message.attempt, startedAt: now, durationMicroseconds: 5,
                                worker: "\(Self.owner)", outcome: outcome, errorCode: "http_status", remoteCode: "503",
                                remoteText: "busy", retryAt: retryAt)
            }
            let lost = try await queue.settle([
                .retry(attempt(byKey["flaky"]!, .transient, retryAt: now + 30_000), lastError: "HTTP 503"),
                .release(messageID: byKey["dropped"]!.id),
                .failed(attempt(byKey["bad"]!, .permanent), lastError: "HTTP 400"),
            ], owner: Self.owner, now: now)
            #expect(lost.isEmpty)
            let early = try await queue.claim(limit: 3, owner: Self.owner, lease: .seconds(60), channels: [.webhook], now: now + 29_999)
            #expect(early.messages.map(\.key) == ["dropped"])
            #expect(early.messages.first?.attempt == 1, "a release does not spend the attempt")
            #expect(early.nextDue == now + 30_000, "the claim says when the retry is due")
            let due = try await queue.claim(limit: 3, owner: Self.owner, lease: .seconds(60), channels: [.webhook], now: now + 30_000)
            #expect(due.messages.map(\.key) == ["flaky"])
            #expect(due.messages.first?.attempt == 2)
            let bad = try #require(try await queue.message("bad"))
            #expect(bad.state == .failed && bad.lastError == "HTTP 400" && bad.lastErrorCode == "http_status")
            #expect(bad.attempts.map(\.remoteText) == ["busy"])
            #expect(try await queue.failed(FailedFilter(error: "400"), limit: 10).map(\.key) == ["bad"])
            #expect(try await queue.failedIDs(FailedFilter(channel: .email)).isEmpty)
            // An operator's retry: due now, a fresh round, the attempt numbers go on.
            guard case .done(let retried) = try await queue.retry("bad", now: now + 40_000) else {
                Issue.record("retry refused")
                return
            }
            #expect(retried.state == .queued && retried.dueAt == now + 40_000)
            let round = try await queue.claim(limit: 3, owner: Self.owner, lease: .seconds(60), channels: [.webhook], now: now + 40_000)
            #expect(round.messages.first { $0.key == "bad" }.map { ($0.attempt, $0.attemptsThisRound) } ?? (0, 0) == (2, 1))
            #expect(try await queue.cancel("bad", events: [], now: now + 40_001) == .refused(.leased), "one being delivered cannot be canceled")
        }
    }

    @Test("a suppression added after a message was enqueued stops it at dispatch, no attempt spent",
          arguments: QueueEngine.allCases)
    func suppressionRace(engine: QueueEngine) async throws {
        try await engine.withQueues(2) { queues in
            let now = Timestamp.now()
            _ = try await queues[0].enqueue([
                NewMessage(key: "gone", channel: .email, template: "t", recipient: Recipient(email: "Lead@Example.com"), sendAt: now),
                NewMessage(key: "kept", channel: .email, template: "t", recipient: Recipient(email: "other@example.com"), sendAt: now),
            ], now: now)
            try await queues[1].suppress([Suppression(try Address("lead@example.com", channel: .email), reason: .unsubscribed,
                                                      source: "unsubscribe link")], events: [], now: now)
            let screening = try await queues[0].claimScreened(limit: 10, owner: Self.owner, lease: .seconds(60), channels: [.email],
                                                              policies: PolicyConfig(), now: now)
            #expect(screening.suppressed.map(\.message.key) == ["gone"])
            #expect(screening.deliver.map(\.key) == ["kept"])
            let gone = try #require(try await queues[1].message("gone"))
            #expect(gone.state == .suppressed && gone.attemptCount == 0 && gone.lastError == "unsubscribed (unsubscribe link)")
            #expect(try await queues[1].suppressions(channel: .email, after: nil, limit: 10).map(\.address.value) == ["lead@example.com"])
            #expect(try await queues[0].unsuppress(try Address("LEAD@example.com", channel: .email)))
            #expect(try await queues[0].suppression(of: try Address("lead@example.com", channel: .email)) == nil)
        }
    }

    @Test("quiet hours defer a message to the window's opening, spending no attempt", arguments: QueueEngine.allCases)
    func quietHoursDeferral(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            // 03:00 UTC on a Wednesday; sending allowed from 08:00 to 21:00 every day.
            let now = Timestamp.milliseconds(ISO8601DateFormatter().date(from: "2026-12-02T03:00:00Z")!)
            var policies = PolicyConfig()
            policies.quietHours = [QuietHours(start: 8 * 60, end: 21 * 60)]
            policies.jitter = .zero
            _ = try await queue.enqueue([Self.webhook("night", at: now)], now: now)
            let screening = try await queue.claimScreened(limit: 5, owner: Self.owner, lease: .seconds(60), channels: [.webhook],
                                                          policies: policies, now: now)
            let opening = now + 5 * 3_600_000
            #expect(screening.deferred.map(\.deferral) == [Deferral(reason: .quietHours, until: opening)])
            let waiting = try #require(try await queue.message("night"))
            #expect(waiting.state == .queued && waiting.dueAt == opening && waiting.attemptCount == 0)
            #expect(try await queue.status(now: now).deferred == [QueueStatus.ReasonCount(reason: "quiet_hours", count: 1)])
            let morning = try await queue.claimScreened(limit: 5, owner: Self.owner, lease: .seconds(60), channels: [.webhook],
                                                        policies: policies, now: opening)
            #expect(morning.deliver.map(\.key) == ["night"])
        }
    }

    @Test("two instances racing 200 marketing messages to 20 leads under a 3-per-7-days cap deliver exactly 60, 3 per lead",
          arguments: QueueEngine.allCases)
    func frequencyCaps(engine: QueueEngine) async throws {
        try await engine.withQueues(2) { queues in
            let now = Timestamp.now()
            var capped = PolicyConfig()
            capped.frequencyCaps = [FrequencyCap(category: .marketing, max: 3, window: 7 * 86_400_000)]
            let policies = capped
            _ = try await queues[0].enqueue((0..<200).map { index in
                NewMessage(key: "cap-\(index)", channel: .email, template: "t",
                           recipient: Recipient(email: "lead\(index % 20)@example.com"), sendAt: now)
            }, now: now)
            let delivered = try await withThrowingTaskGroup(of: [ClaimedMessage].self) { group in
                for worker in 0..<4 {
                    let queue = queues[worker % 2]
                    let owner = LeaseOwner(host: "host-\(worker % 2)", pid: Int32(200 + worker), nonce: "c")
                    group.addTask {
                        var delivered: [ClaimedMessage] = []
                        while true {
                            let screening = try await queue.claimScreened(limit: 7, owner: owner, lease: .seconds(60), channels: [.email],
                                                                          policies: policies, now: now)
                            if screening.count == 0 { return delivered }
                            delivered += screening.deliver
                            try await queue.settle(screening.deliver.map { Self.sent($0, at: now, by: owner) }, owner: owner, now: now)
                        }
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(delivered.count == 60)
            let perLead = Dictionary(grouping: delivered, by: { $0.recipient.email! }).mapValues(\.count)
            #expect(perLead.count == 20 && perLead.values.allSatisfy { $0 == 3 }, "\(perLead)")
            #expect(try await queues[1].status(now: now).deferred == [QueueStatus.ReasonCount(reason: "frequency_cap", count: 140)])
        }
    }

    @Test("a 100/s rate limit's admissions from two instances at once, judged on the engine's clock: no 1 s window holds more than 100",
          arguments: QueueEngine.allCases)
    func rateLimits(engine: QueueEngine) async throws {
        try await engine.withQueues(2) { queues in
            let limits = [RateLimitKey(key: "channel:webhook", rate: RateLimit.parse("100/s")!)]
            let admitted = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for worker in 0..<4 {
                    let queue = queues[worker % 2]
                    group.addTask {
                        var times: [Int64] = []
                        while times.count < 40 {
                            switch try await queue.admit(limits) {
                            case .admitted(let at):
                                times.append(at)
                            case .wait(let until):
                                try await Task.sleep(for: .milliseconds(max(1, until - Timestamp.now())))
                            }
                        }
                        return times
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            let times = admitted.sorted()
            #expect(times.count == 160, "precondition: every send was admitted in the end")
            var busiest = 0
            for (index, start) in times.enumerated() {
                busiest = max(busiest, times[index...].prefix { $0 < start + 1_000 }.count)
            }
            #expect(busiest <= 100, "busiest 1 s window: \(busiest)")
            let gaps = zip(times, times.dropFirst()).map { $1 - $0 }
            #expect(gaps.allSatisfy { $0 >= 10 }, "sends at least 10 ms apart by the engine's clock: \(gaps.filter { $0 < 10 })")
        }
    }

    @Test("retention removes finished messages older than their period with their attempts; queued and recent ones stay",
          arguments: QueueEngine.allCases)
    func retention(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            let old = now - 40 * 86_400_000
            _ = try await queue.enqueue((0..<30).map { Self.webhook("old-\($0)", at: old) } + [Self.webhook("waiting", at: now + 3_600_000)],
                                        now: old)
            let claimed = try await queue.claim(limit: 30, owner: Self.owner, lease: .seconds(60), channels: [.webhook], now: old)
            try await queue.settle(claimed.messages.map { Self.sent($0, at: old) }, owner: Self.owner, now: old)
            _ = try await queue.enqueue([Self.webhook("recent", at: now)], now: now)
            let recent = try await queue.claim(limit: 1, owner: Self.owner, lease: .seconds(60), channels: [.webhook], now: now)
            try await queue.settle(recent.messages.map { Self.sent($0, at: now) }, owner: Self.owner, now: now)
            let retention = Retention(sent: .seconds(30 * 86_400), failed: nil)
            let counted = try await queue.prune(retention, now: now, dryRun: true)
            #expect(counted.messages["sent"] == 30 && counted.messageCount == 30 && counted.attempts == 30)
            #expect(try await queue.status(now: now).count(state: .sent) == 31, "a dry run removes nothing")
            let removed = try await queue.prune(retention, now: now, pause: .zero)
            #expect(removed == counted)
            let status = try await queue.status(now: now)
            #expect(status.count(state: .sent) == 1 && status.count(state: .queued) == 1)
            #expect(try await queue.message("old-3") == nil)
            #expect(try await queue.message("recent")?.attempts.count == 1)
        }
    }

    @Test("letters placed from two instances at once, each delivered twice: every letter in exactly one batch, once",
          arguments: QueueEngine.allCases)
    func letterBatches(engine: QueueEngine) async throws {
        try await engine.withQueues(2) { queues in
            let placements = try await withThrowingTaskGroup(of: [LetterPlacement].self) { group in
                for queue in queues {
                    group.addTask {
                        var placed: [LetterPlacement] = []
                        for id in Int64(1)...100 {
                            let letter = Letter(messageID: id, key: "letter-\(id)", name: "Lead \(id)",
                                                address: PostalAddress(line1: "1 Elm St", city: "Springfield", postalCode: "62701",
                                                                       country: "US"),
                                                campaign: "offer", format: .text, body: "Dear Lead \(id)")
                            placed.append(try await queue.place(letter, batchSize: 30, now: Timestamp.now()))
                        }
                        return placed
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(placements.filter(\.alreadyPlaced).count == 100, "each letter's second delivery found its place")
            #expect(placements.filter(\.filledBatch).count == 3, "three batches of 30 filled")
            let batches = try await queues[0].letterBatches(limit: 10)
            #expect(batches.map(\.letters).sorted() == [10, 30, 30, 30])
            var seen: [Int64] = []
            for batch in batches {
                let letters = try await queues[1].letters(inBatch: batch.id)
                #expect(letters.count == batch.letters)
                seen += letters.map(\.messageID)
            }
            #expect(seen.sorted() == Array(1...100), "every letter exactly once")
            let closing = try await queues[1].beginClosing(openedBefore: nil, now: Timestamp.now())
            #expect(closing.count == 4, "the three full batches and the open one")
            try await queues[0].markClosed(closing[0].id, sha256: "abc", bytes: 10, uploadPending: true, now: Timestamp.now())
            #expect(try await queues[1].uploadsDue(now: Timestamp.now() + 1).map(\.id) == [closing[0].id])
            try await queues[1].recordUpload(closing[0].id, error: "HTTP 500", retryAt: nil)
            #expect(try await queues[0].letterBatch(named: closing[0].name)?.uploadState == .failed)
            #expect(try await queues[0].retryUpload(named: closing[0].name, now: Timestamp.now()))
        }
    }

    @Test("a dropped file's batches: its record is one for every instance, each batch moves its position with its messages, rejections kept in order",
          arguments: QueueEngine.allCases)
    func dropFolderExactlyOnce(engine: QueueEngine) async throws {
        try await engine.withQueues(2) { queues in
            let now = Timestamp.now()
            let records = try await withThrowingTaskGroup(of: IntakeFile.self) { group in
                for queue in queues {
                    group.addTask { try await queue.intakeFile(name: "leads.ndjson", identity: "8:42:1000:1.5", now: now) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(records.map(\.id)).count == 1, "one record whoever asks first")
            let file = records[0].id
            let rejection = IntakeFileRejection(position: 3, field: "to.phone", reason: "not E.164", input: "{\"to\":{}}")
            let first = try await queues[0].record(IntakeBatch(file: file, through: 500,
                                                               messages: (1...499).map { Self.webhook("f-\($0)", at: now) },
                                                               rejections: [rejection]), now: now)
            #expect(first.count == 499)
            // After a crash the reader resumes after the recorded position; a line read again is
            // a duplicate by its key, never a second message.
            let resumed = try await queues[1].intakeFile(name: "leads.ndjson", identity: "8:42:1000:1.5", now: now)
            #expect(resumed.position == 500 && resumed.queued == 499 && resumed.rejected == 1)
            let second = try await queues[1].record(IntakeBatch(file: file, through: 600,
                                                                messages: [Self.webhook("f-499", at: now), Self.webhook("f-600", at: now)],
                                                                rejections: []), now: now)
            #expect(second.map { if case .queued = $0 { "queued" } else { "duplicate" } } == ["duplicate", "queued"])
            let after = try await queues[0].intakeFile(name: "leads.ndjson", identity: "8:42:1000:1.5", now: now)
            #expect(after.position == 600 && after.queued == 500 && after.duplicates == 1 && after.state == .reading)
            #expect(try await queues[1].intakeRejections(file: file) == [rejection])
            try await queues[0].markIntakeFile(file, .archived, now: now)
            #expect(try await queues[1].intakeFile(name: "leads.ndjson", identity: "8:42:1000:1.5", now: now).state == .archived)
            #expect(try await queues[1].status(now: now).count(state: .queued) == 500)
        }
    }
}
