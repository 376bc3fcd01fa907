// The raw SQLite peer for Benchmarks/webhook-throughput.sh: how fast can GRDB, on Herald's own
// schema and settings, claim 100 due rows with UPDATE … RETURNING and mark them done, in a loop?
// That is the ceiling for Herald's end-to-end rate. It also measures whether a claim's cost stays
// flat as the backlog grows (the partial due index).
//
import Foundation
import GRDB
import HeraldCore

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func fill(_ pool: DatabasePool, rows: Int, from start: Int) throws {
    let now = Timestamp.now()
    var inserted = 0
    while inserted < rows {
        let batch = min(500, rows - inserted)
        try pool.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO messages (key, channel, template, recipient, data, category, state, due_at, created_at, updated_at)
                VALUES (?, 'webhook', 'bench', '{"endpoint":"bench"}', ?, 'marketing', 'queued', ?, ?, ?)
                """)
            for index in 0..<batch {
                let n = start + inserted + index
                try statement.execute(arguments: ["bench-\(n)", #"{"n":\#(n),"lead":"Sarah Jones"}"#, now - 1_000, now, now])
            }
        }
        inserted += batch
        if inserted % 100_000 == 0 { FileHandle.standardError.write(Data("  inserted \(inserted)/\(rows)\n".utf8)) }
    }
}

/// Claims 100 at a time and marks each batch done, until nothing is due; returns rows per second.
func claimLoop(_ pool: DatabasePool, limit: Int = 100, maxRows: Int = .max) throws -> (rows: Int, perSecond: Double) {
    let clock = ContinuousClock()
    let start = clock.now
    var total = 0
    while total < maxRows {
        let now = Timestamp.now()
        let ids = try pool.write { db in
            try Int64.fetchAll(db, sql: """
                UPDATE messages SET state = 'leased', lease_owner = 'bench', lease_until = ?, attempts = attempts + 1
                WHERE id IN (SELECT id FROM messages INDEXED BY messages_due
                             WHERE state = 'queued' AND due_at <= ? ORDER BY due_at, id LIMIT ?)
                RETURNING id
                """, arguments: [now + 60_000, now, limit])
        }
        if ids.isEmpty { break }
        try pool.write { db in
            let statement = try db.cachedStatement(sql: "UPDATE messages SET state = 'sent', lease_owner = NULL WHERE id = ?")
            for id in ids { try statement.execute(arguments: [id]) }
        }
        total += ids.count
    }
    return (total, Double(total) / seconds(clock.now - start))
}

/// `herald-bench claim-loop DB_PATH ROWS`
func runClaimLoop(path: String, rows: Int) throws {
    _ = try SQLiteQueue(path: path)  // Herald's schema and migrations.
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
    let pool = try DatabasePool(path: path, configuration: configuration)

    FileHandle.standardError.write(Data("raw sqlite: inserting \(rows) due rows\n".utf8))
    try fill(pool, rows: rows, from: 0)
    let loop = try claimLoop(pool)
    print(String(format: "raw_claim_done_rows_per_s %.0f", loop.perSecond))

    // Flatness: the same claim loop over 20,000 due rows with 20,000 and with 500,000 other queued
    // rows behind them (due later), in the same index.
    func claimRate(backlog: Int, base: Int) throws -> Double {
        try pool.write { db in try db.execute(sql: "DELETE FROM messages") }
        try fill(pool, rows: 20_000, from: base)
        try fill(pool, rows: backlog, from: base + 20_000)
        try pool.write { db in
            try db.execute(sql: "UPDATE messages SET due_at = due_at + 3600000 WHERE id > (SELECT min(id) + 19999 FROM messages)")
        }
        return try claimLoop(pool, maxRows: 20_000).perSecond
    }
    FileHandle.standardError.write(Data("raw sqlite: claim rate with a small and a large backlog\n".utf8))
    let small = try claimRate(backlog: 20_000, base: 10_000_000)
    let large = try claimRate(backlog: 500_000, base: 20_000_000)
    print(String(format: "claim_rows_per_s_backlog_20k %.0f", small))
    print(String(format: "claim_rows_per_s_backlog_500k %.0f", large))
}
