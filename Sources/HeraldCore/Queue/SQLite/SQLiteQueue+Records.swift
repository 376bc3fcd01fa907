import GRDB

extension SQLiteQueue {
    /// The queue as it is now, for `herald copy`: one snapshot read page by page, so a copy of a
    /// running installation is consistent (what is written meanwhile is not in it).
    public func snapshotSource() throws -> SQLiteSnapshot {
        SQLiteSnapshot(snapshot: try pool.makeSnapshot())
    }
}

/// One consistent view of an SQLite queue (see `SQLiteQueue.snapshotSource()`), paged by offset.
public final class SQLiteSnapshot: QueueSource {
    let snapshot: DatabaseSnapshot

    init(snapshot: DatabaseSnapshot) {
        self.snapshot = snapshot
    }

    public func records(of table: QueueTable, after offset: Int64, limit: Int) async throws -> (records: QueueRecords, next: Int64?) {
        let records: QueueRecords = try await withCheckedThrowingContinuation { continuation in
            snapshot.asyncRead { result in
                continuation.resume(with: Result { try Self.page(table, offset: offset, limit: limit, db: result.get()) })
            }
        }
        return (records, records.count == limit ? offset + Int64(limit) : nil)
    }

    private static func page(_ table: QueueTable, offset: Int64, limit: Int, db: Database) throws -> QueueRecords {
        let page: StatementArguments = [limit, offset]
        switch table {
        case .messages:
            return .messages(try Row.fetchAll(db, sql: "SELECT * FROM messages ORDER BY id LIMIT ? OFFSET ?", arguments: page).map { row in
                MessageRecord(
                    id: row["id"], key: row["key"], channel: row["channel"], template: row["template"], recipient: row["recipient"],
                    data: row["data"], category: row["category"], campaign: row["campaign"], state: row["state"],
                    dueAt: row["due_at"], createdAt: row["created_at"], updatedAt: row["updated_at"], attempts: row["attempts"],
                    leaseOwner: row["lease_owner"], leaseUntil: row["lease_until"], lastErrorCode: row["last_error_code"],
                    lastError: row["last_error"], deferred: row["deferred"], retryBase: row["retry_base"])
            })
        case .attempts:
            return .attempts(try Row.fetchAll(db, sql: "SELECT * FROM attempts ORDER BY id LIMIT ? OFFSET ?", arguments: page)
                .map(DeliveryAttempt.init(row:)))
        case .suppressions:
            return .suppressions(try Row.fetchAll(db, sql: "SELECT * FROM suppressions ORDER BY channel, address LIMIT ? OFFSET ?",
                                                  arguments: page).compactMap(Suppression.init(row:)))
        case .letterBatches:
            return .letterBatches(try LetterBatch.fetchAll(db, sql: "SELECT * FROM letter_batches ORDER BY id LIMIT ? OFFSET ?",
                                                           arguments: page))
        case .letters:
            return .letters(try Row.fetchAll(db, sql: "SELECT * FROM letters ORDER BY message_id LIMIT ? OFFSET ?", arguments: page)
                .map { row in
                    LetterRecord(letter: try Letter(row: row), batchID: row["batch_id"], position: row["position"], addedAt: row["added_at"])
                })
        case .intakeFiles:
            return .intakeFiles(try Row.fetchAll(db, sql: "SELECT * FROM intake_files ORDER BY id LIMIT ? OFFSET ?", arguments: page)
                .map { row in
                    IntakeFileRecord(file: try IntakeFile(row: row), startedAt: row["started_at"], finishedAt: row["finished_at"])
                })
        case .intakeRejections:
            return .intakeRejections(try Row.fetchAll(db, sql: "SELECT * FROM intake_rejections ORDER BY file_id, position LIMIT ? OFFSET ?",
                                                      arguments: page).map { row in
                (file: row["file_id"] as Int64, rejection: try IntakeFileRejection(row: row))
            })
        case .rateSlots:
            return .rateSlots(try Row.fetchAll(db, sql: "SELECT * FROM rate_slots ORDER BY key LIMIT ? OFFSET ?", arguments: page)
                .map { (key: $0["key"] as String, tat: $0["tat"] as Double) })
        case .contacts:
            return .contacts(try Row.fetchAll(db, sql: "SELECT * FROM contacts ORDER BY message_id LIMIT ? OFFSET ?", arguments: page)
                .compactMap { row in
                    guard let channel = Channel(rawValue: row["channel"]) else { return nil }
                    return ContactRecord(messageID: row["message_id"], address: Address(normalized: row["address"], channel: channel),
                                         category: row["category"], at: row["at"])
                })
        case .events:
            return .events(try Row.fetchAll(db, sql: "SELECT * FROM events ORDER BY position LIMIT ? OFFSET ?", arguments: page)
                .compactMap(StoredEvent.init(row:)))
        case .eventPushes:
            return .eventPushes(try Row.fetchAll(db, sql: "SELECT * FROM event_pushes ORDER BY name LIMIT ? OFFSET ?", arguments: page)
                .map { row in
                    EventPushRecord(name: row["name"], cursor: EventCursor(position: row["position"]), leaseOwner: row["lease_owner"],
                                    leaseUntil: row["lease_until"])
                })
        case .bounces:
            return .bounces(try Row.fetchAll(db, sql: "SELECT * FROM bounces ORDER BY id LIMIT ? OFFSET ?", arguments: page)
                .map(BounceRecord.init(row:)))
        case .enrollments:
            return .enrollments(try Row.fetchAll(db, sql: "SELECT * FROM enrollments ORDER BY id LIMIT ? OFFSET ?", arguments: page).map { row in
                EnrollmentRecord(
                    id: row["id"], key: row["key"], sequence: row["sequence"], version: row["version"], recipient: row["recipient"],
                    email: row["email"], phone: row["phone"], data: row["data"], campaign: row["campaign"], state: row["state"],
                    exit_reason: row["exit_reason"], started_at: row["started_at"], next_step: row["next_step"], next_due: row["next_due"],
                    shift: row["shift"], awaiting: row["awaiting"], awaiting_due: row["awaiting_due"], updated_at: row["updated_at"],
                    ended_at: row["ended_at"], round: row["round"])
            })
        case .sequenceVersions:
            return .sequenceVersions(try Row.fetchAll(db, sql: "SELECT * FROM sequence_versions ORDER BY sequence, version LIMIT ? OFFSET ?",
                                                      arguments: page).map { row in
                SequenceVersionRecord(sequence: row["sequence"], version: row["version"], definition: row["definition"],
                                      created_at: row["created_at"])
            })
        }
    }
}
