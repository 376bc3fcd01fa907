import PostgresNIO

extension PostgresQueue {
    /// One event as `jsonb_to_recordset` reads it.
    private struct EventRow: Encodable {
        let id: String
        let type: String
        let message_id: Int64?
        let occurred_at: Int64
        let payload: String
    }

    /// The head of an insert of events: follow it with a `SELECT` of `eventColumns` from
    /// `eventRecordset` (in order: positions are handed out in the order rows arrive).
    static let insertEvents = "INSERT INTO events (id, type, message_id, occurred_at, payload)"
    static let eventColumns = "id text, type text, message_id bigint, occurred_at bigint, payload text"

    static func eventRecordset(_ events: [Event]) throws -> String {
        try recordset(events.map {
            EventRow(id: $0.id, type: $0.type.rawValue, message_id: $0.messageID, occurred_at: $0.occurredAt, payload: $0.payload)
        })
    }

    /// Only transactions older than every one still running: their events are all committed (or
    /// never will be), and no later commit can take a place before them. The horizon is the whole
    /// server's: a long transaction in any database holds new events back (never loses them).
    static let settledEvents = "tx < pg_snapshot_xmin(pg_current_snapshot())"

    public func record(_ events: [Event]) async throws {
        try await record(events, on: nil)
    }

    func record(_ events: [Event], on connection: PostgresConnection?) async throws {
        guard !events.isEmpty else { return }
        try await execute("""
            \(unescaped: Self.insertEvents)
            SELECT id, type, message_id, occurred_at, payload
            FROM ROWS FROM (jsonb_to_recordset(\(try Self.eventRecordset(events))::jsonb) AS (\(unescaped: Self.eventColumns)))
                WITH ORDINALITY AS e(id, type, message_id, occurred_at, payload, ord)
            ORDER BY ord
            """, on: connection)
    }

    public func events(after given: EventCursor, matching filter: EventFilter, limit: Int) async throws -> [StoredEvent] {
        // A cursor from before `herald copy` (the SQLite form) names a copied event.
        let cursor = Self.copiedTransaction(of: given)
        var conditions = ["(tx, position) > ($1::text::xid8, $2)", Self.settledEvents]
        var binds = PostgresBindings()
        binds.append(String(cursor.transaction))
        binds.append(cursor.position)
        if let types = filter.types {
            binds.append(types.sorted().map(\.rawValue))
            conditions.append("type = ANY($\(binds.count))")
        }
        if let messageID = filter.messageID {
            binds.append(messageID)
            conditions.append("message_id = $\(binds.count)")
        }
        if let since = filter.since {
            binds.append(since)
            conditions.append("occurred_at >= $\(binds.count)")
        }
        binds.append(limit)
        let query = PostgresQuery(unsafeSQL: """
            SELECT tx::text AS transaction, position, id, type, message_id, occurred_at, payload FROM events
            WHERE \(conditions.joined(separator: " AND ")) ORDER BY events.tx, position LIMIT $\(binds.count)
            """, binds: binds)
        return try await rows(query).compactMap { row in
            guard let type = EventType(rawValue: try row.get("type")),
                  let transaction = UInt64(try row.get("transaction", as: String.self)) else { return nil }
            return StoredEvent(cursor: EventCursor(transaction: transaction, position: try row.get("position")),
                               event: Event(id: try row.get("id"), type: type, occurredAt: try row.get("occurred_at"),
                                            messageID: try row.get("message_id"), payload: try row.get("payload")))
        }
    }

    public func eventBacklog(after given: EventCursor) async throws -> EventBacklog {
        let cursor = Self.copiedTransaction(of: given)
        guard let row = try await rows("""
            SELECT count(*) AS n, min(occurred_at) AS oldest FROM events
            WHERE (tx, position) > (\(String(cursor.transaction))::text::xid8, \(cursor.position))
            """).first else { return EventBacklog(count: 0, oldest: nil) }
        return EventBacklog(count: Int(try row.get("n", as: Int64.self)), oldest: try row.get("oldest"))
    }

    public func takePush(_ name: String, owner: LeaseOwner, lease: Duration, now: Int64,
                         replacing stale: String?) async throws -> EventCursor? {
        let until = now + lease.milliseconds
        guard let row = try await rows("""
            INSERT INTO event_pushes (name, lease_owner, lease_until) VALUES (\(name), \(owner.description), \(until))
            ON CONFLICT (name) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
            WHERE event_pushes.lease_owner IS NULL OR event_pushes.lease_owner = excluded.lease_owner
               OR event_pushes.lease_owner = \(stale) OR event_pushes.lease_until <= \(now)
            RETURNING tx::text AS tx, position
            """).first, let transaction = UInt64(try row.get("tx", as: String.self)) else { return nil }
        return EventCursor(transaction: transaction, position: try row.get("position"))
    }

    public func advancePush(_ name: String, to cursor: EventCursor, owner: LeaseOwner) async throws -> Bool {
        // Only the holder moves it, and only forward (it pushes in order).
        try await !rows("""
            UPDATE event_pushes SET tx = \(String(cursor.transaction))::text::xid8, position = \(cursor.position)
            WHERE name = \(name) AND lease_owner = \(owner.description)
            RETURNING name
            """).isEmpty
    }

    public func pushHolder(_ name: String) async throws -> String? {
        try await value("SELECT lease_owner FROM event_pushes WHERE name = \(name)", as: String?.self) ?? nil
    }

    public func pushCursor(_ name: String) async throws -> EventCursor {
        guard let row = try await rows("SELECT tx::text AS tx, position FROM event_pushes WHERE name = \(name)").first,
              let transaction = UInt64(try row.get("tx", as: String.self)) else { return .start }
        return EventCursor(transaction: transaction, position: try row.get("position"))
    }

    public func pruneEvents(before cutoff: Int64, limit: Int, dryRun: Bool) async throws -> Int {
        let select = "SELECT position FROM events WHERE occurred_at < $1 ORDER BY position LIMIT $2"
        var binds = PostgresBindings()
        binds.append(cutoff)
        binds.append(limit)
        if dryRun {
            return Int(try await value(PostgresQuery(unsafeSQL: "SELECT count(*) FROM (\(select)) x", binds: binds), as: Int64.self) ?? 0)
        }
        return try await rows(PostgresQuery(unsafeSQL: "DELETE FROM events WHERE position IN (\(select)) RETURNING position",
                                            binds: binds)).count
    }
}
