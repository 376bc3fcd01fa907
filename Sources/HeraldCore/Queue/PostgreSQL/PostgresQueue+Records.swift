import PostgresNIO

extension PostgresQueue: QueueTarget {
    public func holdsData() async throws -> Bool {
        try await value("""
            SELECT EXISTS (SELECT 1 FROM messages) OR EXISTS (SELECT 1 FROM suppressions) OR EXISTS (SELECT 1 FROM letter_batches)
                OR EXISTS (SELECT 1 FROM intake_files) OR EXISTS (SELECT 1 FROM rate_slots) OR EXISTS (SELECT 1 FROM contacts)
                OR EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM bounces) OR EXISTS (SELECT 1 FROM enrollments)
            """, as: Bool.self) ?? false
    }

    private struct MessageRow: Encodable {
        let id: Int64, key: String?, channel: String, template: String, recipient: String, data: String, category: String
        let campaign: String?, state: String, due_at: Int64, created_at: Int64, updated_at: Int64, attempts: Int
        let lease_owner: String?, lease_until: Int64?, last_error_code: String?, last_error: String?, deferred: String?
        let retry_base: Int
    }

    private struct SuppressionRow: Encodable {
        let channel: String, address: String, reason: String, source: String?, created_at: Int64
    }

    private struct BatchRow: Encodable {
        let id: Int64, name: String, state: String, letters: Int, created_at: Int64, closing_at: Int64?, closed_at: Int64?
        let sha256: String?, bytes: Int?, upload_state: String?, upload_attempts: Int, upload_next_at: Int64?, upload_error: String?
    }

    private struct LetterRow: Encodable {
        let message_id: Int64, batch_id: Int64, position: Int, key: String?, name: String, line1: String, line2: String
        let city: String, region: String, postal_code: String, country: String, campaign: String, format: String, body: String
        let added_at: Int64
    }

    private struct FileRow: Encodable {
        let id: Int64, name: String, identity: String, state: String, position: Int, queued: Int, enrolled: Int, duplicates: Int, rejected: Int
        let started_at: Int64, finished_at: Int64?
    }

    private struct RejectionRow: Encodable {
        let file_id: Int64, position: Int, field: String, reason: String, input: String
    }

    private struct SlotRow: Encodable {
        let key: String, tat: Double
    }

    /// Copied events keep their positions under transaction 1, before every transaction of
    /// this server, so a cursor from the SQLite queue (transaction 0) goes on where it was.
    private struct EventCopyRow: Encodable {
        let tx: String, position: Int64, id: String, type: String, message_id: Int64?, occurred_at: Int64, payload: String
    }

    private struct PushRow: Encodable {
        let name: String, tx: String, position: Int64, lease_owner: String?, lease_until: Int64?
    }

    /// `raw` in bytea's hex input form, which `jsonb_populate_recordset` hands to the column.
    private struct BounceRow: Encodable {
        let id: Int64, received_at: Int64, source: String, source_id: String, kind: String, format: String, message_id: Int64?
        let message_sent_at: Int64?, recipient: String?, status: String?, severity: String?, feedback_type: String?
        let decision: String, reason: String, raw: String
    }

    private struct ContactRow: Encodable {
        let message_id: Int64, channel: String, address: String, category: String, at: Int64
    }

