import Foundation
import GRDB

extension SQLiteQueue {
    public func recordBounce(_ bounce: BounceRecord, suppression: Suppression?, events: [Event]) async throws -> Bool {
        try await write { db in
            try db.execute(sql: """
                INSERT INTO bounces (received_at, source, source_id, kind, format, message_id, message_sent_at, recipient, status,
                                     severity, feedback_type, decision, reason, raw)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(source, source_id) DO NOTHING
                """, arguments: [bounce.receivedAt, bounce.source, bounce.sourceID, bounce.kind.rawValue, bounce.format,
                                 bounce.messageID, bounce.messageSentAt, bounce.recipient, bounce.status, bounce.severity?.rawValue,
                                 bounce.feedbackType, bounce.decision.rawValue, bounce.reason, Data(bounce.raw)])
            guard db.changesCount > 0 else { return false }
            if let suppression {
                // A complaint outranks everything; a bounce replaces only an unsubscribe (which
                // START could lift from an address that no longer exists).
                try db.execute(sql: """
                    INSERT INTO suppressions (channel, address, reason, source, created_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT(channel, address) DO UPDATE SET reason = excluded.reason, source = excluded.source,
                        created_at = excluded.created_at
                    WHERE excluded.reason = 'complained' AND suppressions.reason != 'complained' OR suppressions.reason = 'unsubscribed'
                    """, arguments: [suppression.channel.rawValue, suppression.address.value, suppression.reason.rawValue,
                                     suppression.source, bounce.receivedAt])
            }
            try Self.insert(events, db: db)
            return true
        }
    }

    public func softBounces(of address: Address, since: Int64, sentBefore: Int64) async throws -> Int {
        try await read { db in
            try Int.fetchOne(db, sql: """
                SELECT count(*) FROM bounces
                WHERE recipient = ?1 AND decision IN ('counted', 'suppressed_soft') AND received_at >= ?2
                  AND coalesce(message_sent_at, 0) > coalesce((
                      SELECT max(a.started_at) FROM messages m JOIN attempts a ON a.message_id = m.id AND a.outcome = 'sent'
                      WHERE m.channel = 'email' AND lower(trim(json_extract(m.recipient, '$.email'))) = ?1 AND m.state = 'sent'
                        AND a.started_at < ?3
                        AND NOT EXISTS (SELECT 1 FROM bounces b WHERE b.message_id = m.id AND b.kind = 'bounce')
                  ), 0)
                """, arguments: [address.value, since, sentBefore]) ?? 0
        }
    }

    public func bounces(before: Int64?, recipient: Address?, limit: Int) async throws -> [BounceRecord] {
        try await read { db in
            if let recipient {
                return try Row.fetchAll(db, sql: "SELECT * FROM bounces WHERE recipient = ? AND id < ? ORDER BY id DESC LIMIT ?",
                                        arguments: [recipient.value, before ?? Int64.max, limit]).map(BounceRecord.init(row:))
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM bounces WHERE id < ? ORDER BY id DESC LIMIT ?",
                                    arguments: [before ?? Int64.max, limit]).map(BounceRecord.init(row:))
        }
    }

    public func bounceDecisions(source: String, sourceIDs: [String]) async throws -> [String: BounceRecord.Decision] {
        try await read { db in
            var decisions: [String: BounceRecord.Decision] = [:]
            // In chunks: SQLite limits the parameters of one statement.
            for start in stride(from: 0, to: sourceIDs.count, by: 500) {
                let chunk = Array(sourceIDs[start..<min(start + 500, sourceIDs.count)])
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchAll(db, sql: "SELECT source_id, decision FROM bounces WHERE source = ? AND source_id IN (\(marks))",
                                            arguments: StatementArguments([source] + chunk))
                for row in rows {
                    let id: String = row[0]
                    decisions[id] = BounceRecord.Decision(rawValue: row[1]) ?? .review
                }
            }
            return decisions
        }
    }

    public func pruneBounces(before cutoff: Int64, limit: Int, dryRun: Bool) async throws -> Int {
        let select = "SELECT id FROM bounces WHERE received_at < ? ORDER BY id LIMIT ?"
        if dryRun {
            return try await read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(select))", arguments: [cutoff, limit]) ?? 0 }
        }
        return try await write { db in
            try db.execute(sql: "DELETE FROM bounces WHERE id IN (\(select))", arguments: [cutoff, limit])
            return db.changesCount
        }
    }

    public func bounce(_ id: Int64) async throws -> BounceRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM bounces WHERE id = ?", arguments: [id]).map(BounceRecord.init(row:))
        }
    }
}

extension BounceRecord {
    init(row: Row) {
        self.init(id: row["id"], receivedAt: row["received_at"], source: row["source"], sourceID: row["source_id"],
                  kind: BounceReport.Kind(rawValue: row["kind"]) ?? .review, format: row["format"], messageID: row["message_id"],
                  messageSentAt: row["message_sent_at"], recipient: row["recipient"], status: row["status"],
                  severity: (row["severity"] as String?).flatMap(BounceClassification.Severity.init(rawValue:)),
                  feedbackType: row["feedback_type"], decision: Decision(rawValue: row["decision"]) ?? .review,
                  reason: row["reason"], raw: Array((row["raw"] as Data?) ?? Data()))
    }
}
