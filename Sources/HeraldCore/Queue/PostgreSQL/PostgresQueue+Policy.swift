import PostgresNIO

extension PostgresQueue {
    public func suppressions(of addresses: [Address]) async throws -> [Address: Suppression] {
        guard !addresses.isEmpty else { return [:] }
        let unique = Array(Set(addresses))
        let found = try await rows(SuppressionLookup(channels: unique.map(\.channel.rawValue), addresses: unique.map(\.value)))
        var result: [Address: Suppression] = [:]
        for row in found {
            if let suppression = try Suppression(row) { result[suppression.address] = suppression }
        }
        return result
    }

    /// In one transaction, each recipient first locked with an advisory transaction lock (taken
    /// in sorted order, so two hosts cannot deadlock): a second host checking the same lead waits
    /// for the first one's contact to be committed and counts it. The claim itself takes no such
    /// lock, so claiming stays fast whatever the caps.
    public func countContacts(_ checks: [ContactCheck], now: Int64) async throws -> [Int64?] {
        guard !checks.isEmpty else { return [] }
        return try await transaction { connection in
            for address in Set(checks.map(\.address)).sorted() {
                try await execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended(\("contact:\(address.channel.rawValue):\(address.value)"), 0))", on: connection)
            }
            var answers: [Int64?] = []
            for check in checks {
                var until: Int64?
                for cap in check.caps {
                    // The cap-th most recent contact in the window: when it leaves, a place frees up.
                    if let at = try await value("""
                        SELECT at FROM contacts
                        WHERE channel = \(check.address.channel.rawValue) AND address = \(check.address.value)
                          AND category = \(check.category.rawValue) AND at > \(now - cap.window) AND message_id != \(check.messageID)
                        ORDER BY at DESC LIMIT 1 OFFSET \(cap.max - 1)
                        """, as: Int64.self, on: connection) {
                        until = max(until ?? 0, at + cap.window)
                    }
                }
                if until == nil {
                    try await execute("""
                        INSERT INTO contacts (message_id, channel, address, category, at)
                        VALUES (\(check.messageID), \(check.address.channel.rawValue), \(check.address.value),
                                \(check.category.rawValue), \(now))
                        ON CONFLICT (message_id) DO UPDATE SET at = excluded.at
                        """, on: connection)
                }
                answers.append(until)
            }
            return answers
        }
    }

    public func pruneContacts(before cutoff: Int64) async throws {
        try await execute("DELETE FROM contacts WHERE at < \(cutoff)")
    }

    /// The schedules' rows are created if missing and locked (`FOR UPDATE`, in key order) for
    /// the transaction; the clock is the server's, read once the locks are held, so every host
    /// judges on one clock in the order it got through.
    public func withRateSchedules<T: Sendable>(
        _ keys: [String], _ body: @escaping @Sendable (_ schedules: inout [String: Double], _ now: Int64) -> T
    ) async throws -> T {
        let keys = Array(Set(keys)).sorted()
        return try await transaction { connection in
            try await execute(
                "INSERT INTO rate_slots (key, tat) SELECT unnest(\(keys)), NULL ON CONFLICT (key) DO NOTHING", on: connection)
            var schedules: [String: Double] = [:]
            for row in try await rows("SELECT key, tat FROM rate_slots WHERE key = ANY(\(keys)) ORDER BY key FOR UPDATE", on: connection) {
                if let tat = try row.get("tat", as: Double?.self) { schedules[try row.get("key")] = tat }
            }
            let now = try await value("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint", as: Int64.self,
                                      on: connection) ?? Timestamp.now()
            let before = schedules
            let result = body(&schedules, now)
            let changed = schedules.filter { before[$0.key] != $0.value }
            if !changed.isEmpty {
                try await execute("""
                    UPDATE rate_slots r SET tat = c.tat FROM unnest(\(Array(changed.keys)), \(Array(changed.values))) AS c(key, tat)
                    WHERE r.key = c.key
                    """, on: connection)
            }
            return result
        }
    }
}