    /// One statement per page: `INSERT … SELECT … FROM jsonb_populate_recordset`, the table's own
    /// row type reading the JSON, so every column keeps its name and type.
    public func load(_ records: QueueRecords) async throws {
        switch records {
        case .messages(let rows):
            try await insert("messages", rows.map {
                MessageRow(id: $0.id, key: $0.key, channel: $0.channel, template: $0.template, recipient: $0.recipient, data: $0.data,
                           category: $0.category, campaign: $0.campaign, state: $0.state, due_at: $0.dueAt, created_at: $0.createdAt,
                           updated_at: $0.updatedAt, attempts: $0.attempts, lease_owner: $0.leaseOwner, lease_until: $0.leaseUntil,
                           last_error_code: $0.lastErrorCode, last_error: $0.lastError, deferred: $0.deferred, retry_base: $0.retryBase)
            }, columns: "id, key, channel, template, recipient, data, category, campaign, state, due_at, created_at, updated_at, attempts, lease_owner, lease_until, last_error_code, last_error, deferred, retry_base")
        case .attempts(let rows):
            try await insert("attempts", rows.map(AttemptRow.init),
                             columns: "message_id, number, started_at, duration_us, worker, outcome, error_code, remote_code, remote_text, retry_at, remote_id")
        case .suppressions(let rows):
            try await insert("suppressions", rows.map {
                SuppressionRow(channel: $0.channel.rawValue, address: $0.address.value, reason: $0.reason.rawValue, source: $0.source,
                               created_at: $0.createdAt ?? 0)
            }, columns: "channel, address, reason, source, created_at")
        case .letterBatches(let rows):
            try await insert("letter_batches", rows.map {
                BatchRow(id: $0.id, name: $0.name, state: $0.state.rawValue, letters: $0.letters, created_at: $0.createdAt,
                         closing_at: $0.closingAt, closed_at: $0.closedAt, sha256: $0.sha256, bytes: $0.bytes,
                         upload_state: $0.uploadState?.rawValue, upload_attempts: $0.uploadAttempts, upload_next_at: $0.uploadNextAt,
                         upload_error: $0.uploadError)
            }, columns: "id, name, state, letters, created_at, closing_at, closed_at, sha256, bytes, upload_state, upload_attempts, upload_next_at, upload_error")
        case .letters(let rows):
            try await insert("letters", rows.map {
                LetterRow(message_id: $0.letter.messageID, batch_id: $0.batchID, position: $0.position, key: $0.letter.key,
                          name: $0.letter.name, line1: $0.letter.line1, line2: $0.letter.line2, city: $0.letter.city,
                          region: $0.letter.region, postal_code: $0.letter.postalCode, country: $0.letter.country,
                          campaign: $0.letter.campaign, format: $0.letter.format.rawValue, body: $0.letter.body, added_at: $0.addedAt)
            }, columns: "message_id, batch_id, position, key, name, line1, line2, city, region, postal_code, country, campaign, format, body, added_at")
        case .intakeFiles(let rows):
            try await insert("intake_files", rows.map {
                FileRow(id: $0.file.id, name: $0.file.name, identity: $0.file.identity, state: $0.file.state.rawValue,
                        position: $0.file.position, queued: $0.file.queued, enrolled: $0.file.enrolled, duplicates: $0.file.duplicates, rejected: $0.file.rejected,
                        started_at: $0.startedAt, finished_at: $0.finishedAt)
            }, columns: "id, name, identity, state, position, queued, enrolled, duplicates, rejected, started_at, finished_at")
        case .intakeRejections(let rows):
            try await insert("intake_rejections", rows.map {
                RejectionRow(file_id: $0.file, position: $0.rejection.position, field: $0.rejection.field, reason: $0.rejection.reason,
                             input: $0.rejection.input)
            }, columns: "file_id, position, field, reason, input")
        case .rateSlots(let rows):
            try await insert("rate_slots", rows.map { SlotRow(key: $0.key, tat: $0.tat) }, columns: "key, tat")
        case .contacts(let rows):
            try await insert("contacts", rows.map {
                ContactRow(message_id: $0.messageID, channel: $0.address.channel.rawValue, address: $0.address.value,
                           category: $0.category, at: $0.at)
            }, columns: "message_id, channel, address, category, at")
        case .events(let rows):
            try await insert("events", rows.map {
                EventCopyRow(tx: String(Self.copiedTransaction(of: $0.cursor).transaction), position: $0.cursor.position,
                             id: $0.event.id, type: $0.event.type.rawValue, message_id: $0.event.messageID,
                             occurred_at: $0.event.occurredAt, payload: $0.event.payload)
            }, columns: "tx, position, id, type, message_id, occurred_at, payload")
        case .eventPushes(let rows):
            try await insert("event_pushes", rows.map {
                let cursor = Self.copiedTransaction(of: $0.cursor)
                return PushRow(name: $0.name, tx: String(cursor.transaction), position: cursor.position, lease_owner: $0.leaseOwner,
                               lease_until: $0.leaseUntil)
            }, columns: "name, tx, position, lease_owner, lease_until")
        case .bounces(let rows):
            try await insert("bounces", rows.map {
                BounceRow(id: $0.id, received_at: $0.receivedAt, source: $0.source, source_id: $0.sourceID, kind: $0.kind.rawValue,
                          format: $0.format, message_id: $0.messageID, message_sent_at: $0.messageSentAt, recipient: $0.recipient,
                          status: $0.status, severity: $0.severity?.rawValue, feedback_type: $0.feedbackType,
                          decision: $0.decision.rawValue, reason: $0.reason, raw: "\\x" + Hex.encode($0.raw))
            }, columns: "id, received_at, source, source_id, kind, format, message_id, message_sent_at, recipient, status, severity, "
                + "feedback_type, decision, reason, raw")
        case .enrollments(let rows):
            try await insert("enrollments", rows, columns: "id, key, sequence, version, recipient, email, phone, data, campaign, state, "
                + "exit_reason, started_at, next_step, next_due, shift, awaiting, awaiting_due, updated_at, ended_at, round")
        case .sequenceVersions(let rows):
            try await insert("sequence_versions", rows, columns: "sequence, version, definition, created_at")
        }
    }

    private func insert(_ table: String, _ rows: some Encodable & Collection, columns: String) async throws {
        guard !rows.isEmpty else { return }
        try await execute("""
            INSERT INTO \(unescaped: table) (\(unescaped: columns))
            SELECT \(unescaped: columns) FROM jsonb_populate_recordset(NULL::\(unescaped: table), \(try Self.recordset(rows))::jsonb)
            """)
    }

    /// Where a copied event or cursor stands here (see `EventCopyRow`).
    static func copiedTransaction(of cursor: EventCursor) -> EventCursor {
        cursor.transaction == 0 && cursor.position > 0 ? EventCursor(transaction: 1, position: cursor.position) : cursor
    }

    public func finishLoad() async throws {
        for (table, sequence) in [("messages", "messages_id_seq"), ("attempts", "attempts_id_seq"),
                                  ("letter_batches", "letter_batches_id_seq"), ("intake_files", "intake_files_id_seq"),
                                  ("bounces", "bounces_id_seq"), ("enrollments", "enrollments_id_seq")] {
            try await execute("""
                SELECT setval(\(sequence)::regclass, (SELECT coalesce(max(id), 0) + 1 FROM \(unescaped: table)), false)
                """)
        }
        try await execute("SELECT setval('events_position_seq'::regclass, (SELECT coalesce(max(position), 0) + 1 FROM events), false)")
    }
}
