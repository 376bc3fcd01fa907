import Foundation
import GRDB

extension MessageQueue {
    /// Leases up to `limit` due messages on `channels` to `owner`, oldest due first, in one
    /// transaction. Leases that expired (their holder died or hung) are returned to the queue
    /// first, so anyone can take them.
    ///
    /// SQLite serializes writers, so two claims, in this process or another, never see the same
    /// row as queued: no message is handed to two live workers.
    public func claim(limit: Int, owner: LeaseOwner, lease: Duration, channels: Set<Channel>,
                      now: Int64 = Timestamp.now()) async throws -> [ClaimedMessage] {
        try await claim(limit: limit, owner: owner, lease: lease, channels: channels, policies: nil, now: now).deliver
    }

    /// What a claim under the policies gave: messages to deliver, and those it ended as
    /// suppressed (no attempt spent).
    public struct Claim: Sendable {
        public var deliver: [ClaimedMessage]
        public var suppressed: [(message: ClaimedMessage, suppression: Suppression)]
        /// Put off by a policy (quiet hours, a rate limit, a frequency cap), no attempt spent.
        public var deferred: [(message: ClaimedMessage, reason: Deferral)] = []
        /// When the earliest message still queued on the claim's channels is due (unix ms), as the
        /// claim left the queue; nil when none is, or when the claim was full. The dispatcher
        /// wakes then rather than a poll later.
        public var nextDue: Int64?

        /// How many due messages the claim took off the queue.
        public var count: Int { deliver.count + suppressed.count + deferred.count }
    }

    /// Claims like `claim(limit:owner:lease:channels:now:)`, then applies `policies` in the same
    /// transaction: a message whose recipient is suppressed ends `suppressed` there and then.
    public func claim(limit: Int, owner: LeaseOwner, lease: Duration, channels: Set<Channel>, policies: PolicyConfig?,
                      now: Int64 = Timestamp.now()) async throws -> Claim {
        guard limit > 0, !channels.isEmpty else { return Claim(deliver: [], suppressed: []) }
        let channelList = channels.sorted().map(\.rawValue)
        let owner = owner.description
        let leaseUntil = now + lease.milliseconds
        return try await write { db in
            try db.execute(
                sql: """
                    UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ?
                    WHERE id IN (SELECT id FROM messages INDEXED BY messages_lease
                                 WHERE state = 'leased' AND lease_until <= ?)
                    """,
                arguments: [now, now])
            let statement = try db.cachedStatement(sql: Self.claimSQL(channelCount: channelList.count))
            var arguments: StatementArguments = [owner, leaseUntil, now, now]
            arguments += StatementArguments(channelList)
            arguments += [limit]
            let decoder = JSONDecoder()
            let claimed = try Row.fetchAll(statement, arguments: arguments).map { row in
                try Self.claimedMessage(row, decoder: decoder)
            }
            .sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
            var claim = if let policies {
                try Self.screen(claimed, policies: policies, now: now, db: db)
            } else {
                Claim(deliver: claimed, suppressed: [])
            }
            // A full claim means more is due now: the next due time matters only after a short one.
            if claimed.count < limit {
                claim.nextDue = try Int64.fetchOne(db.cachedStatement(sql: Self.nextDueSQL(channelCount: channelList.count)),
                                                   arguments: StatementArguments(channelList))
            }
            return claim
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

    static func claimedMessage(_ row: Row, decoder: JSONDecoder) throws -> ClaimedMessage {
        let recipientJSON: String = row["recipient"]
        var message = ClaimedMessage(
            id: row["id"],
            key: row["key"],
            channel: Channel(rawValue: row["channel"]) ?? .webhook,
            template: row["template"],
            recipient: try decoder.decode(Recipient.self, from: Data(recipientJSON.utf8)),
            dataJSON: row["data"],
            category: MessageCategory(rawValue: row["category"]) ?? .marketing,
            campaign: row["campaign"],
            attempt: row["attempts"],
            dueAt: row["due_at"],
            deferred: row["deferred"])
        message.retryBase = row["retry_base"]
        return message
    }

    /// Returns to the queue every lease held by a process on this host that no longer exists, so a
    /// restart after a crash (SIGKILL, OOM) picks its messages up at once instead of waiting for
    /// the leases to expire. The attempt such a message was on stays counted.
    @discardableResult
    public func releaseLeasesOfDeadOwners(current: LeaseOwner, now: Int64 = Timestamp.now()) async throws -> Int {
        let owners = try await read { db in
            try String.fetchAll(db, sql: "SELECT DISTINCT lease_owner FROM messages WHERE state = 'leased'")
        }
        let dead = owners.filter { LeaseOwner($0)?.isDead(relativeTo: current) ?? false }
        guard !dead.isEmpty else { return 0 }
        return try await write { db in
            try db.execute(
                sql: """
                    UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = ?
                    WHERE state = 'leased' AND lease_owner IN (\(databaseQuestionMarks(count: dead.count)))
                    """,
                arguments: [now] + StatementArguments(dead))
            return db.changesCount
        }
    }
}
