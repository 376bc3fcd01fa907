import GRDB

extension SQLiteQueue {
    /// All in one transaction (group commit: one transaction for many outcomes is what keeps
    /// SQLite off the critical path). If a lease was lost (it expired and another worker took the
    /// message), the attempt is still recorded but the message is left to its new holder (and its
    /// events are not recorded).
    public func settle(_ settlements: [Settlement], events: [Event], owner: LeaseOwner, now: Int64) async throws -> [Int64] {
        let owner = owner.description
        return try await write { db in
            try Self.settle(settlements, events: events, owner: owner, now: now, db: db)
        }
    }

    static func settle(_ settlements: [Settlement], events: [Event], owner: String, now: Int64, db: Database) throws -> [Int64] {
        let eventsByMessage = Dictionary(grouping: events, by: \.messageID)
        // Sent, the common outcome, ends every message of the batch in one statement; the rest
        // are one statement each.
        let sentIDs = settlements.compactMap { settlement -> Int64? in
            if case .sent(let attempt) = settlement { attempt.messageID } else { nil }
        }
        var ended = Set<Int64>()
        if !sentIDs.isEmpty {
            let finishSent = try db.cachedStatement(sql: """
                UPDATE messages
                SET state = 'sent', lease_owner = NULL, lease_until = NULL, updated_at = ?, last_error_code = NULL,
                    last_error = NULL, deferred = NULL
                WHERE id IN (SELECT value FROM json_each(?)) AND state = 'leased' AND lease_owner = ?
                RETURNING id
                """)
            let list = "[" + sentIDs.map(String.init).joined(separator: ",") + "]"
            ended = Set(try Int64.fetchAll(finishSent, arguments: [now, list, owner]))
        }
        let finish = try db.cachedStatement(sql: """
            UPDATE messages
            SET state = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?, last_error_code = ?, last_error = ?,
                deferred = NULL
            WHERE id = ? AND state = 'leased' AND lease_owner = ?
            """)
        let requeue = try db.cachedStatement(sql: """
            UPDATE messages
            SET state = 'queued', due_at = ?, lease_owner = NULL, lease_until = NULL, updated_at = ?,
                last_error_code = ?, last_error = ?, deferred = NULL
            WHERE id = ? AND state = 'leased' AND lease_owner = ?
            """)
        let release = try db.cachedStatement(sql: """
            UPDATE messages
            SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_until = NULL, updated_at = ?
            WHERE id = ? AND state = 'leased' AND lease_owner = ?
            """)
        let putOff = try db.cachedStatement(sql: """
            UPDATE messages
            SET state = 'queued', attempts = attempts - 1, due_at = ?, deferred = ?, lease_owner = NULL, lease_until = NULL,
                updated_at = ?
            WHERE id = ? AND state = 'leased' AND lease_owner = ?
            """)
        let endSuppressed = try db.cachedStatement(sql: """
            UPDATE messages SET state = 'suppressed', lease_owner = NULL, lease_until = NULL, attempts = attempts - 1,
                last_error_code = 'suppressed', last_error = ?, deferred = NULL, updated_at = ?
            WHERE id = ? AND state = 'leased' AND lease_owner = ?
            """)
        var lost: [Int64] = []
        for settlement in settlements {
            let arguments: StatementArguments
            let update: Statement
            switch settlement {
            case .sent(let attempt):
                if ended.contains(attempt.messageID) {
                    try insert(eventsByMessage[attempt.messageID] ?? [], db: db)
                } else {
                    lost.append(attempt.messageID)
                }
                continue
            case .failed(let attempt, let lastError, let suppression):
                update = finish
                arguments = [MessageState.failed.rawValue, now, attempt.errorCode, lastError, attempt.messageID, owner]
                if let suppression { try suppress(suppression, now: now, db: db) }
                // A failed message did not reach the recipient: it does not count against a cap.
                try db.cachedStatement(sql: "DELETE FROM contacts WHERE message_id = ?").execute(arguments: [attempt.messageID])
            case .retry(let attempt, let lastError):
                update = requeue
                arguments = [attempt.retryAt ?? now, now, attempt.errorCode, lastError, attempt.messageID, owner]
            case .release(let id):
                update = release
                arguments = [now, id, owner]
            case .deferred(let id, let deferral):
                update = putOff
                arguments = [deferral.until, deferral.reason.rawValue, now, id, owner]
            case .suppressed(let id, let suppression):
                update = endSuppressed
                arguments = [suppression.summary, now, id, owner]
            }
            try update.execute(arguments: arguments)
            if db.changesCount == 0 {
                lost.append(settlement.messageID)
            } else {
                try insert(eventsByMessage[settlement.messageID] ?? [], db: db)
            }
        }
        try record(settlements.compactMap(\.attempt), db: db)
        return lost
    }

    /// Inserts the attempts several rows per statement: 16, then 4, then one at a time, so
    /// three cached statements serve every batch size.
    private static func record(_ attempts: [DeliveryAttempt], db: Database) throws {
        var rest = attempts[...]
        while !rest.isEmpty {
            let rows = rest.count >= 16 ? 16 : rest.count >= 4 ? 4 : 1
            var arguments = StatementArguments()
            for attempt in rest.prefix(rows) {
                arguments += [
                    attempt.messageID, attempt.number, attempt.startedAt, attempt.durationMicroseconds, attempt.worker,
                    attempt.outcome.rawValue, attempt.errorCode, attempt.remoteCode, attempt.remoteText, attempt.retryAt,
                    attempt.remoteID,
                ]
            }
            try db.cachedStatement(sql: insertAttemptsSQL(rows: rows)).execute(arguments: arguments)
            rest = rest.dropFirst(rows)
        }
    }

    private static func insertAttemptsSQL(rows: Int) -> String {
        """
        INSERT INTO attempts (message_id, number, started_at, duration_us, worker, outcome, error_code,
                              remote_code, remote_text, retry_at, remote_id)
        VALUES \(Array(repeating: "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", count: rows).joined(separator: ", "))
        """
    }
}
