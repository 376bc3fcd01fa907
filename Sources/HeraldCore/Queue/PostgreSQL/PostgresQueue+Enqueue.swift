import PostgresNIO

extension PostgresQueue {
    /// One new message as `jsonb_to_recordset` reads it.
    private struct MessageRow: Encodable {
        let id: Int64
        let key: String?
        let channel: String
        let template: String
        let recipient: String
        let data: String
        let category: String
        let campaign: String?
        let due_at: Int64
    }

    public func enqueue(_ messages: [NewMessage], now: Int64) async throws -> [EnqueueOutcome] {
        guard !messages.isEmpty else { return [] }
        let outcomes = try await transaction { connection in
            try await Self.insert(messages, now: now, on: connection, queue: self)
        }
        announceArrival()
        await noteInserted(outcomes.count { if case .queued = $0 { true } else { false } })
        return outcomes
    }

    /// Inserts in one statement, ids drawn from the sequence first so each outcome is known by
    /// its id (a key already present inserts nothing and keeps the id it had).
    static func insert(_ messages: [NewMessage], now: Int64, on connection: PostgresConnection,
                       queue: PostgresQueue) async throws -> [EnqueueOutcome] {
        guard !messages.isEmpty else { return [] }
        let ids = try await queue.rows("SELECT nextval('messages_id_seq') FROM generate_series(1, \(messages.count))",
                                       on: connection).map { try $0[0].decode(Int64.self) }
        let rows = zip(ids, messages).map { id, message in
            MessageRow(id: id, key: message.key, channel: message.channel.rawValue, template: message.template,
                       recipient: message.recipient.jsonText, data: message.dataJSON, category: message.category.rawValue,
                       campaign: message.campaign, due_at: message.sendAt)
        }
        let inserted = Set(try await queue.rows("""
            INSERT INTO messages (id, key, channel, template, recipient, data, category, campaign, state, due_at, created_at, updated_at)
            SELECT r.id, r.key, r.channel, r.template, r.recipient, r.data, r.category, r.campaign, 'queued', r.due_at, \(now), \(now)
            FROM jsonb_to_recordset(\(try recordset(rows))::jsonb) AS r(id bigint, key text, channel text, template text,
                 recipient text, data text, category text, campaign text, due_at bigint)
            ORDER BY r.id
            ON CONFLICT (key) DO NOTHING
            RETURNING id
            """, on: connection).map { try $0[0].decode(Int64.self) })
        let duplicateKeys = zip(ids, messages).compactMap { id, message in inserted.contains(id) ? nil : message.key }
        var existing: [String: Int64] = [:]
        if !duplicateKeys.isEmpty {
            for row in try await queue.rows("SELECT key, id FROM messages WHERE key = ANY(\(duplicateKeys))", on: connection) {
                existing[try row.get("key")] = try row.get("id")
            }
        }
        if !inserted.isEmpty, queue.settings.notify {
            // Delivered at commit, once per transaction: one wake-up per batch, not per row.
            try await queue.execute("SELECT pg_notify(\(arrivalsChannel), '')", on: connection)
        }
        return zip(ids, messages).map { id, message in
            inserted.contains(id) ? .queued(id: id) : .duplicate(id: message.key.flatMap { existing[$0] } ?? 0)
        }
    }

    public func intakeFile(name: String, identity: String, now: Int64) async throws -> IntakeFile {
        try await transaction { connection in
            try await execute("""
                INSERT INTO intake_files (name, identity, state, started_at) VALUES (\(name), \(identity), 'reading', \(now))
                ON CONFLICT (identity) DO NOTHING
                """, on: connection)
            let row = try await rows("SELECT * FROM intake_files WHERE identity = \(identity)", on: connection)[0]
            return try IntakeFile(row)
        }
    }

    private struct RejectionRow: Encodable {
        let position: Int
        let field: String
        let reason: String
        let input: String
    }

    public func record(_ batch: IntakeBatch, now: Int64) async throws -> [EnqueueOutcome] {
        let outcomes = try await transaction { connection in
            let outcomes = try await Self.insert(batch.messages, now: now, on: connection, queue: self)
            let enrolled = try await insert(batch.enrollments, versions: batch.versions, now: now, on: connection)
                .count { if case .enrolled = $0 { true } else { false } }
            if !batch.rejections.isEmpty {
                let rows = batch.rejections.map {
                    RejectionRow(position: $0.position, field: $0.field, reason: $0.reason, input: $0.input)
                }
                try await execute("""
                    INSERT INTO intake_rejections (file_id, position, field, reason, input)
                    SELECT \(batch.file), r.position, r.field, r.reason, r.input
                    FROM jsonb_to_recordset(\(try Self.recordset(rows))::jsonb) AS r(position bigint, field text, reason text, input text)
                    ON CONFLICT (file_id, position) DO UPDATE SET field = excluded.field, reason = excluded.reason, input = excluded.input
                    """, on: connection)
            }
            let queued = outcomes.count { if case .queued = $0 { true } else { false } }
            try await execute("""
                UPDATE intake_files SET position = greatest(position, \(batch.through)), queued = queued + \(queued),
                    enrolled = enrolled + \(enrolled),
                    duplicates = duplicates + \(outcomes.count - queued + batch.enrollments.count - enrolled),
                    rejected = rejected + \(batch.rejections.count)
                WHERE id = \(batch.file)
                """, on: connection)
            return outcomes
        }
        if !batch.messages.isEmpty { announceArrival() }
        await noteInserted(outcomes.count { if case .queued = $0 { true } else { false } })
        return outcomes
    }

    public func markIntakeFile(_ id: Int64, _ state: IntakeFile.State, now: Int64) async throws {
        try await execute("""
            UPDATE intake_files SET state = \(state.rawValue), finished_at = coalesce(finished_at, \(now)) WHERE id = \(id)
            """)
    }

    public func intakeRejections(file: Int64) async throws -> [IntakeFileRejection] {
        try await rows("SELECT * FROM intake_rejections WHERE file_id = \(file) ORDER BY position").map { row in
            IntakeFileRejection(position: try row.get("position", as: Int.self), field: try row.get("field"),
                                reason: try row.get("reason"), input: try row.get("input"))
        }
    }
}

extension IntakeFile {
    init(_ row: PostgresRandomAccessRow) throws {
        self.init(id: try row.get("id"), name: try row.get("name"), identity: try row.get("identity"),
                  state: State(rawValue: try row.get("state")) ?? .reading, position: try row.get("position"),
                  queued: try row.get("queued"), enrolled: try row.get("enrolled"), duplicates: try row.get("duplicates"), rejected: try row.get("rejected"))
    }
}
