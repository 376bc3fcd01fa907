import GRDB

extension SQLiteQueue {
    public func status(now: Int64) async throws -> QueueStatus {
        try await read { db in try Self.status(now: now, db: db) }
    }

    static func status(now: Int64, db: Database) throws -> QueueStatus {
            let counts = try Row.fetchAll(db, sql: """
                SELECT state, channel, count(*) AS n FROM messages GROUP BY state, channel ORDER BY state, channel
                """).map { QueueStatus.Count(state: $0["state"], channel: $0["channel"], count: $0["n"]) }
            let dueRows = try Row.fetchAll(db, sql: """
                SELECT channel, count(*) AS n, min(due_at) AS oldest FROM messages INDEXED BY messages_due
                WHERE state = 'queued' AND due_at <= ? GROUP BY channel ORDER BY channel
                """, arguments: [now])
            let dueNow = dueRows.map { QueueStatus.ChannelCount(channel: $0["channel"], count: $0["n"]) }
            let oldestByChannel = Dictionary(uniqueKeysWithValues: dueRows.map { ($0["channel"] as String, $0["oldest"] as Int64) })
            let deferred = try Row.fetchAll(db, sql: """
                SELECT deferred, count(*) AS n FROM messages INDEXED BY messages_deferred
                WHERE deferred IS NOT NULL AND state = 'queued' GROUP BY deferred ORDER BY deferred
                """).map { QueueStatus.ReasonCount(reason: $0["deferred"], count: $0["n"]) }
            let oldestDue = try Int64.fetchOne(db, sql: """
                SELECT due_at FROM messages INDEXED BY messages_due WHERE state = 'queued' AND due_at <= ? ORDER BY due_at LIMIT 1
                """, arguments: [now])
            let nextDue = try Int64.fetchOne(db, sql: """
                SELECT due_at FROM messages INDEXED BY messages_due WHERE state = 'queued' AND due_at > ? ORDER BY due_at LIMIT 1
                """, arguments: [now])
            let recent = try Row.fetchOne(db, sql: """
                SELECT sum(outcome = 'sent' AND started_at >= ?) AS minute,
                       sum(outcome = 'sent') AS hour,
                       sum(outcome != 'sent') AS errors
                FROM attempts WHERE started_at >= ?
                """, arguments: [now - 60_000, now - 3_600_000])
            return QueueStatus(
                counts: counts, deferred: deferred, dueNow: dueNow, oldestDueAt: oldestDue,
                oldestDueByChannel: oldestByChannel, nextDueAt: nextDue,
                sentLastMinute: recent?["minute"] ?? 0, sentLastHour: recent?["hour"] ?? 0,
                errorsLastHour: recent?["errors"] ?? 0, takenAt: now)
    }
}
