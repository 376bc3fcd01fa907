import GRDB

/// A file taken from the drop folder, as the queue remembers it.
public struct IntakeFile: Sendable, Equatable, FetchableRecord, Decodable {
    public enum State: String, Sendable, Codable {
        /// Being read; `position` says how far its outcomes are recorded.
        case reading
        /// Every line's outcome is recorded; the file is still to be archived or deleted.
        case read
        /// Archived or deleted.
        case archived
    }

    public var id: Int64
    public var name: String
    public var identity: String
    public var state: State
    public var position: Int
    public var queued: Int
    public var duplicates: Int
    public var rejected: Int
}

/// One rejected line of a dropped file, for its errors file.
public struct IntakeFileRejection: Sendable, Equatable, FetchableRecord, Decodable {
    public var position: Int
    public var field: String
    public var reason: String
    public var input: String
}

extension MessageQueue {
    /// The record of the file with this identity, creating one (`reading`, position 0) if none.
    public func intakeFile(name: String, identity: String, now: Int64 = Timestamp.now()) throws -> IntakeFile {
        try writeNow { db in
            if let file = try IntakeFile.fetchOne(db, sql: "SELECT * FROM intake_files WHERE identity = ?", arguments: [identity]) {
                return file
            }
            try db.execute(sql: "INSERT INTO intake_files (name, identity, state, started_at) VALUES (?, ?, 'reading', ?)",
                           arguments: [name, identity, now])
            return try IntakeFile.fetchOne(db, sql: "SELECT * FROM intake_files WHERE id = ?", arguments: [db.lastInsertedRowID])!
        }
    }

    /// Validates and queues one batch of a dropped file, records its rejections and moves the
    /// file's position past it, all in one transaction: after a crash the file resumes exactly
    /// after the last batch recorded, so no line is queued twice or skipped.
    public func enqueue(_ items: [InputItem], validation: MessageValidation, file: Int64, now: Int64 = Timestamp.now())
        throws -> [EnqueueResult]
    {
        let validated = ValidatedBatch(items, validation: validation, now: now)
        let last = items.last?.position.number ?? 0
        return try writeNow { db in try Self.record(validated, through: last, file: file, now: now, db: db) }
    }

    /// The same, with the write handed to `writeAhead`: the caller goes on to read and validate
    /// the next batch while this one is written. Batches are still written one at a time, in order.
    func enqueue(_ items: [InputItem], validation: MessageValidation, file: Int64, writeAhead: WriteAhead,
                 now: Int64 = Timestamp.now()) throws {
        let validated = ValidatedBatch(items, validation: validation, now: now)
        let last = items.last?.position.number ?? 0
        try writeAhead.submit { db in _ = try Self.record(validated, through: last, file: file, now: now, db: db) }
    }

    private static func record(_ validated: ValidatedBatch, through last: Int, file: Int64, now: Int64, db: Database) throws
        -> [EnqueueResult]
    {
        var batch = validated
        batch.record(try insert(batch.accepted.map(\.message), now: now, db: db))
        let reject = try db.cachedStatement(sql: """
            INSERT OR REPLACE INTO intake_rejections (file_id, position, field, reason, input) VALUES (?, ?, ?, ?, ?)
            """)
        for (item, rejection) in batch.rejections {
            let input: String = switch item.value {
            case .success(let value): item.source ?? value.jsonText
            case .failure: item.source ?? ""
            }
            try reject.execute(arguments: [file, item.position.number, rejection.field, rejection.reason, input])
        }
        var counts: [EnqueueResult.Status: Int] = [:]
        for result in batch.results { counts[result.status, default: 0] += 1 }
        try db.execute(sql: """
            UPDATE intake_files SET position = max(position, ?), queued = queued + ?, duplicates = duplicates + ?,
                rejected = rejected + ?
            WHERE id = ?
            """, arguments: [last, counts[.queued, default: 0], counts[.duplicate, default: 0], counts[.rejected, default: 0], file])
        return batch.results
    }

    public func markIntakeFile(_ id: Int64, _ state: IntakeFile.State, now: Int64 = Timestamp.now()) throws {
        try writeNow { db in
            try db.execute(sql: "UPDATE intake_files SET state = ?, finished_at = coalesce(finished_at, ?) WHERE id = ?",
                           arguments: [state.rawValue, now, id])
        }
    }

    public func intakeRejections(file: Int64) throws -> [IntakeFileRejection] {
        try readNow { db in
            try IntakeFileRejection.fetchAll(db, sql: "SELECT * FROM intake_rejections WHERE file_id = ? ORDER BY position",
                                             arguments: [file])
        }
    }
}
