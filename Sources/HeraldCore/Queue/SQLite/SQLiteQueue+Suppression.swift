import GRDB

extension SQLiteQueue {
    public func suppress(_ entries: [Suppression], events: [Event], now: Int64) async throws {
        try await write { db in
            for entry in entries { try Self.suppress(entry, now: now, db: db) }
            try Self.insert(events, db: db)
        }
    }

    static func suppress(_ entry: Suppression, now: Int64, db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO suppressions (channel, address, reason, source, created_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(channel, address) DO UPDATE SET reason = excluded.reason, source = excluded.source,
                created_at = excluded.created_at
            """).execute(arguments: [entry.channel.rawValue, entry.address.value, entry.reason.rawValue, entry.source, now])
    }

    public func suppressions(of addresses: [Address]) async throws -> [Address: Suppression] {
        guard !addresses.isEmpty else { return [:] }
        return try await read { db in
            let lookup = try db.cachedStatement(sql: "SELECT * FROM suppressions WHERE channel = ? AND address = ?")
            var found: [Address: Suppression] = [:]
            for address in Set(addresses) {
                if let suppression = try Row.fetchOne(lookup, arguments: [address.channel.rawValue, address.value])
                    .flatMap(Suppression.init(row:))
                {
                    found[address] = suppression
                }
            }
            return found
        }
    }

    public func suppressions(channel: Channel?, after: Address?, limit: Int) async throws -> [Suppression] {
        try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let channel {
                conditions.append("channel = ?")
                arguments += [channel.rawValue]
            }
            if let after {
                conditions.append("(channel, address) > (?, ?)")
                arguments += [after.channel.rawValue, after.value]
            }
            let condition = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit]
            return try Row.fetchAll(db, sql: "SELECT * FROM suppressions \(condition) ORDER BY channel, address LIMIT ?",
                                    arguments: arguments).compactMap(Suppression.init(row:))
        }
    }

    public func unsuppress(_ address: Address, events: [Event]) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM suppressions WHERE channel = ? AND address = ?",
                           arguments: [address.channel.rawValue, address.value])
            guard db.changesCount > 0 else { return false }
            try Self.insert(events, db: db)
            return true
        }
    }
}

extension Suppression {
    init?(row: Row) {
        guard let channel = Channel(rawValue: row["channel"]), let reason = Reason(rawValue: row["reason"]) else { return nil }
        self.init(Address(normalized: row["address"], channel: channel), reason: reason, source: row["source"],
                  createdAt: row["created_at"])
    }
}
