// The raw SQLite peer for Benchmarks/ingest-throughput.sh: the same rows Herald stores for the
// benchmark's messages, inserted through GRDB into Herald's own schema, 500 per transaction,
// with nothing parsed or validated. That is the ceiling for Herald's ingest rate.
import Foundation
import GRDB
import HeraldCore

/// `herald-bench insert-batched DB_PATH ROWS`
func runInsertBatched(path: String, rows: Int) throws {
    _ = try SQLiteQueue(path: path)  // Herald's schema and pragmas.
    var configuration = Configuration()
    configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
    let pool = try DatabasePool(path: path, configuration: configuration)
    let sendAt = Int64(1_893_488_400_000)  // 2030-01-01T09:00:00Z, as in the benchmark's messages
    let clock = ContinuousClock()
    let start = clock.now
    var inserted = 0
    while inserted < rows {
        let batch = min(500, rows - inserted)
        let now = Timestamp.now()
        try pool.write { db in
            let statement = try db.cachedStatement(sql: """
                INSERT INTO messages (key, channel, template, recipient, data, category, campaign, state,
                                      due_at, created_at, updated_at)
                VALUES (?, 'webhook', 'hot-lead-alert', '{"endpoint":"bench","name":"Sarah Jones"}', ?, 'transactional',
                        'bench', 'queued', ?, ?, ?)
                ON CONFLICT(key) DO NOTHING
                """)
            for index in 0..<batch {
                let n = inserted + index
                let data = #"{"event":"downloaded the guide and read 3 posts","lead":"Sarah Jones","n":\#(n),"score":87}"#
                try statement.execute(arguments: ["ingest-\(n)", data, sendAt, now, now])
            }
        }
        inserted += batch
        if inserted % 200_000 == 0 { FileHandle.standardError.write(Data("  inserted \(inserted)/\(rows)\n".utf8)) }
    }
    print("raw_insert_rows_per_s \(Double(rows) / seconds(clock.now - start))")
}
