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
        let insertAttempt = try db.cachedStatement(sql: """
            INSERT INTO attempts (message_id, number, started_at, duration_us, worker, outcome, error_code,
                                  remote_code, remote_text, retry_at, remote_id)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
        var lost: [Int64] = []
        for settlement in settlements {
            let arguments: StatementArguments
            let update: Statement
            switch settlement {
            case .sent(let attempt):
                update = finish
                arguments = [MessageState.sent.rawValue, now, nil, nil, attempt.messageID, owner]
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
            if let attempt = settlement.attempt { try record(attempt, with: insertAttempt) }
        }
        return lost
    }

    private static func record(_ attempt: DeliveryAttempt, with statement: Statement) throws {
        try statement.execute(arguments: [
            attempt.messageID, attempt.number, attempt.startedAt, attempt.durationMicroseconds, attempt.worker,
            attempt.outcome.rawValue, attempt.errorCode, attempt.remoteCode, attempt.remoteText, attempt.retryAt, attempt.remoteID,
        ])
    }
}
