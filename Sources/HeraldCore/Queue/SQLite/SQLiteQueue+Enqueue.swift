import Foundation
import GRDB

extension SQLiteQueue {
    public func enqueue(_ messages: [NewMessage], now: Int64) async throws -> [EnqueueOutcome] {
        let outcomes = try await write { db in try Self.insert(messages, now: now, db: db) }
        if !messages.isEmpty { waiting.announce() }
        return outcomes
    }

    /// Binds each row through SQLite's C API (`RowBinder`) rather than GRDB's
    /// `StatementArguments`: this runs on the writer's thread, the one thread all of a file's or a
    /// stream's intake waits on.
    static func insert(_ messages: [NewMessage], now: Int64, db: Database) throws -> [EnqueueOutcome] {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO messages (key, channel, template, recipient, data, category, campaign, state,
                                  due_at, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)
            ON CONFLICT(key) DO NOTHING
            """)
        let existing = try db.cachedStatement(sql: "SELECT id FROM messages WHERE key = ?")
        let row = RowBinder(insert)
        var outcomes: [EnqueueOutcome] = []
        outcomes.reserveCapacity(messages.count)
        for message in messages {
            row.bind(1, message.key)
            row.bind(2, message.channel.rawValue)
            row.bind(3, message.template)
            row.bind(4, message.recipient.jsonText)
            row.bind(5, message.dataJSON)
            row.bind(6, message.category.rawValue)
            row.bind(7, message.campaign)
            row.bind(8, message.sendAt)
            row.bind(9, now)
            row.bind(10, now)
            // step + changesCount: a RETURNING cursor per row cost more than the insert.
            try row.step(db)
            if db.changesCount > 0 {
                outcomes.append(.queued(id: db.lastInsertedRowID))
            } else {
                let id = try Int64.fetchOne(existing, arguments: [message.key]) ?? 0
                outcomes.append(.duplicate(id: id))
            }
        }
        return outcomes
    }
}
