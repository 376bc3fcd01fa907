import Foundation
import GRDB

extension SQLiteQueue {
    /// SQLite serializes writers, so two claims, in this process or another, never see the same
    /// row as queued.
    public func claim(limit: Int, owner: LeaseOwner, lease: Duration, channels: Set<Channel>,
                      now: Int64) async throws -> ClaimBatch {
        guard limit > 0, !channels.isEmpty else { return ClaimBatch(messages: []) }
        let channelList = channels.sorted().map(\.rawValue)
        let ownHost = owner.hostPrefix
        let owner = owner.description
        let leaseUntil = now + lease.milliseconds
        return try await write { db in
            // Cached like every statement of the claim: prepared anew on each claim, SQLite's
            // parser and GRDB's authorizer allocated for it every time.
            try db.cachedStatement(sql: """
                UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ?
                WHERE id IN (SELECT id FROM messages INDEXED BY messages_lease
                             WHERE state = 'leased' AND lease_until <= ? AND substr(lease_owner, 1, ?) <> ?)
                """).execute(arguments: [now, now, ownHost.count, ownHost])
            let statement = try db.cachedStatement(sql: Self.claimSQL(channelCount: channelList.count))
            var arguments: StatementArguments = [owner, leaseUntil, now, now]
            arguments += StatementArguments(channelList)
            arguments += [limit]
            let claimed = try Row.fetchAll(statement, arguments: arguments).map(Self.claimedMessage)
            .sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
            var batch = ClaimBatch(messages: claimed)
            // A full claim means more is due now: the next due time matters only after a short one.
            if claimed.count < limit {
                batch.nextDue = try Int64.fetchOne(db.cachedStatement(sql: Self.nextDueSQL(channelCount: channelList.count)),
                                                   arguments: StatementArguments(channelList))
            }
            return batch
        }
    }

    static func nextDueSQL(channelCount: Int) -> String {
        """
        SELECT due_at FROM messages INDEXED BY messages_due
        WHERE state = 'queued' AND channel IN (\(databaseQuestionMarks(count: channelCount)))
        ORDER BY due_at, id LIMIT 1
        """
    }

    /// The claim: one statement, due order, bounded by LIMIT.
    ///
    /// `INDEXED BY messages_due` pins the plan. Without table statistics SQLite prefers the
    /// (state, channel) index and sorts every queued row, which makes each claim cost as much as
    /// the backlog is long; walking the partial due index stops after LIMIT rows whatever the size.
    /// `claimedMessage` reads the RETURNING columns by position.
    static func claimSQL(channelCount: Int) -> String {
        """
        UPDATE messages
        SET state = 'leased', lease_owner = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
        WHERE id IN (
            SELECT id FROM messages INDEXED BY messages_due
            WHERE state = 'queued' AND due_at <= ? AND channel IN (\(databaseQuestionMarks(count: channelCount)))
            ORDER BY due_at, id
            LIMIT ?)
        RETURNING id, key, channel, template, recipient, data, category, campaign, attempts, due_at, deferred, retry_base
        """
    }

    /// A row of the claim's RETURNING list, read by column index and its recipient with
    /// Herald's JSON parser: every delivery passes through here, and GRDB's lookup by name
    /// lower-cases the name on every read.
    static func claimedMessage(_ row: Row) throws -> ClaimedMessage {
        var message = ClaimedMessage(
            id: row[0],
            key: row[1],
            channel: Channel(rawValue: row[2]) ?? .webhook,
            template: row[3],
            recipient: try Recipient(stored: row[4]),
            dataJSON: row[5],
            category: MessageCategory(rawValue: row[6]) ?? .marketing,
            campaign: row[7],
            attempt: row[8],
            dueAt: row[9],
            deferred: row[10])
        message.retryBase = row[11]
        return message
    }

    public func renewLeases(holding ids: [Int64], owner: LeaseOwner, lease: Duration, now: Int64) async throws -> [Int64] {
        let owner = owner.description
        return try await write { db in
            var renewed: [Int64] = []
            for chunk in stride(from: 0, to: ids.count, by: 500) {
                let part = Array(ids[chunk..<min(chunk + 500, ids.count)])
                renewed += try Int64.fetchAll(db, sql: """
                    UPDATE messages SET lease_until = ?
                    WHERE state = 'leased' AND lease_owner = ? AND id IN (\(databaseQuestionMarks(count: part.count)))
                    RETURNING id
                    """, arguments: [now + lease.milliseconds, owner] + StatementArguments(part))
            }
            try db.execute(sql: """
                UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ?
                WHERE state = 'leased' AND lease_owner = ? AND lease_until <= ?
                """, arguments: [now, owner, now])
            return renewed
        }
    }

    public func leaseOwners() async throws -> [String] {
        try await read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT lease_owner FROM messages WHERE state = 'leased'")
        }
    }

    public func releaseLeases(of owners: [String], now: Int64) async throws -> Int {
        guard !owners.isEmpty else { return 0 }
        return try await write { db in
            try db.execute(
                sql: """
                    UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ?
                    WHERE state = 'leased' AND lease_owner IN (\(databaseQuestionMarks(count: owners.count)))
                    """,
                arguments: [now] + StatementArguments(owners))
            return db.changesCount
        }
    }
}
