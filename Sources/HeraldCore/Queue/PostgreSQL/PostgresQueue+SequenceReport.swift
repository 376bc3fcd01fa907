import PostgresNIO

extension PostgresQueue {
    public func pruneEnrollments(before cutoff: Int64, limit: Int, dryRun: Bool) async throws -> Int {
        if dryRun {
            return try await value("""
                SELECT count(*)::bigint FROM (SELECT id FROM enrollments WHERE state <> 'active' AND ended_at < \(cutoff)
                                              ORDER BY id LIMIT \(limit)) x
                """, as: Int.self) ?? 0
        }
        return try await rows("""
            DELETE FROM enrollments WHERE id IN (SELECT id FROM enrollments WHERE state <> 'active' AND ended_at < \(cutoff)
                                                 ORDER BY id LIMIT \(limit)) RETURNING id
            """).count
    }

    public func enrollmentCounts() async throws -> [String: [EnrollmentProgress.State: Int]] {
        var counts: [String: [EnrollmentProgress.State: Int]] = [:]
        for row in try await rows("SELECT sequence, state, count(*) AS n FROM enrollments GROUP BY sequence, state") {
            guard let state = EnrollmentProgress.State(rawValue: try row.get("state")) else { continue }
            counts[try row.get("sequence"), default: [:]][state] = Int(try row.get("n", as: Int64.self))
        }
        return counts
    }

    public func sequenceReport(_ sequence: String, steps: [String], version: String) async throws -> SequenceReport {
        var report = SequenceReport()
        for row in try await rows("""
            SELECT state, exit_reason, version, count(*) AS n FROM enrollments WHERE sequence = \(sequence)
            GROUP BY state, exit_reason, version
            """) {
            guard let state = EnrollmentProgress.State(rawValue: try row.get("state")) else { continue }
            let count = Int(try row.get("n", as: Int64.self))
            report.states[state, default: 0] += count
            if let reason = try row.get("exit_reason", as: String?.self) { report.exits[reason, default: 0] += count }
            if state == .active { report.activeByVersion[try row.get("version"), default: 0] += count }
        }
        if !steps.isEmpty {
            // Each step's message by its key (`<enrollment key>/<step name>`), through the key's index.
            for row in try await rows("""
                SELECT s.name, m.state, count(*) AS n FROM enrollments e CROSS JOIN unnest(\(steps)::text[]) AS s(name)
                JOIN messages m ON m.key = e.key || '/' || s.name
                WHERE e.sequence = \(sequence) GROUP BY s.name, m.state
                """) {
                guard let state = MessageState(rawValue: try row.get("state")) else { continue }
                report.steps[try row.get("name"), default: [:]][state] = Int(try row.get("n", as: Int64.self))
            }
        }
        for row in try await rows("""
            SELECT next_step, count(*) AS n FROM enrollments
            WHERE sequence = \(sequence) AND version = \(version) AND state = 'active' GROUP BY next_step
            """) {
            report.activeAtStep[Int(try row.get("next_step", as: Int32.self))] = Int(try row.get("n", as: Int64.self))
        }
        return report
    }
}
