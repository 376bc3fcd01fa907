import Foundation
import GRDB

/// What a retention sweep removed, or with `dryRun` would remove.
public struct PrunedHistory: Sendable, Equatable, Codable {
    /// Messages by final state (`sent`, `suppressed`, `canceled`, `failed`).
    public var messages: [String: Int] = [:]
    public var attempts = 0
    /// Letters of closed batches (the batch's own record stays, with its count and checksum).
    public var letters = 0
    /// Records of archived drop-folder files, with their rejected lines.
    public var intakeFiles = 0

    public init() {}

    public var messageCount: Int { messages.values.reduce(0, +) }
    public var isEmpty: Bool { messageCount == 0 && attempts == 0 && letters == 0 && intakeFiles == 0 }

    /// `1200 messages (sent 1100, failed 100), 1300 attempts, 0 letters, 2 drop-folder files`
    public var summary: String {
        let states = messages.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        return "\(messageCount) messages" + (states.isEmpty ? "" : " (\(states.joined(separator: ", ")))")
            + ", \(attempts) attempts, \(letters) letters, \(intakeFiles) drop-folder files"
    }
}

extension MessageQueue {
    /// Messages removed per transaction: small enough that a claim waiting for the writer is
    /// never held up for long, large enough that a first sweep of millions of rows ends.
    static let pruneBatch = 2_000

    /// Removes finished messages (and what hangs off them) older than `retention`, measured
    /// from when they reached their final state. Queued and leased messages are never touched,
    /// however old.
    ///
    /// - Parameters:
    ///   - dryRun: count, delete nothing.
    ///   - pause: between transactions, so claims and settlements get the writer.
    ///   - progress: called after each transaction with the totals so far.
    public func prune(_ retention: Retention, now: Int64 = Timestamp.now(), dryRun: Bool = false,
                      pause: Duration = .milliseconds(5),
                      progress: (PrunedHistory) -> Void = { _ in }) async throws -> PrunedHistory {
        var pruned = PrunedHistory()
        let groups: [(states: [MessageState], period: Duration?)] = [
            ([.sent, .suppressed, .canceled], retention.sent), ([.failed], retention.failed),
        ]
        for (states, period) in groups {
            guard let period else { continue }
            let cutoff = now - period.milliseconds
            // Message ids grow with creation time, so everything old enough has an id below the
            // first one created at the cutoff: the index scan stops there instead of walking every
            // message kept (which, in the steady state, is all of them).
            let horizon = try await read { db in try Self.idHorizon(createdBefore: cutoff, db: db) }
            for state in states {
                for channel in Channel.allCases {
                    var after: Int64 = 0
                    while true {
                        let batch = try await pruneBatch(state: state, channel: channel, after: after, before: horizon,
                                                         cutoff: cutoff, dryRun: dryRun)
                        pruned.messages[state.rawValue, default: 0] += batch.messages
                        pruned.attempts += batch.attempts
                        if batch.messages > 0 { progress(pruned) }
                        guard batch.messages == Self.pruneBatch, let last = batch.lastID else { break }
                        after = last
                        if !dryRun { try await Task.sleep(for: pause) }  // reads do not hold the writer up
                    }
                }
            }
        }
        if let period = retention.sent {
            let cutoff = now - period.milliseconds
            pruned.letters = try await pruneLetters(closedBefore: cutoff, dryRun: dryRun, pause: pause)
            let archived = "FROM intake_files WHERE state = 'archived' AND finished_at < ?"
            pruned.intakeFiles = dryRun
                ? try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) \(archived)", arguments: [cutoff]) ?? 0 }
                : try await write { db in
                    try db.execute(sql: "DELETE \(archived)", arguments: [cutoff])  // their rejections cascade
                    return db.changesCount
                }
        }
        return pruned
    }

    private struct PruneBatch: Sendable {
        var messages = 0
        var attempts = 0
        var lastID: Int64?
    }

    /// One transaction: the next batch of `state` messages on `channel` finished before `cutoff`,
    /// and their attempts. The state is checked in the transaction that deletes, so a message an
    /// operator just retried is not removed. Contacts stay: frequency caps count them for as long
    /// as their windows say, which may be longer than the retention (the dispatcher prunes them).
    private func pruneBatch(state: MessageState, channel: Channel, after: Int64, before horizon: Int64, cutoff: Int64,
                            dryRun: Bool) async throws -> PruneBatch {
        let work = { @Sendable (db: Database) throws -> PruneBatch in
            let ids = try Int64.fetchAll(db, sql: """
                SELECT id FROM messages INDEXED BY messages_state_channel
                WHERE state = ? AND channel = ? AND id > ? AND id < ? AND updated_at < ?
                ORDER BY id LIMIT ?
                """, arguments: [state.rawValue, channel.rawValue, after, horizon, cutoff, Self.pruneBatch])
            guard let last = ids.last else { return PruneBatch() }
            let list = "[" + ids.map(String.init).joined(separator: ",") + "]"
            let selected = "SELECT value FROM json_each(?)"
            if dryRun {
                let attempts = try Int.fetchOne(db, sql: "SELECT count(*) FROM attempts WHERE message_id IN (\(selected))",
                                                arguments: [list]) ?? 0
                return PruneBatch(messages: ids.count, attempts: attempts, lastID: last)
            }
            try db.execute(sql: "DELETE FROM attempts WHERE message_id IN (\(selected))", arguments: [list])
            let attempts = db.changesCount
            try db.execute(sql: "DELETE FROM messages WHERE id IN (\(selected))", arguments: [list])
            return PruneBatch(messages: db.changesCount, attempts: attempts, lastID: last)
        }
        return dryRun ? try await read(work) : try await write(work)
    }

    /// An id bound for `cutoff`: every message below it was created before the cutoff, and the
    /// first one at or above it was not (one past the last id when every message is older).
    /// A binary search over ids, each probe one index lookup.
    static func idHorizon(createdBefore cutoff: Int64, db: Database) throws -> Int64 {
        guard let maxID = try Int64.fetchOne(db, sql: "SELECT max(id) FROM messages") else { return 0 }
        var low: Int64 = 0
        var high = maxID + 1
        while low < high {
            let middle = low + (high - low) / 2
            guard let row = try Row.fetchOne(db, sql: "SELECT id, created_at FROM messages WHERE id >= ? ORDER BY id LIMIT 1",
                                             arguments: [middle]) else { high = middle; continue }
            if (row["created_at"] as Int64) < cutoff { low = (row["id"] as Int64) + 1 } else { high = middle }
        }
        return low
    }

    /// Letters of batches closed before `cutoff` whose files are where they were going (no
    /// upload, or uploaded), a batch per transaction.
    private func pruneLetters(closedBefore cutoff: Int64, dryRun: Bool, pause: Duration) async throws -> Int {
        let batches = try await read { db in
            try Int64.fetchAll(db, sql: """
                SELECT id FROM letter_batches b
                WHERE state = 'closed' AND closed_at < ? AND coalesce(upload_state, 'uploaded') = 'uploaded'
                  AND EXISTS (SELECT 1 FROM letters WHERE batch_id = b.id)
                ORDER BY id
                """, arguments: [cutoff])
        }
        var count = 0
        for batch in batches {
            if dryRun {
                count += try await read { db in
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM letters WHERE batch_id = ?", arguments: [batch]) ?? 0
                }
                continue
            }
            count += try await write { db in
                try db.execute(sql: "DELETE FROM letters WHERE batch_id = ?", arguments: [batch])
                return db.changesCount
            }
            try await Task.sleep(for: pause)
        }
        return count
    }
}
