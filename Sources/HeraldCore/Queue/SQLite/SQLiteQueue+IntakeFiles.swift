import GRDB

extension IntakeFile: FetchableRecord {}
extension IntakeFileRejection: FetchableRecord {}

extension SQLiteQueue {
    public func intakeFile(name: String, identity: String, now: Int64) async throws -> IntakeFile {
        try await write { db in
            if let file = try IntakeFile.fetchOne(db, sql: "SELECT * FROM intake_files WHERE identity = ?", arguments: [identity]) {
                return file
            }
            try db.execute(sql: "INSERT INTO intake_files (name, identity, state, started_at) VALUES (?, ?, 'reading', ?)",
                           arguments: [name, identity, now])
            return try IntakeFile.fetchOne(db, sql: "SELECT * FROM intake_files WHERE id = ?", arguments: [db.lastInsertedRowID])!
        }
    }

    public func record(_ batch: IntakeBatch, now: Int64) async throws -> [EnqueueOutcome] {
        let outcomes = try await write { db in
            let outcomes = try Self.insert(batch.messages, now: now, db: db)
            let enrolled = try Self.insert(batch.enrollments, versions: batch.versions, now: now, db: db)
                .count { if case .enrolled = $0 { true } else { false } }
            let reject = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO intake_rejections (file_id, position, field, reason, input) VALUES (?, ?, ?, ?, ?)
                """)
            for rejection in batch.rejections {
                try reject.execute(arguments: [batch.file, rejection.position, rejection.field, rejection.reason, rejection.input])
            }
            let queued = outcomes.count { if case .queued = $0 { true } else { false } }
            try db.execute(sql: """
                UPDATE intake_files SET position = max(position, ?), queued = queued + ?, enrolled = enrolled + ?,
                    duplicates = duplicates + ?, rejected = rejected + ?
                WHERE id = ?
                """, arguments: [batch.through, queued, enrolled, outcomes.count - queued + batch.enrollments.count - enrolled,
                                 batch.rejections.count, batch.file])
            return outcomes
        }
        if !batch.messages.isEmpty { waiting.announce() }
        return outcomes
    }

    public func markIntakeFile(_ id: Int64, _ state: IntakeFile.State, now: Int64) async throws {
        try await write { db in
            try db.execute(sql: "UPDATE intake_files SET state = ?, finished_at = coalesce(finished_at, ?) WHERE id = ?",
                           arguments: [state.rawValue, now, id])
        }
    }

    public func intakeRejections(file: Int64) async throws -> [IntakeFileRejection] {
        try await read { db in
            try IntakeFileRejection.fetchAll(db, sql: "SELECT * FROM intake_rejections WHERE file_id = ? ORDER BY position",
                                             arguments: [file])
        }
    }
}
