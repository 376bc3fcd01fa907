import Foundation
import GRDB

extension SQLiteQueue {
    /// One transaction. The state is checked in the transaction that deletes, so a message an
    /// operator just retried is not removed. Contacts stay: frequency caps count them for as long
    /// as their windows say, which may be longer than the retention (the dispatcher prunes them).
    public func prune(_ request: PruneRequest) async throws -> PruneBatch {
        let work = { @Sendable (db: Database) throws -> PruneBatch in
            let ids = try Int64.fetchAll(db, sql: """
                SELECT id FROM messages INDEXED BY messages_state_channel
                WHERE state = ? AND channel = ? AND id > ? AND id < ? AND updated_at < ?
                ORDER BY id LIMIT ?
                """, arguments: [request.state.rawValue, request.channel.rawValue, request.after, request.before,
                                 request.cutoff, request.limit])
            guard let last = ids.last else { return PruneBatch() }
            let list = "[" + ids.map(String.init).joined(separator: ",") + "]"
            let selected = "SELECT value FROM json_each(?)"
            if request.dryRun {
                let attempts = try Int.fetchOne(db, sql: "SELECT count(*) FROM attempts WHERE message_id IN (\(selected))",
                                                arguments: [list]) ?? 0
                return PruneBatch(messages: ids.count, attempts: attempts, lastID: last)
            }
            try db.execute(sql: "DELETE FROM attempts WHERE message_id IN (\(selected))", arguments: [list])
            let attempts = db.changesCount
            try db.execute(sql: "DELETE FROM messages WHERE id IN (\(selected))", arguments: [list])
            return PruneBatch(messages: db.changesCount, attempts: attempts, lastID: last)
        }
        return request.dryRun ? try await read(work) : try await write(work)
    }

    /// A binary search over ids, each probe one index lookup.
    public func idHorizon(createdBefore cutoff: Int64) async throws -> Int64 {
        try await read { db in
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
    }

    /// Letters of batches closed before `cutoff` whose files are where they were going (no
    /// upload, or uploaded), a batch per transaction; then archived drop-folder files (their
    /// rejections cascade).
    public func pruneLettersAndIntake(before cutoff: Int64, dryRun: Bool, pause: Duration) async throws
        -> (letters: Int, intakeFiles: Int)
    {
        let batches = try await read { db in
            try Int64.fetchAll(db, sql: """
                SELECT id FROM letter_batches b
                WHERE state = 'closed' AND closed_at < ? AND coalesce(upload_state, 'uploaded') = 'uploaded'
                  AND EXISTS (SELECT 1 FROM letters WHERE batch_id = b.id)
                ORDER BY id
                """, arguments: [cutoff])
        }
        var letters = 0
        for batch in batches {
            if dryRun {
                letters += try await read { db in
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM letters WHERE batch_id = ?", arguments: [batch]) ?? 0
                }
                continue
            }
            letters += try await write { db in
                try db.execute(sql: "DELETE FROM letters WHERE batch_id = ?", arguments: [batch])
                return db.changesCount
            }
            try await Task.sleep(for: pause)
        }
        let archived = "FROM intake_files WHERE state = 'archived' AND finished_at < ?"
        let intakeFiles = dryRun
            ? try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) \(archived)", arguments: [cutoff]) ?? 0 }
            : try await write { db in
                try db.execute(sql: "DELETE \(archived)", arguments: [cutoff])
                return db.changesCount
            }
        return (letters, intakeFiles)
    }
}
