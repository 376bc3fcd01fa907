import PostgresNIO

/// A statement the dispatcher runs for every batch, prepared once per pooled connection.
///
/// Sent as text, each of these was parsed and planned again on every call: on 50,000 webhook
/// messages the server spent 1.9 s planning the claim, the expired-lease release, the settlement
/// and the suppression lookup, a quarter of its CPU. Prepared, PostgreSQL keeps a plan per
/// connection (a generic one once it sees custom plans cost no less).
protocol PostgresHotStatement: PostgresPreparedStatement where Row == PostgresRandomAccessRow {}

extension PostgresHotStatement {
    func decodeRow(_ row: PostgresRow) throws -> PostgresRandomAccessRow { row.makeRandomAccess() }
}

extension PostgresQueue {
    /// Every row of a hot statement, random access by column name.
    func rows<Statement: PostgresHotStatement>(_ statement: Statement) async throws -> [PostgresRandomAccessRow] {
        try await PostgresQueueError.describing {
            var found: [PostgresRandomAccessRow] = []
            for try await row in try await client.execute(statement, logger: queryLogger) { found.append(row) }
            return found
        }
    }
}

/// Leases of other hosts whose time is up (their process died, hung or was cut off) go back to
/// the queue; those of the claimant's own host are left to its PID check.
struct ReleaseExpiredLeases: PostgresHotStatement {
    static let sql = """
        UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, updated_at = $1
        WHERE id IN (SELECT id FROM messages WHERE state = 'leased' AND lease_until <= $1
                         AND NOT starts_with(lease_owner, $2)
                     ORDER BY lease_until LIMIT 1000 FOR UPDATE SKIP LOCKED)
        """
    let now: Int64
    /// `host/` of the claimant.
    let ownHost: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(now)
        bindings.append(ownHost)
        return bindings
    }
}

/// Up to `limit` due messages of `channels`, leased to `owner`. The `MATERIALIZED` fence keeps
/// the planner from folding the subquery into the update and locking more rows than the limit.
struct ClaimDue: PostgresHotStatement {
    static let sql = """
        WITH subset AS MATERIALIZED (
            SELECT id FROM messages
            WHERE state = 'queued' AND due_at <= $1 AND channel = ANY($2)
            ORDER BY due_at, id
            LIMIT $3
            FOR UPDATE SKIP LOCKED
        )
        UPDATE messages m
        SET state = 'leased', lease_owner = $4, lease_until = $5, attempts = m.attempts + 1, updated_at = $1
        FROM subset WHERE m.id = subset.id
        RETURNING m.id, m.key, m.channel, m.template, m.recipient, m.data, m.category, m.campaign, m.attempts, m.due_at,
                  m.deferred, m.retry_base
        """
    let now: Int64
    let channels: [String]
    let limit: Int64
    let owner: String
    let leaseUntil: Int64

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(now)
        bindings.append(channels)
        bindings.append(limit)
        bindings.append(owner)
        bindings.append(leaseUntil)
        return bindings
    }
}

/// The suppressions among a batch's recipients.
struct SuppressionLookup: PostgresHotStatement {
    static let sql = """
        SELECT s.* FROM suppressions s
        JOIN unnest($1::text[], $2::text[]) AS a(channel, address) ON s.channel = a.channel AND s.address = a.address
        """
    let channels: [String]
    let addresses: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(channels)
        bindings.append(addresses)
        return bindings
    }
}

/// One statement, so one round trip and one implicit transaction for a whole group of
/// settlements: the messages' changes, the attempts, hard-bounce suppressions and the contacts a
/// failure frees, and the events of the messages it changed, as data-modifying CTEs over JSON
/// recordsets. Returns the ids it changed (a message whose lease was lost to another process is
/// not among them, and neither are its events recorded).
struct SettleBatch: PostgresHotStatement {
    static let sql = """
        WITH s AS (
            SELECT * FROM jsonb_to_recordset($1::jsonb) AS s(
                id bigint, state text, due_at bigint, attempts_delta bigint, set_deferred bool, deferred text,
                set_error bool, error_code text, last_error text)
        ), updated AS (
            UPDATE messages m SET
                state = s.state, due_at = coalesce(s.due_at, m.due_at), attempts = m.attempts + s.attempts_delta,
                deferred = CASE WHEN s.set_deferred THEN s.deferred ELSE m.deferred END,
                last_error_code = CASE WHEN s.set_error THEN s.error_code ELSE m.last_error_code END,
                last_error = CASE WHEN s.set_error THEN s.last_error ELSE m.last_error END,
                lease_owner = NULL, lease_until = NULL, updated_at = $2
            FROM s WHERE m.id = s.id AND m.state = 'leased' AND m.lease_owner = $3
            RETURNING m.id
        ), recorded AS (
            INSERT INTO attempts (message_id, number, started_at, duration_us, worker, outcome, error_code, remote_code,
                                  remote_text, retry_at, remote_id)
            SELECT * FROM jsonb_to_recordset($4::jsonb) AS a(
                message_id bigint, number bigint, started_at bigint, duration_us bigint, worker text, outcome text,
                error_code text, remote_code text, remote_text text, retry_at bigint, remote_id text)
        ), suppressed AS (
            INSERT INTO suppressions (channel, address, reason, source, created_at)
            SELECT x.channel, x.address, x.reason, x.source, $2
            FROM jsonb_to_recordset($5::jsonb) AS x(channel text, address text, reason text, source text)
            ON CONFLICT (channel, address) DO UPDATE SET reason = excluded.reason, source = excluded.source,
                created_at = excluded.created_at
        ), uncounted AS (
            -- A failed message did not reach the recipient: it does not count against a cap.
            DELETE FROM contacts WHERE message_id = ANY($6::bigint[])
        ), reported AS (
            \(PostgresQueue.insertEvents)
            SELECT e.id, e.type, e.message_id, e.occurred_at, e.payload
            FROM ROWS FROM (jsonb_to_recordset($7::jsonb) AS (\(PostgresQueue.eventColumns))) WITH ORDINALITY
                AS e(id, type, message_id, occurred_at, payload, ord)
            JOIN updated u ON u.id = e.message_id
            ORDER BY e.ord
        )
        SELECT id FROM updated
        """
    let changes: String
    let now: Int64
    let owner: String
    let attempts: String
    let suppressions: String
    let failed: [Int64]
    let events: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 7)
        bindings.append(changes)
        bindings.append(now)
        bindings.append(owner)
        bindings.append(attempts)
        bindings.append(suppressions)
        bindings.append(failed)
        bindings.append(events)
        return bindings
    }
}
