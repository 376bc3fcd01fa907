import GRDB

extension MessageQueue {
    /// Adds or updates suppressions (the latest reason wins).
    public func suppress(_ entries: [Suppression], now: Int64 = Timestamp.now()) async throws {
        try await write { db in
            for entry in entries { try Self.suppress(entry, now: now, db: db) }
        }
    }

    /// The synchronous form, for command-line tools.
    public func suppressNow(_ entries: [Suppression], now: Int64 = Timestamp.now()) throws {
        try writeNow { db in
            for entry in entries { try Self.suppress(entry, now: now, db: db) }
        }
    }

    static func suppress(_ entry: Suppression, now: Int64, db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO suppressions (channel, address, reason, source, created_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT(channel, address) DO UPDATE SET reason = excluded.reason, source = excluded.source,
                created_at = excluded.created_at
            """).execute(arguments: [entry.channel.rawValue, entry.address, entry.reason.rawValue, entry.source, now])
    }

    /// The suppression of an address on a channel, if any.
    public func suppression(channel: Channel, address: String) throws -> Suppression? {
        try readNow { db in try Self.suppression(channel: channel, address: address, db: db) }
    }

    /// The async form, for callers on the cooperative pool.
    public func suppressionAsync(channel: Channel, address: String) async throws -> Suppression? {
        try await read { db in try Self.suppression(channel: channel, address: address, db: db) }
    }

    static func suppression(channel: Channel, address: String, db: Database) throws -> Suppression? {
        try Row.fetchOne(db, sql: "SELECT * FROM suppressions WHERE channel = ? AND address = ?",
                         arguments: [channel.rawValue, address]).flatMap(Suppression.init(row:))
    }

    /// Suppressions in (channel, address) order, at most `limit`, starting after `after` (for
    /// paging: pass the last one of the previous page).
    public func suppressions(channel: Channel? = nil, after: (channel: Channel, address: String)? = nil,
                             limit: Int = 1_000) async throws -> [Suppression] {
        try await read { db in
            var conditions: [String] = []
            var arguments: StatementArguments = []
            if let channel {
                conditions.append("channel = ?")
                arguments += [channel.rawValue]
            }
            if let after {
                conditions.append("(channel, address) > (?, ?)")
                arguments += [after.channel.rawValue, after.address]
            }
            let condition = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            arguments += [limit]
            return try Row.fetchAll(db, sql: "SELECT * FROM suppressions \(condition) ORDER BY channel, address LIMIT ?",
                                    arguments: arguments).compactMap(Suppression.init(row:))
        }
    }

    /// Removes a suppression; false when there was none.
    public func unsuppress(channel: Channel, address: String) async throws -> Bool {
        try await write { db in
            try db.execute(sql: "DELETE FROM suppressions WHERE channel = ? AND address = ?",
                           arguments: [channel.rawValue, address])
            return db.changesCount > 0
        }
    }
}

extension Suppression {
    init?(row: Row) {
        guard let channel = Channel(rawValue: row["channel"]), let reason = Reason(rawValue: row["reason"]) else { return nil }
        self.init(channel: channel, address: row["address"], reason: reason, source: row["source"], createdAt: row["created_at"])
    }
}
