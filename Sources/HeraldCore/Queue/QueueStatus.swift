import GRDB

/// A snapshot of the queue for `herald status`: counts by state and channel, how late the oldest
/// due message is, and recent throughput.
public struct QueueStatus: Sendable, Codable, Equatable {
    public struct Count: Sendable, Codable, Equatable {
        public var state: String
        public var channel: String
        public var count: Int
    }

    public struct ChannelCount: Sendable, Codable, Equatable {
        public var channel: String
        public var count: Int
    }

    public struct ReasonCount: Sendable, Codable, Equatable {
        public var reason: String
        public var count: Int
    }

    public var counts: [Count]
    /// Queued messages a policy put off, by reason (quiet_hours, rate_limit, frequency_cap).
    public var deferred: [ReasonCount] = []
    /// Queued messages already due, by channel: the backlog waiting for a worker.
    public var dueNow: [ChannelCount]
    /// Due time of the oldest queued message that is already due (unix ms), nil when none is.
    public var oldestDueAt: Int64?
    /// The same, by channel (channels with nothing due are absent).
    public var oldestDueByChannel: [String: Int64] = [:]
    /// Due time of the next queued message not yet due (unix ms).
    public var nextDueAt: Int64?
    /// Messages sent in the last minute and the last hour (from the attempts table).
    public var sentLastMinute: Int
    public var sentLastHour: Int
    /// Attempts that ended in an error in the last hour.
    public var errorsLastHour: Int
    /// When this snapshot was taken (unix ms).
    public var takenAt: Int64

    public func count(state: MessageState, channel: Channel? = nil) -> Int {
        counts.filter { $0.state == state.rawValue && (channel == nil || $0.channel == channel?.rawValue) }
            .reduce(0) { $0 + $1.count }
    }
}

extension MessageQueue {
    public func status(now: Int64 = Timestamp.now()) throws -> QueueStatus {
        try readNow { db in try Self.status(now: now, db: db) }
    }

    /// The async form, for the API on the cooperative pool.
    public func statusAsync(now: Int64 = Timestamp.now()) async throws -> QueueStatus {
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
