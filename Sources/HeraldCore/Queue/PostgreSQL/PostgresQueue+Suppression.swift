import PostgresNIO

extension PostgresQueue {
    private struct Entry: Encodable {
        let channel: String
        let address: String
        let reason: String
        let source: String?
    }

    public func suppress(_ entries: [Suppression], events: [Event], now: Int64) async throws {
        guard !entries.isEmpty else { return try await record(events) }
        // The latest entry for an address wins, as in a sequence of single upserts.
        var latest: [Address: Entry] = [:]
        var order: [Address] = []
        for entry in entries {
            if latest[entry.address] == nil { order.append(entry.address) }
            latest[entry.address] = Entry(channel: entry.channel.rawValue, address: entry.address.value,
                                          reason: entry.reason.rawValue, source: entry.source)
        }
        try await execute("""
            WITH added AS (
                INSERT INTO suppressions (channel, address, reason, source, created_at)
                SELECT x.channel, x.address, x.reason, x.source, \(now)
                FROM jsonb_to_recordset(\(try Self.recordset(order.map { latest[$0]! }))::jsonb) AS x(
                    channel text, address text, reason text, source text)
                ON CONFLICT (channel, address) DO UPDATE SET reason = excluded.reason, source = excluded.source,
                    created_at = excluded.created_at
            )
            \(unescaped: Self.insertEvents)
            SELECT * FROM jsonb_to_recordset(\(try Self.eventRecordset(events))::jsonb) AS e(\(unescaped: Self.eventColumns))
            """)
    }

    public func suppressions(channel: Channel?, after: Address?, limit: Int) async throws -> [Suppression] {
        let rows = switch (channel, after) {
        case (nil, nil):
            try await rows("SELECT * FROM suppressions ORDER BY channel, address LIMIT \(limit)")
        case (let channel?, nil):
            try await rows("SELECT * FROM suppressions WHERE channel = \(channel.rawValue) ORDER BY channel, address LIMIT \(limit)")
        case (nil, let after?):
            try await rows("""
                SELECT * FROM suppressions WHERE (channel, address) > (\(after.channel.rawValue), \(after.value))
                ORDER BY channel, address LIMIT \(limit)
                """)
        case (let channel?, let after?):
            try await rows("""
                SELECT * FROM suppressions WHERE channel = \(channel.rawValue)
                  AND (channel, address) > (\(after.channel.rawValue), \(after.value))
                ORDER BY channel, address LIMIT \(limit)
                """)
        }
        return try rows.compactMap(Suppression.init)
    }

    public func unsuppress(_ address: Address, events: [Event]) async throws -> Bool {
        try await !rows("""
            WITH removed AS (
                DELETE FROM suppressions WHERE channel = \(address.channel.rawValue) AND address = \(address.value) RETURNING address
            ), recorded AS (
                \(unescaped: Self.insertEvents)
                SELECT e.* FROM jsonb_to_recordset(\(try Self.eventRecordset(events))::jsonb) AS e(\(unescaped: Self.eventColumns))
                WHERE EXISTS (SELECT 1 FROM removed)
            )
            SELECT address FROM removed
            """).isEmpty
    }
}

extension Suppression {
    init?(_ row: PostgresRandomAccessRow) throws {
        guard let channel = Channel(rawValue: try row.get("channel")), let reason = Reason(rawValue: try row.get("reason"))
        else { return nil }
        self.init(Address(normalized: try row.get("address"), channel: channel), reason: reason, source: try row.get("source"),
                  createdAt: try row.get("created_at"))
    }
}
