// The raw PostgreSQL peer for Benchmarks/postgres-throughput.sh: how fast can postgres-nio, on
// Herald's own schema, claim 100 due rows (the MATERIALIZED CTE with FOR UPDATE SKIP LOCKED) and
// mark them done, in a loop? That is the engine's ceiling for Herald's end-to-end rate.
import Foundation
import HeraldCore
import Logging
import PostgresNIO

/// `herald-bench pg-claim-loop URL ROWS`
func runPostgresClaimLoop(url: String, rows: Int) async throws {
    guard let settings = try PostgresSettings.parse(url, environment: ProcessInfo.processInfo.environment) else {
        throw BenchError("not a postgres:// URL: \(url)")
    }
    var logger = Logger(label: "bench")
    logger.logLevel = .warning
    // Herald's schema and migrations, through the engine itself.
    let queue = try PostgresQueue(settings: settings, logger: logger)
    try await queue.whileConnected {}

    let client = PostgresClient(configuration: .init(host: settings.host, port: settings.port, username: settings.username,
                                                     password: settings.password?.exposedValue, database: settings.database,
                                                     tls: .disable), backgroundLogger: logger)
    try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask { await client.run() }
        defer { group.cancelAll() }
        FileHandle.standardError.write(Data("raw postgres: inserting \(rows) due rows\n".utf8))
        let now = Timestamp.now()
        try await client.query("""
            INSERT INTO messages (key, channel, template, recipient, data, category, state, due_at, created_at, updated_at)
            SELECT 'bench-' || n, 'webhook', 'bench', '{"endpoint":"bench"}', '{"n":' || n || ',"lead":"Sarah Jones"}',
                   'marketing', 'queued', \(now - 1_000), \(now), \(now)
            FROM generate_series(1, \(rows)) AS n
            """, logger: logger)
        try await client.query("VACUUM ANALYZE messages", logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        var total = 0
        while true {
            let at = Timestamp.now()
            var ids: [Int64] = []
            for try await id in try await client.query("""
                WITH subset AS MATERIALIZED (
                    SELECT id FROM messages WHERE state = 'queued' AND due_at <= \(at) AND channel = ANY(\(["webhook"]))
                    ORDER BY due_at, id LIMIT 100 FOR UPDATE SKIP LOCKED)
                UPDATE messages m SET state = 'leased', lease_owner = 'bench', lease_until = \(at + 60_000),
                    attempts = m.attempts + 1, updated_at = \(at)
                FROM subset WHERE m.id = subset.id
                RETURNING m.id
                """, logger: logger).decode(Int64.self) { ids.append(id) }
            if ids.isEmpty { break }
            try await client.query("""
                UPDATE messages SET state = 'sent', lease_owner = NULL, lease_until = NULL, updated_at = \(at) WHERE id = ANY(\(ids))
                """, logger: logger)
            total += ids.count
        }
        let elapsed = clock.now - start
        let perSecond = Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        print(String(format: "raw_pg_claim_done_rows_per_s %.0f", perSecond))
        print("raw_pg_rows \(total)")
    }
}
