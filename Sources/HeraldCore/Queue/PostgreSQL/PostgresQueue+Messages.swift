import PostgresNIO

extension FailedFilter {
    /// The filter as a WHERE condition with `$1`… placeholders and their values.
    func postgresCondition() -> (sql: String, binds: PostgresBindings) {
        var conditions = ["state = 'failed'"]
        var binds = PostgresBindings()
        if let channel {
            binds.append(channel.rawValue)
            conditions.append("channel = $\(binds.count)")
        }
        if let campaign {
            binds.append(campaign)
            conditions.append("campaign = $\(binds.count)")
        }
        if let since {
            binds.append(since)
            conditions.append("updated_at >= $\(binds.count)")
        }
        if let error {
            // strpos on lower-cased text: LIKE would read % and _ in the operator's text as wildcards.
            binds.append(error.lowercased())
            conditions.append("(strpos(lower(coalesce(last_error, '')), $\(binds.count)) > 0 OR strpos(lower(coalesce(last_error_code, '')), $\(binds.count)) > 0)")
        }
        return (conditions.joined(separator: " AND "), binds)
    }
}

extension PostgresQueue {
    static let detailColumns = """
        id, key, channel, template, recipient, data, category, campaign, state, due_at, created_at, updated_at,
        attempts, last_error_code, last_error
        """

    public func message(_ reference: String) async throws -> MessageDetail? {
        try await message(reference, on: nil)
    }

    func message(_ reference: String, on connection: PostgresConnection?) async throws -> MessageDetail? {
        var row: PostgresRandomAccessRow?
        if let id = Int64(reference) {
            row = try await rows("SELECT \(unescaped: Self.detailColumns) FROM messages WHERE id = \(id)", on: connection).first
        }
        if row == nil {
            row = try await rows("SELECT \(unescaped: Self.detailColumns) FROM messages WHERE key = \(reference)", on: connection).first
        }
        guard let row else { return nil }
        let id: Int64 = try row.get("id")
        let attempts = try await rows("""
            SELECT message_id, number, started_at, duration_us, worker, outcome, error_code, remote_code, remote_text,
                   retry_at, remote_id
            FROM attempts WHERE message_id = \(id) ORDER BY id
            """, on: connection).map(DeliveryAttempt.init)
        return try MessageDetail(row, attempts: attempts)
    }

    public func retry(_ reference: String, now: Int64) async throws -> MessageChange {
        let change = try await change(reference, from: [.failed, .canceled]) { id, connection in
            try await self.execute("""
                UPDATE messages SET state = 'queued', due_at = \(now), retry_base = attempts, updated_at = \(now) WHERE id = \(id)
                """, on: connection)
            if self.settings.notify {
                try await self.execute("SELECT pg_notify(\(Self.arrivalsChannel), '')", on: connection)
            }
        }
        announceArrival()
        return change
    }

    public func cancel(_ reference: String, events: [Event], now: Int64) async throws -> MessageChange {
        try await change(reference, from: [.queued, .failed]) { id, connection in
            try await self.execute("UPDATE messages SET state = 'canceled', updated_at = \(now) WHERE id = \(id)", on: connection)
            try await self.record(events.filter { $0.messageID == id }, on: connection)
        }
    }

    /// Reads the message with its row locked, checks its state and changes it, in one
    /// transaction: a claim on another host cannot slip in between.
    private func change(_ reference: String, from states: Set<MessageState>,
                        _ update: @escaping @Sendable (Int64, PostgresConnection) async throws -> Void) async throws -> MessageChange {
        try await transaction { connection in
            guard let found = try await message(reference, on: connection) else { return .notFound }
            let locked = try await value("SELECT state FROM messages WHERE id = \(found.id) FOR UPDATE", as: String.self,
                                         on: connection)
            guard let state = locked.flatMap(MessageState.init(rawValue:)), states.contains(state) else {
                return .refused(MessageState(rawValue: locked ?? "") ?? found.state)
            }
            try await update(found.id, connection)
            return .done(try await message(String(found.id), on: connection)!)
        }
    }

    public func failed(_ filter: FailedFilter, limit: Int) async throws -> [MessageDetail] {
        var (condition, binds) = filter.postgresCondition()
        binds.append(limit)
        let query = PostgresQuery(unsafeSQL: """
            SELECT \(Self.detailColumns) FROM messages WHERE \(condition) ORDER BY updated_at DESC, id DESC LIMIT $\(binds.count)
            """, binds: binds)
        return try await rows(query).map { try MessageDetail($0, attempts: []) }
    }

