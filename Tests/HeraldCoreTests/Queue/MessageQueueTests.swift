import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// The queue on a real SQLite file.
@Suite("Queue")
struct MessageQueueTests {
    let owner = LeaseOwner(host: "test-host", pid: 4242, nonce: "a")

    func message(_ key: String?, sendAt: Int64 = 0) -> NewMessage {
        NewMessage(key: key, channel: .webhook, template: "t", recipient: Recipient(endpoint: "e"), sendAt: sendAt)
    }

    @Test("enqueuing the same 1,000 keys twice leaves 1,000 messages")
    func idempotency() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let batch = (0..<1_000).map { message("lead-\($0)") }
        let first = try await queue.enqueue(batch)
        let second = try await queue.enqueue(batch)
        #expect(first.count == 1_000 && second.count == 1_000)
        #expect(first.allSatisfy { if case .queued = $0 { true } else { false } })
        #expect(second.allSatisfy { if case .duplicate = $0 { true } else { false } })
        #expect(zip(first, second).allSatisfy { pair in
            if case .queued(let a) = pair.0, case .duplicate(let b) = pair.1 { a == b } else { false }
        })
        #expect(try await queue.status().count(state: .queued) == 1_000)
        // Without a key, every enqueue is new.
        _ = try await queue.enqueue([message(nil), message(nil)])
        #expect(try await queue.status().count(state: .queued) == 1_002)
    }

    @Test("claims only due messages, oldest first, and never the same one twice")
    func claimOrderAndExclusivity() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let now = Timestamp.now()
        _ = try await queue.enqueue([message("late", sendAt: now - 10), message("early", sendAt: now - 1_000),
                               message("future", sendAt: now + 60_000)])
        let claimed = try await queue.claim(limit: 10, owner: owner, lease: .seconds(30), channels: [.webhook], now: now).messages
        #expect(claimed.map(\.key) == ["early", "late"])
        #expect(claimed.allSatisfy { $0.attempt == 1 })
        let again = try await queue.claim(limit: 10, owner: owner, lease: .seconds(30), channels: [.webhook], now: now).messages
        #expect(again.isEmpty)
        // Channels without an adapter stay queued.
        #expect(try await queue.claim(limit: 10, owner: owner, lease: .seconds(30), channels: [.email], now: now + 120_000).messages.isEmpty)
    }

    @Test("concurrent claims from two connections to one file never share a message")
    func concurrentClaimsAcrossConnections() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("q.sqlite").path
        let first = try SQLiteQueue(path: path)
        let second = try SQLiteQueue(path: path)
        _ = try await first.enqueue((0..<2_000).map { message("m-\($0)") })
        let owners = [LeaseOwner(host: "h", pid: 1, nonce: "x"), LeaseOwner(host: "h", pid: 2, nonce: "y")]
        let claimed = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for (queue, owner) in [(first, owners[0]), (second, owners[1])] {
                group.addTask {
                    var ids: [Int64] = []
                    while true {
                        let batch = try await queue.claim(limit: 37, owner: owner, lease: .seconds(60), channels: [.webhook]).messages
                        if batch.isEmpty { return ids }
                        ids += batch.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
        }
        let all = claimed.flatMap { $0 }
        #expect(all.count == 2_000)
        #expect(Set(all).count == 2_000)
        #expect(claimed.allSatisfy { !$0.isEmpty })
    }

    @Test("an expired lease is taken again by anyone; the late settlement does not undo it")
    func expiredLease() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let now = Timestamp.now()
        _ = try await queue.enqueue([message("m", sendAt: now)])
        let dead = LeaseOwner(host: "other-host", pid: 1, nonce: "z")
        let first = try await queue.claim(limit: 1, owner: dead, lease: .seconds(30), channels: [.webhook], now: now).messages
        #expect(first.count == 1)
        #expect(try await queue.claim(limit: 1, owner: owner, lease: .seconds(30), channels: [.webhook], now: now + 29_000).messages.isEmpty)
        let second = try await queue.claim(limit: 1, owner: owner, lease: .seconds(30), channels: [.webhook], now: now + 30_000).messages
        #expect(second.map(\.id) == first.map(\.id))
        #expect(second.first?.attempt == 2)
        let attempt = DeliveryAttempt(messageID: first[0].id, number: 1, startedAt: now, durationMicroseconds: 1,
                                      worker: dead.description, outcome: .sent)
        let lost = try await queue.settle([.sent(attempt)], owner: dead)
        #expect(lost == [first[0].id])
        #expect(try await queue.status().count(state: .leased) == 1)
    }

    @Test("leases of a dead process on this host are taken back at once")
    func deadOwnerOnThisHost() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        _ = try await queue.enqueue([message("a"), message("b")])
        let me = LeaseOwner.current()
        // A PID that cannot be alive: above the kernel's pid_max.
        let dead = LeaseOwner(host: me.host, pid: 4_194_304 + 1, nonce: "gone")
        let alive = LeaseOwner(host: me.host, pid: getppid(), nonce: "parent")
        #expect(try await queue.claim(limit: 1, owner: dead, lease: .seconds(600), channels: [.webhook]).messages.count == 1)
        #expect(try await queue.claim(limit: 1, owner: alive, lease: .seconds(600), channels: [.webhook]).messages.count == 1)
        #expect(try await queue.releaseLeasesOfDeadOwners(current: me) == 1)
        #expect(try await queue.status().count(state: .queued) == 1)
        #expect(try await queue.status().count(state: .leased) == 1)
    }

    @Test("claiming walks the due index, not the table")
    func claimUsesIndex() throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let plan = try queue.readNow { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteQueue.claimSQL(channelCount: 2),
                             arguments: ["o", 0, 0, 0, "webhook", "email", 100]).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("USING INDEX messages_due") }, "\(plan)")
        #expect(!plan.contains { $0.contains("TEMP B-TREE") }, "\(plan)")
    }
}
