import GRDB

extension MessageDetail {
    static let columns = """
        id, key, channel, template, recipient, data, category, campaign, state, due_at, created_at, updated_at,
        attempts, last_error_code, last_error
        """

    init(row: Row, attempts: [DeliveryAttempt]) {
        id = row["id"]
        key = row["key"]
        channel = Channel(rawValue: row["channel"]) ?? .webhook
        template = row["template"]
        recipientJSON = row["recipient"]
        dataJSON = row["data"]
        category = MessageCategory(rawValue: row["category"]) ?? .marketing
        campaign = row["campaign"]
        state = MessageState(rawValue: row["state"]) ?? .queued
        dueAt = row["due_at"]
        createdAt = row["created_at"]
        updatedAt = row["updated_at"]
        attemptCount = row["attempts"]
        lastErrorCode = row["last_error_code"]
        lastError = row["last_error"]
        self.attempts = attempts
    }
}

extension DeliveryAttempt {
    init(row: Row) {
        self.init(
            messageID: row["message_id"], number: row["number"], startedAt: row["started_at"],
            durationMicroseconds: row["duration_us"], worker: row["worker"],
            outcome: Outcome(rawValue: row["outcome"]) ?? .permanent, errorCode: row["error_code"],
            remoteCode: row["remote_code"], remoteText: row["remote_text"], retryAt: row["retry_at"],
            remoteID: row["remote_id"])
    }
}

extension SQLiteQueue {
    /// A message by id, or by key when `reference` is not a number or no id matches.
    public func message(_ reference: String) async throws -> MessageDetail? {
        try await read { db in try Self.message(reference, db: db) }
    }

    static func message(_ reference: String, db: Database) throws -> MessageDetail? {
        var row: Row?
        if let id = Int64(reference) {
            row = try Row.fetchOne(db, sql: "SELECT \(MessageDetail.columns) FROM messages WHERE id = ?", arguments: [id])
        }
        if row == nil {
            row = try Row.fetchOne(db, sql: "SELECT \(MessageDetail.columns) FROM messages WHERE key = ?", arguments: [reference])
        }
        guard let row else { return nil }
        let attempts = try Row.fetchAll(db, sql: """
            SELECT message_id, number, started_at, duration_us, worker, outcome, error_code, remote_code, remote_text,
                   retry_at, remote_id
            FROM attempts WHERE message_id = ? ORDER BY id
            """, arguments: [row["id"] as Int64]).map(DeliveryAttempt.init(row:))
        return MessageDetail(row: row, attempts: attempts)
    }

    /// Queues a failed or canceled message again, due now, with a fresh set of attempts (the
    /// earlier ones stay on record and attempt numbers go on).
    public func retry(_ reference: String, now: Int64) async throws -> MessageChange {
        let change = try await change(reference, from: [.failed, .canceled]) { id, db in
            try db.execute(sql: """
                UPDATE messages SET state = 'queued', due_at = ?, retry_base = attempts, updated_at = ? WHERE id = ?
                """, arguments: [now, now, id])
        }
        waiting.announce()
        return change
    }

    /// Ends a message that is waiting (or failed) as `canceled`. A message being delivered right
    /// now cannot be canceled: its outcome is already on its way.
    public func cancel(_ reference: String, events: [Event], now: Int64) async throws -> MessageChange {
        try await change(reference, from: [.queued, .failed]) { id, db in
            try db.execute(sql: "UPDATE messages SET state = 'canceled', updated_at = ? WHERE id = ?",
                           arguments: [now, id])
            try Self.insert(events.filter { $0.messageID == id }, db: db)
        }
    }

    private func change(_ reference: String, from states: Set<MessageState>,
                        _ update: @escaping @Sendable (Int64, Database) throws -> Void) async throws -> MessageChange {
        try await write { db in
            guard let message = try Self.message(reference, db: db) else { return .notFound }
            guard states.contains(message.state) else { return .refused(message.state) }
            try update(message.id, db)
            return .done(try Self.message(String(message.id), db: db)!)
        }
    }
}
