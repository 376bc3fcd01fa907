import GRDB

extension SQLiteQueue {
    /// Messages sent per minute over the last `minutes` minutes, oldest first (zeros included),
    /// for the console's throughput chart.
    public func sentPerMinute(minutes: Int, now: Int64) async throws -> [Int] {
        let end = now / 60_000 * 60_000 + 60_000
        let start = end - Int64(minutes) * 60_000
        let rows = try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT (started_at - ?) / 60000 AS slot, count(*) AS n FROM attempts INDEXED BY attempts_started
                WHERE started_at >= ? AND started_at < ? AND outcome = 'sent' GROUP BY slot
                """, arguments: [start, start, end]).map { ($0["slot"] as Int, $0["n"] as Int) }
        }
        var counts = Array(repeating: 0, count: minutes)
        for (slot, count) in rows where counts.indices.contains(slot) { counts[slot] = count }
        return counts
    }
}
