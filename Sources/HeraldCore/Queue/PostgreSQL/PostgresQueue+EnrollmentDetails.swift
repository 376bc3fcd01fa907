import Foundation
import PostgresNIO

extension PostgresQueue {
    public func enrollments(_ filter: EnrollmentFilter, limit: Int) async throws -> [EnrollmentDetail] {
        try await rows("""
            SELECT e.id, e.key, e.sequence, e.version, e.state, e.exit_reason, e.recipient, e.campaign, e.started_at, e.next_step,
                   e.next_due, e.ended_at, e.round, m.key AS awaiting_key, m.state AS awaiting_state
            FROM enrollments e LEFT JOIN messages m ON m.id = e.awaiting
            WHERE e.id > \(filter.after)
              AND (\(filter.sequence)::text IS NULL OR e.sequence = \(filter.sequence))
              AND (\(filter.state?.rawValue)::text IS NULL OR e.state = \(filter.state?.rawValue))
              AND (\(filter.versionOtherThan)::text IS NULL OR e.version <> \(filter.versionOtherThan))
            ORDER BY e.id LIMIT \(Int64(limit))
            """).map { try EnrollmentDetail($0) }
    }

    public func enrollment(key: String) async throws -> EnrollmentDetail? {
        try await rows("""
            SELECT e.id, e.key, e.sequence, e.version, e.state, e.exit_reason, e.recipient, e.campaign, e.started_at, e.next_step,
                   e.next_due, e.ended_at, e.round, m.key AS awaiting_key, m.state AS awaiting_state
            FROM enrollments e LEFT JOIN messages m ON m.id = e.awaiting WHERE e.key = \(key)
            """).first.map { try EnrollmentDetail($0) }
    }

    public func migrate(_ moves: [EnrollmentMove], to version: SequenceVersion, now: Int64) async throws -> [Int64] {
        try await transaction { connection in
            try await execute("""
                INSERT INTO sequence_versions (sequence, version, definition, created_at)
                VALUES (\(version.sequence), \(version.version), \(version.definition), \(now))
                ON CONFLICT DO NOTHING
                """, on: connection)
            var moved: [Int64] = []
            for move in moves {
                let applied = try await value("""
                    UPDATE enrollments SET version = \(version.version), next_step = \(Int32(move.toStep)), next_due = \(now),
                           updated_at = \(now)
                    WHERE id = \(move.id) AND state = 'active' AND sequence = \(version.sequence) AND version = \(move.fromVersion)
                      AND next_step = \(Int32(move.fromStep))
                    RETURNING id
                    """, as: Int64.self, on: connection)
                guard applied != nil else { continue }
                if move.cancelAwaiting {
                    try await execute("""
                        UPDATE messages SET state = 'canceled', last_error_code = 'step_removed', updated_at = \(now),
                               last_error = \("its step is not in version \(version.version) of the sequence")
                        WHERE id = (SELECT awaiting FROM enrollments WHERE id = \(move.id)) AND state = 'queued'
                        """, on: connection)
                }
                moved.append(move.id)
            }
            return moved
        }
    }
}

extension EnrollmentDetail {
    init(_ row: PostgresRandomAccessRow) throws {
        self.init(id: try row.get("id"), key: try row.get("key"), sequence: try row.get("sequence"), version: try row.get("version"),
                  state: EnrollmentProgress.State(rawValue: try row.get("state")) ?? .active, exitReason: try row.get("exit_reason"),
                  recipient: try Recipient(stored: try row.get("recipient", as: String.self)),
                  campaign: try row.get("campaign"), startedAt: try row.get("started_at"),
                  nextStep: Int(try row.get("next_step", as: Int32.self)), nextDue: try row.get("next_due"),
                  endedAt: try row.get("ended_at"), round: Int(try row.get("round", as: Int32.self)),
                  awaitingKey: try row.get("awaiting_key"),
                  awaitingState: (try row.get("awaiting_state", as: String?.self)).flatMap(MessageState.init(rawValue:)))
    }
}
