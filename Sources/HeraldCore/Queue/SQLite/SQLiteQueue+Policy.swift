import GRDB

extension SQLiteQueue {
    /// In one write transaction: SQLite's single writer keeps every other process out between
    /// the count and the insert.
    public func countContacts(_ checks: [ContactCheck], now: Int64) async throws -> [Int64?] {
        guard !checks.isEmpty else { return [] }
        return try await write { db in
            let blocking = try db.cachedStatement(sql: """
                SELECT at FROM contacts
                WHERE channel = ? AND address = ? AND category = ? AND at > ? AND message_id != ?
                ORDER BY at DESC LIMIT 1 OFFSET ?
                """)
            let record = try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO contacts (message_id, channel, address, category, at) VALUES (?, ?, ?, ?, ?)
                """)
            return try checks.map { check -> Int64? in
                let channel = check.address.channel.rawValue
                var until: Int64?
                for cap in check.caps {
                    // The cap-th most recent contact in the window: when it leaves, a place frees up.
                    if let at = try Int64.fetchOne(blocking, arguments: [channel, check.address.value, check.category.rawValue,
                                                                          now - cap.window, check.messageID, cap.max - 1]) {
                        until = max(until ?? 0, at + cap.window)
                    }
                }
                if until == nil {
                    try record.execute(arguments: [check.messageID, channel, check.address.value, check.category.rawValue, now])
                }
                return until
            }
        }
    }

    public func pruneContacts(before cutoff: Int64) async throws {
        try await write { db in try db.execute(sql: "DELETE FROM contacts WHERE at < ?", arguments: [cutoff]) }
    }

    /// In one write transaction; the clock is read once the write lock is held.
    public func withRateSchedules<T: Sendable>(
        _ keys: [String], _ body: @escaping @Sendable (_ schedules: inout [String: Double], _ now: Int64) -> T
    ) async throws -> T {
        try await write { db in
            let load = try db.cachedStatement(sql: "SELECT tat FROM rate_slots WHERE key = ?")
            var schedules: [String: Double] = [:]
            for key in keys {
                if let tat = try Double.fetchOne(load, arguments: [key]) { schedules[key] = tat }
            }
            let before = schedules
            let result = body(&schedules, Timestamp.now())
            let store = try db.cachedStatement(sql: """
                INSERT INTO rate_slots (key, tat) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET tat = excluded.tat
                """)
            for (key, tat) in schedules where before[key] != tat {
                try store.execute(arguments: [key, tat])
            }
            return result
        }
    }
}
