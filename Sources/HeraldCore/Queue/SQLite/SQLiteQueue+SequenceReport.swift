import GRDB

extension SQLiteQueue {
    public func pruneEnrollments(before cutoff: Int64, limit: Int, dryRun: Bool) async throws -> Int {
        let select = "SELECT id FROM enrollments WHERE state <> 'active' AND ended_at < ? ORDER BY id LIMIT ?"
        if dryRun {
            return try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(select))", arguments: [cutoff, limit]) ?? 0 }
        }
        return try await write { db in
            try db.execute(sql: "DELETE FROM enrollments WHERE id IN (\(select))", arguments: [cutoff, limit])
            return db.changesCount
        }
    }

    public func enrollmentCounts() async throws -> [String: [EnrollmentProgress.State: Int]] {
        try await read { db in
            var counts: [String: [EnrollmentProgress.State: Int]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT sequence, state, count(*) FROM enrollments GROUP BY sequence, state") {
                guard let state = EnrollmentProgress.State(rawValue: row[1]) else { continue }
                counts[row[0], default: [:]][state] = row[2]
            }
            return counts
        }
    }

    public func sequenceReport(_ sequence: String, steps: [String], version: String) async throws -> SequenceReport {
        try await read { db in
            var report = SequenceReport()
            for row in try Row.fetchAll(db, sql: """
                SELECT state, exit_reason, version, count(*) FROM enrollments WHERE sequence = ? GROUP BY state, exit_reason, version
                """, arguments: [sequence]) {
                guard let state = EnrollmentProgress.State(rawValue: row[0]) else { continue }
                let count: Int = row[3]
                report.states[state, default: 0] += count
                if let reason: String = row[1] { report.exits[reason, default: 0] += count }
                if state == .active { report.activeByVersion[row[2], default: 0] += count }
            }
            if !steps.isEmpty {
                // Each step's message by its key (`<enrollment key>/<step name>`), through the key's index.
                for row in try Row.fetchAll(db, sql: """
                    WITH steps(name) AS (VALUES \(steps.map { _ in "(?)" }.joined(separator: ", ")))
                    SELECT s.name, m.state, count(*) FROM enrollments e CROSS JOIN steps s
                    JOIN messages m ON m.key = e.key || '/' || s.name
                    WHERE e.sequence = ? GROUP BY s.name, m.state
                    """, arguments: StatementArguments(steps) + [sequence]) {
                    guard let state = MessageState(rawValue: row[1]) else { continue }
                    report.steps[row[0], default: [:]][state] = row[2]
                }
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT next_step, count(*) FROM enrollments WHERE sequence = ? AND version = ? AND state = 'active' GROUP BY next_step
                """, arguments: [sequence, version]) {
                report.activeAtStep[row[0]] = row[1]
            }
            return report
        }
    }
}
