import GRDB

extension MessageQueue {
    /// Adds or updates suppressions (the latest reason wins).
    public func suppress(_ entries: [Suppression], now: Int64 = Timestamp.now()) async throws {
        try await write { db in
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
        try readNow { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT reason, source FROM suppressions WHERE channel = ? AND address = ?",
                                             arguments: [channel.rawValue, address]),
                  let reason = Suppression.Reason(rawValue: row["reason"])
            else { return nil }
            return Suppression(channel: channel, address: address, reason: reason, source: row["source"])
        }
    }
}
