import Foundation
import GRDB

extension SQLiteQueue {
    static let enrollmentColumns = """
        e.id, e.key, e.sequence, e.version, e.state, e.exit_reason, e.recipient, e.campaign, e.started_at, e.next_step,
        e.next_due, e.ended_at, e.round, m.key AS awaiting_key, m.state AS awaiting_state
        """

    public func enrollments(_ filter: EnrollmentFilter, limit: Int) async throws -> [EnrollmentDetail] {
        try await read { db in
            var conditions = ["e.id > ?"]
            var arguments: StatementArguments = [filter.after]
            if let sequence = filter.sequence {
                conditions.append("e.sequence = ?")
                arguments += [sequence]
            }
            if let state = filter.state {
                conditions.append("e.state = ?")
                arguments += [state.rawValue]
            }
            if let version = filter.versionOtherThan {
                conditions.append("e.version <> ?")
                arguments += [version]
            }
            arguments += [limit]
            return try Row.fetchAll(db, sql: """
                SELECT \(Self.enrollmentColumns) FROM enrollments e LEFT JOIN messages m ON m.id = e.awaiting
                WHERE \(conditions.joined(separator: " AND ")) ORDER BY e.id LIMIT ?
                """, arguments: arguments).map { try EnrollmentDetail(row: $0) }
        }
    }

    public func enrollment(key: String) async throws -> EnrollmentDetail? {
        try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT \(Self.enrollmentColumns) FROM enrollments e LEFT JOIN messages m ON m.id = e.awaiting WHERE e.key = ?
                """, arguments: [key]).map { try EnrollmentDetail(row: $0) }
        }
    }

    public func migrate(_ moves: [EnrollmentMove], to version: SequenceVersion, now: Int64) async throws -> [Int64] {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO sequence_versions (sequence, version, definition, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [version.sequence, version.version, version.definition, now])
            var moved: [Int64] = []
            for move in moves {
                try db.execute(sql: """
                    UPDATE enrollments SET version = ?, next_step = ?, next_due = ?, updated_at = ?
                    WHERE id = ? AND state = 'active' AND sequence = ? AND version = ? AND next_step = ?
                    """, arguments: [version.version, move.toStep, now, now, move.id, version.sequence, move.fromVersion, move.fromStep])
                guard db.changesCount > 0 else { continue }
                if move.cancelAwaiting {
                    try db.execute(sql: """
                        UPDATE messages SET state = 'canceled', last_error_code = 'step_removed', updated_at = ?,
                            last_error = 'its step is not in version ' || ? || ' of the sequence'
                        WHERE id = (SELECT awaiting FROM enrollments WHERE id = ?) AND state = 'queued'
                        """, arguments: [now, version.version, move.id])
                }
                moved.append(move.id)
            }
            return moved
        }
    }
}

extension EnrollmentDetail {
    init(row: Row) throws {
        let recipient: String = row["recipient"]
        self.init(id: row["id"], key: row["key"], sequence: row["sequence"], version: row["version"],
                  state: EnrollmentProgress.State(rawValue: row["state"]) ?? .active, exitReason: row["exit_reason"],
                  recipient: try Recipient(stored: recipient), campaign: row["campaign"],
                  startedAt: row["started_at"], nextStep: row["next_step"], nextDue: row["next_due"], endedAt: row["ended_at"],
                  round: row["round"], awaitingKey: row["awaiting_key"],
                  awaitingState: (row["awaiting_state"] as String?).flatMap(MessageState.init(rawValue:)))
    }
}
