import PostgresNIO

extension PostgresQueue {
    /// One statement each way: the ids are chosen and their attempts and rows deleted together.
    public func prune(_ request: PruneRequest) async throws -> PruneBatch {
        if request.dryRun {
            let row = try await rows("""
                WITH batch AS (
                    SELECT id FROM messages
                    WHERE state = \(request.state.rawValue) AND channel = \(request.channel.rawValue) AND id > \(request.after)
                      AND id < \(request.before) AND updated_at < \(request.cutoff)
                    ORDER BY id LIMIT \(request.limit))
                SELECT (SELECT count(*) FROM batch) AS messages, (SELECT max(id) FROM batch) AS last_id,
                       (SELECT count(*) FROM attempts WHERE message_id IN (SELECT id FROM batch)) AS attempts
                """)[0]
            return PruneBatch(messages: try row.get("messages"), attempts: try row.get("attempts"), lastID: try row.get("last_id"))
        }
        // The state is checked in the statement that deletes, so a message an operator just
        // retried is not removed.
        let row = try await rows("""
            WITH batch AS (
                SELECT id FROM messages
                WHERE state = \(request.state.rawValue) AND channel = \(request.channel.rawValue) AND id > \(request.after)
                  AND id < \(request.before) AND updated_at < \(request.cutoff)
                ORDER BY id LIMIT \(request.limit)
                FOR UPDATE SKIP LOCKED
            ), gone_attempts AS (
                DELETE FROM attempts WHERE message_id IN (SELECT id FROM batch) RETURNING 1
            ), gone AS (
                DELETE FROM messages WHERE id IN (SELECT id FROM batch) RETURNING id
            )
            SELECT (SELECT count(*) FROM gone) AS messages, (SELECT max(id) FROM batch) AS last_id,
                   (SELECT count(*) FROM gone_attempts) AS attempts
            """)[0]
        return PruneBatch(messages: try row.get("messages"), attempts: try row.get("attempts"), lastID: try row.get("last_id"))
    }

    public func idHorizon(createdBefore cutoff: Int64) async throws -> Int64 {
        guard let maxID = try await value("SELECT max(id) FROM messages", as: Int64?.self) ?? nil else { return 0 }
        var low: Int64 = 0
        var high = maxID + 1
        while low < high {
            let middle = low + (high - low) / 2
            guard let row = try await rows("SELECT id, created_at FROM messages WHERE id >= \(middle) ORDER BY id LIMIT 1").first
            else { high = middle; continue }
            if try row.get("created_at", as: Int64.self) < cutoff { low = try row.get("id", as: Int64.self) + 1 } else { high = middle }
        }
        return low
    }

    public func pruneLettersAndIntake(before cutoff: Int64, dryRun: Bool, pause: Duration) async throws
        -> (letters: Int, intakeFiles: Int)
    {
        let batches = try await rows("""
            SELECT id FROM letter_batches b
            WHERE state = 'closed' AND closed_at < \(cutoff) AND coalesce(upload_state, 'uploaded') = 'uploaded'
              AND EXISTS (SELECT 1 FROM letters WHERE batch_id = b.id)
            ORDER BY id
            """).map { try $0.get("id", as: Int64.self) }
        var letters = 0
        for batch in batches {
            if dryRun {
                letters += try await value("SELECT count(*) FROM letters WHERE batch_id = \(batch)", as: Int.self) ?? 0
                continue
            }
            letters += try await rows("DELETE FROM letters WHERE batch_id = \(batch) RETURNING 1").count
            try await Task.sleep(for: pause)
        }
        let intakeFiles = dryRun
            ? try await value("SELECT count(*) FROM intake_files WHERE state = 'archived' AND finished_at < \(cutoff)", as: Int.self) ?? 0
            : try await rows("DELETE FROM intake_files WHERE state = 'archived' AND finished_at < \(cutoff) RETURNING 1").count
        return (letters, intakeFiles)
    }
}
