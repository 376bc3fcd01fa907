import GRDB

extension SQLiteQueue {
    static func insert(_ events: [Event], db: Database) throws {
        guard !events.isEmpty else { return }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO events (id, type, message_id, occurred_at, payload) VALUES (?, ?, ?, ?, ?)
            """)
        for event in events {
            try insert.execute(arguments: [event.id, event.type.rawValue, event.messageID, event.occurredAt, event.payload])
        }
    }

    public func record(_ events: [Event]) async throws {
        guard !events.isEmpty else { return }
        try await write { db in try Self.insert(events, db: db) }
    }

    public func events(after cursor: EventCursor, matching filter: EventFilter, limit: Int) async throws -> [StoredEvent] {
        try await read { db in
            var conditions = ["position > ?"]
            var arguments: StatementArguments = [cursor.position]
            if let types = filter.types {
                conditions.append("type IN (\(types.map { _ in "?" }.joined(separator: ", ")))")
                arguments += StatementArguments(types.sorted().map(\.rawValue))
            }
            if let messageID = filter.messageID {
                conditions.append("message_id = ?")
                arguments += [messageID]
            }
            if let since = filter.since {
                conditions.append("occurred_at >= ?")
                arguments += [since]
            }
            arguments += [limit]
            return try Row.fetchAll(db, sql: """
                SELECT * FROM events WHERE \(conditions.joined(separator: " AND ")) ORDER BY position LIMIT ?
                """, arguments: arguments).compactMap(StoredEvent.init(row:))
        }
    }

    public func eventBacklog(after cursor: EventCursor) async throws -> EventBacklog {
        try await read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*), min(occurred_at) FROM events WHERE position > ?",
                                       arguments: [cursor.position])
            return EventBacklog(count: row?[0] ?? 0, oldest: row?[1])
        }
    }

    public func takePush(_ name: String, owner: LeaseOwner, lease: Duration, now: Int64,
                         replacing stale: String?) async throws -> EventCursor? {
        try await write { db in
            try db.execute(sql: "INSERT INTO event_pushes (name) VALUES (?) ON CONFLICT(name) DO NOTHING", arguments: [name])
            try db.execute(sql: """
                UPDATE event_pushes SET lease_owner = ?, lease_until = ?
                WHERE name = ? AND (lease_owner IS NULL OR lease_owner = ? OR lease_owner = ? OR lease_until <= ?)
                """, arguments: [owner.description, now + lease.milliseconds, name, owner.description, stale, now])
            guard db.changesCount > 0 else { return nil }
            let position = try Int64.fetchOne(db, sql: "SELECT position FROM event_pushes WHERE name = ?", arguments: [name]) ?? 0
            return EventCursor(position: position)
        }
    }

    public func advancePush(_ name: String, to cursor: EventCursor, owner: LeaseOwner) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "UPDATE event_pushes SET position = max(position, ?) WHERE name = ? AND lease_owner = ?",
                           arguments: [cursor.position, name, owner.description])
            return db.changesCount > 0
        }
    }

    public func pushHolder(_ name: String) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT lease_owner FROM event_pushes WHERE name = ?", arguments: [name])
        }
    }

    public func pushCursor(_ name: String) async throws -> EventCursor {
        try await read { db in
            EventCursor(position: try Int64.fetchOne(db, sql: "SELECT position FROM event_pushes WHERE name = ?", arguments: [name]) ?? 0)
        }
    }

    public func pruneEvents(before cutoff: Int64, limit: Int, dryRun: Bool) async throws -> Int {
        let select = "SELECT position FROM events WHERE occurred_at < ? ORDER BY position LIMIT ?"
        if dryRun {
            return try await read { db in
                try Int.fetchOne(db, sql: "SELECT count(*) FROM (\(select))", arguments: [cutoff, limit]) ?? 0
            }
        }
        return try await write { db in
            try db.execute(sql: "DELETE FROM events WHERE position IN (\(select))", arguments: [cutoff, limit])
            return db.changesCount
        }
    }
}

extension StoredEvent {
    init?(row: Row) {
        guard let type = EventType(rawValue: row["type"]) else { return nil }
        self.init(cursor: EventCursor(position: row["position"]),
                  event: Event(id: row["id"], type: type, occurredAt: row["occurred_at"], messageID: row["message_id"],
                               payload: row["payload"]))
    }
}
