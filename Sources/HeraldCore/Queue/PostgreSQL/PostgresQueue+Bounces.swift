import Foundation
import PostgresNIO

extension PostgresQueue {
    public func recordBounce(_ bounce: BounceRecord, suppression: Suppression?, events: [Event]) async throws -> Bool {
        try await transaction { connection in
            let inserted = try await self.rows("""
                INSERT INTO bounces (received_at, source, source_id, kind, format, message_id, message_sent_at, recipient, status,
                                     severity, feedback_type, decision, reason, raw)
                VALUES (\(bounce.receivedAt), \(bounce.source), \(bounce.sourceID), \(bounce.kind.rawValue), \(bounce.format),
                        \(bounce.messageID), \(bounce.messageSentAt), \(bounce.recipient), \(bounce.status),
                        \(bounce.severity?.rawValue), \(bounce.feedbackType), \(bounce.decision.rawValue), \(bounce.reason),
                        \(Data(bounce.raw)))
                ON CONFLICT (source, source_id) DO NOTHING
                RETURNING id
                """, on: connection)
            guard !inserted.isEmpty else { return false }
            if let suppression {
                // A complaint outranks everything; a bounce replaces only an unsubscribe (which
                // START could lift from an address that no longer exists).
                try await self.execute("""
                    INSERT INTO suppressions (channel, address, reason, source, created_at)
                    VALUES (\(suppression.channel.rawValue), \(suppression.address.value), \(suppression.reason.rawValue),
                            \(suppression.source), \(bounce.receivedAt))
                    ON CONFLICT (channel, address) DO UPDATE SET reason = excluded.reason, source = excluded.source,
                        created_at = excluded.created_at
                    WHERE (excluded.reason = 'complained' AND suppressions.reason <> 'complained') OR suppressions.reason = 'unsubscribed'
                    """, on: connection)
            }
            try await self.record(events, on: connection)
            return true
        }
    }

    public func softBounces(of address: Address, since: Int64, sentBefore: Int64) async throws -> Int {
        try await value("""
            SELECT count(*)::bigint FROM bounces
            WHERE recipient = \(address.value) AND decision IN ('counted', 'suppressed_soft') AND received_at >= \(since)
              AND coalesce(message_sent_at, 0) > coalesce((
                  SELECT max(a.started_at) FROM messages m JOIN attempts a ON a.message_id = m.id AND a.outcome = 'sent'
                  WHERE m.channel = 'email' AND lower(btrim(m.recipient::jsonb ->> 'email')) = \(address.value) AND m.state = 'sent'
                    AND a.started_at < \(sentBefore)
                    AND NOT EXISTS (SELECT 1 FROM bounces b WHERE b.message_id = m.id AND b.kind = 'bounce')
              ), 0)
            """, as: Int.self) ?? 0
    }

    public func bounces(before: Int64?, recipient: Address?, limit: Int) async throws -> [BounceRecord] {
        if let recipient {
            return try await rows("""
                SELECT * FROM bounces WHERE recipient = \(recipient.value) AND id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(limit)
                """).map(BounceRecord.init)
        }
        return try await rows("SELECT * FROM bounces WHERE id < \(before ?? Int64.max) ORDER BY id DESC LIMIT \(limit)").map(BounceRecord.init)
    }

    public func bounceDecisions(source: String, sourceIDs: [String]) async throws -> [String: BounceRecord.Decision] {
        var decisions: [String: BounceRecord.Decision] = [:]
        for row in try await rows("SELECT source_id, decision FROM bounces WHERE source = \(source) AND source_id = ANY(\(sourceIDs))") {
            decisions[try row.get("source_id")] = BounceRecord.Decision(rawValue: try row.get("decision")) ?? .review
        }
        return decisions
    }

    public func pruneBounces(before cutoff: Int64, limit: Int, dryRun: Bool) async throws -> Int {
        if dryRun {
            return try await value("""
                SELECT count(*)::bigint FROM (SELECT id FROM bounces WHERE received_at < \(cutoff) ORDER BY id LIMIT \(limit)) x
                """, as: Int.self) ?? 0
        }
        return try await rows("""
            DELETE FROM bounces WHERE id IN (SELECT id FROM bounces WHERE received_at < \(cutoff) ORDER BY id LIMIT \(limit)) RETURNING id
            """).count
    }

    public func bounce(_ id: Int64) async throws -> BounceRecord? {
        try await rows("SELECT * FROM bounces WHERE id = \(id)").first.map(BounceRecord.init)
    }
}

extension BounceRecord {
    init(_ row: PostgresRandomAccessRow) throws {
        self.init(id: try row.get("id"), receivedAt: try row.get("received_at"), source: try row.get("source"),
                  sourceID: try row.get("source_id"), kind: BounceReport.Kind(rawValue: try row.get("kind")) ?? .review,
                  format: try row.get("format"), messageID: try row.get("message_id"), messageSentAt: try row.get("message_sent_at"),
                  recipient: try row.get("recipient"), status: try row.get("status"),
                  severity: (try row.get("severity", as: String?.self)).flatMap(BounceClassification.Severity.init(rawValue:)),
                  feedbackType: try row.get("feedback_type"),
                  decision: Decision(rawValue: try row.get("decision")) ?? .review, reason: try row.get("reason"),
                  raw: Array(try row.get("raw", as: Data.self)))
    }
}
