import Foundation
import PostgresNIO

extension PostgresQueue {
    /// Other hosts' leases that expired go back to the queue (their holder died, hung or was cut
    /// off: this host's PID check cannot see another host's processes), then one statement leases up to `limit` due
    /// messages. The candidates are chosen inside a `MATERIALIZED` CTE with `FOR UPDATE SKIP
    /// LOCKED`: the fence keeps the planner from locking more rows than the LIMIT, and rows another
    /// host is claiming are passed over rather than waited for.
    public func claim(limit: Int, owner: LeaseOwner, lease: Duration, channels: Set<Channel>,
                      now: Int64) async throws -> ClaimBatch {
        guard limit > 0, !channels.isEmpty else { return ClaimBatch(messages: []) }
        let channelList = channels.sorted().map(\.rawValue)
        _ = try await rows(ReleaseExpiredLeases(now: now, ownHost: owner.hostPrefix))
        let found = try await rows(ClaimDue(now: now, channels: channelList, limit: Int64(limit), owner: owner.description,
                                            leaseUntil: now + lease.milliseconds))
        let messages = try found.map { row in
            var message = ClaimedMessage(
                id: try row.get("id"), key: try row.get("key"),
                channel: Channel(rawValue: try row.get("channel")) ?? .webhook, template: try row.get("template"),
                recipient: try Recipient(stored: try row.get("recipient", as: String.self)),
                dataJSON: try row.get("data"), category: MessageCategory(rawValue: try row.get("category")) ?? .marketing,
                campaign: try row.get("campaign"), attempt: try row.get("attempts"), dueAt: try row.get("due_at"),
                deferred: try row.get("deferred"))
            message.retryBase = try row.get("retry_base")
            return message
        }
        .sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
        var batch = ClaimBatch(messages: messages)
        if messages.count < limit {
            batch.nextDue = try await value("""
                SELECT due_at FROM messages WHERE state = 'queued' AND channel = ANY(\(channelList)) ORDER BY due_at, id LIMIT 1
                """, as: Int64.self)
        }
        return batch
    }

    public func renewLeases(holding ids: [Int64], owner: LeaseOwner, lease: Duration, now: Int64) async throws -> [Int64] {
        let owner = owner.description
        return try await transaction { connection in
            let renewed = try await rows("""
                UPDATE messages SET lease_until = \(now + lease.milliseconds)
                WHERE state = 'leased' AND lease_owner = \(owner) AND id = ANY(\(ids))
                RETURNING id
                """, on: connection).map { try $0.get("id", as: Int64.self) }
            try await execute("""
                UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = \(now)
                WHERE state = 'leased' AND lease_owner = \(owner) AND lease_until <= \(now)
                """, on: connection)
            return renewed
        }
    }

    public func leaseOwners() async throws -> [String] {
        try await rows("SELECT DISTINCT lease_owner FROM messages WHERE state = 'leased'").map { try $0.get("lease_owner") }
    }

    public func releaseLeases(of owners: [String], now: Int64) async throws -> Int {
        guard !owners.isEmpty else { return 0 }
        return try await rows("""
            UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = \(now)
            WHERE state = 'leased' AND lease_owner = ANY(\(owners))
            RETURNING id
            """).count
    }
}