    public func failedIDs(_ filter: FailedFilter) async throws -> [Int64] {
        let (condition, binds) = filter.postgresCondition()
        return try await rows(PostgresQuery(unsafeSQL: "SELECT id FROM messages WHERE \(condition) ORDER BY id", binds: binds))
            .map { try $0.get("id") }
    }

    public func status(now: Int64) async throws -> QueueStatus {
        let counts = try await rows("""
            SELECT state, channel, count(*) AS n FROM messages GROUP BY state, channel ORDER BY state, channel
            """).map { QueueStatus.Count(state: try $0.get("state"), channel: try $0.get("channel"), count: try $0.get("n")) }
        let dueRows = try await rows("""
            SELECT channel, count(*) AS n, min(due_at) AS oldest FROM messages
            WHERE state = 'queued' AND due_at <= \(now) GROUP BY channel ORDER BY channel
            """)
        let dueNow = try dueRows.map { QueueStatus.ChannelCount(channel: try $0.get("channel"), count: try $0.get("n")) }
        var oldestByChannel: [String: Int64] = [:]
        for row in dueRows { oldestByChannel[try row.get("channel")] = try row.get("oldest") }
        let deferred = try await rows("""
            SELECT deferred, count(*) AS n FROM messages WHERE deferred IS NOT NULL AND state = 'queued'
            GROUP BY deferred ORDER BY deferred
            """).map { QueueStatus.ReasonCount(reason: try $0.get("deferred"), count: try $0.get("n")) }
        let nextDue = try await value("""
            SELECT due_at FROM messages WHERE state = 'queued' AND due_at > \(now) ORDER BY due_at LIMIT 1
            """, as: Int64.self)
        let recent = try await rows("""
            SELECT count(*) FILTER (WHERE outcome = 'sent' AND started_at >= \(now - 60_000)) AS minute,
                   count(*) FILTER (WHERE outcome = 'sent') AS hour,
                   count(*) FILTER (WHERE outcome != 'sent') AS errors
            FROM attempts WHERE started_at >= \(now - 3_600_000)
            """).first
        return QueueStatus(
            counts: counts, deferred: deferred, dueNow: dueNow, oldestDueAt: oldestByChannel.values.min(),
            oldestDueByChannel: oldestByChannel, nextDueAt: nextDue,
            sentLastMinute: try recent?.get("minute") ?? 0, sentLastHour: try recent?.get("hour") ?? 0,
            errorsLastHour: try recent?.get("errors") ?? 0, takenAt: now)
    }

    public func sentPerMinute(minutes: Int, now: Int64) async throws -> [Int] {
        let end = now / 60_000 * 60_000 + 60_000
        let start = end - Int64(minutes) * 60_000
        var counts = Array(repeating: 0, count: minutes)
        for row in try await rows("""
            SELECT (started_at - \(start)) / 60000 AS slot, count(*) AS n FROM attempts
            WHERE started_at >= \(start) AND started_at < \(end) AND outcome = 'sent' GROUP BY slot
            """) {
            let slot: Int = try row.get("slot")
            if counts.indices.contains(slot) { counts[slot] = try row.get("n") }
        }
        return counts
    }
}

extension MessageDetail {
    init(_ row: PostgresRandomAccessRow, attempts: [DeliveryAttempt]) throws {
        self.init(
            id: try row.get("id"), key: try row.get("key"), channel: Channel(rawValue: try row.get("channel")) ?? .webhook,
            template: try row.get("template"), recipientJSON: try row.get("recipient"), dataJSON: try row.get("data"),
            category: MessageCategory(rawValue: try row.get("category")) ?? .marketing, campaign: try row.get("campaign"),
            state: MessageState(rawValue: try row.get("state")) ?? .queued, dueAt: try row.get("due_at"),
            createdAt: try row.get("created_at"), updatedAt: try row.get("updated_at"), attemptCount: try row.get("attempts"),
            lastErrorCode: try row.get("last_error_code"), lastError: try row.get("last_error"), attempts: attempts)
    }
}

extension DeliveryAttempt {
    init(_ row: PostgresRandomAccessRow) throws {
        self.init(
            messageID: try row.get("message_id"), number: try row.get("number"), startedAt: try row.get("started_at"),
            durationMicroseconds: try row.get("duration_us"), worker: try row.get("worker"),
            outcome: Outcome(rawValue: try row.get("outcome")) ?? .permanent, errorCode: try row.get("error_code"),
            remoteCode: try row.get("remote_code"), remoteText: try row.get("remote_text"), retryAt: try row.get("retry_at"),
            remoteID: try row.get("remote_id"))
    }
}
