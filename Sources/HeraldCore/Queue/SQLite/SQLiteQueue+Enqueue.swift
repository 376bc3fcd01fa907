import Foundation
import GRDB

extension SQLiteQueue {
    public func enqueue(_ messages: [NewMessage], now: Int64) async throws -> [EnqueueOutcome] {
        let outcomes = try await write { db in try Self.insert(messages, now: now, db: db) }
        if !messages.isEmpty { waiting.announce() }
        return outcomes
    }

    static func insert(_ messages: [NewMessage], now: Int64, db: Database) throws -> [EnqueueOutcome] {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO messages (key, channel, template, recipient, data, category, campaign, state,
                                  due_at, created_at, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?)
            ON CONFLICT(key) DO NOTHING
            """)
        let existing = try db.cachedStatement(sql: "SELECT id FROM messages WHERE key = ?")
        var outcomes: [EnqueueOutcome] = []
        outcomes.reserveCapacity(messages.count)
        for message in messages {
            let recipient = message.recipient.jsonText
            let arguments: StatementArguments = [
                message.key, message.channel.rawValue, message.template, recipient, message.dataJSON,
                message.category.rawValue, message.campaign, message.sendAt, now, now,
            ]
            // execute + changesCount: a RETURNING cursor per row cost more than the insert.
            try insert.execute(arguments: arguments)
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
