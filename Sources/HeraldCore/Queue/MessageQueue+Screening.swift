import GRDB

extension MessageQueue {
    /// Applies the policies to freshly claimed messages inside the claim's transaction, so every
    /// process sees the same suppressions, sending slots and contact counts:
    /// 1. suppressed recipient → `suppressed`;
    /// 2. quiet hours in the recipient's zone → deferred to the next opening plus jitter;
    /// 3. frequency cap reached → deferred until the oldest counted contact leaves the window;
    /// 4. rate limit → deferred to the message's reserved slot (GCRA).
    /// Neither spends an attempt. What passes is delivered and, where a cap applies, counted.
    static func screen(_ claimed: [ClaimedMessage], policies: PolicyConfig, now: Int64, db: Database) throws -> Claim {
        var claim = Claim(deliver: [], suppressed: [])
        claim.deliver.reserveCapacity(claimed.count)
        let lookup = try db.cachedStatement(sql: "SELECT * FROM suppressions WHERE channel = ? AND address = ?")
        let suppress = try db.cachedStatement(sql: """
            UPDATE messages SET state = 'suppressed', lease_owner = NULL, lease_until = NULL, attempts = attempts - 1,
                last_error_code = 'suppressed', last_error = ?, deferred = NULL, updated_at = ?
            WHERE id = ?
            """)
        var slots = RateSlots(db: db)
        for message in claimed {
            let address = UnsubscribeLinks.address(channel: message.channel, recipient: message.recipient)
            if let suppression = try Row.fetchOne(lookup, arguments: [message.channel.rawValue, address]).flatMap(Suppression.init(row:)),
               policies.blocks(suppression.reason, category: message.category)
            {
                let why = "\(suppression.reason.rawValue)" + (suppression.source.map { " (\($0))" } ?? "")
                try suppress.execute(arguments: [why, now, message.id])
                claim.suppressed.append((message, suppression))
                continue
            }
            guard policies.schedules else {
                claim.deliver.append(message)
                continue
            }
            if let deferral = try schedule(message, address: address, policies: policies, slots: &slots, now: now, db: db) {
                try db.cachedStatement(sql: """
                    UPDATE messages SET state = 'queued', lease_owner = NULL, lease_until = NULL, attempts = attempts - 1,
                        due_at = ?, deferred = ?, updated_at = ?
                    WHERE id = ?
                    """).execute(arguments: [deferral.until, deferral.reason.rawValue, now, message.id])
                claim.deferred.append((message, deferral))
                continue
            }
            if message.deferred != nil {
                try db.cachedStatement(sql: "UPDATE messages SET deferred = NULL WHERE id = ?").execute(arguments: [message.id])
            }
            if policies.frequencyCaps.contains(where: { $0.applies(to: message.channel, category: message.category) }) {
                try db.cachedStatement(sql: """
                    INSERT OR REPLACE INTO contacts (message_id, channel, address, category, at) VALUES (?, ?, ?, ?, ?)
                    """).execute(arguments: [message.id, message.channel.rawValue, address, message.category.rawValue, now])
            }
            claim.deliver.append(message)
        }
        try slots.save()
        return claim
    }

    /// Quiet hours, then frequency caps, then rate limits: the first that says "not now" wins,
    /// so a message waiting for the morning does not also hold a sending slot overnight.
    private static func schedule(_ message: ClaimedMessage, address: String, policies: PolicyConfig,
                                 slots: inout RateSlots, now: Int64, db: Database) throws -> Deferral? {
        let quiet = policies.quietHours.filter { $0.applies(to: message.channel, category: message.category) }
        if !quiet.isEmpty {
            let calendar = ZoneCalendars.shared.calendar(message.recipient.timezone, fallback: policies.defaultTimeZone)
            let schedule = QuietHoursSchedule(rules: quiet, calendar: calendar)
            let opening = schedule.nextOpening(after: now)
            if opening > now {
                return Deferral(reason: .quietHours, until: opening + schedule.jitter(at: opening, upTo: policies.jitter.milliseconds))
            }
        }
        for cap in policies.frequencyCaps where cap.applies(to: message.channel, category: message.category) {
            // The cap-th most recent contact in the window: when it leaves, a place frees up.
            let blocking = try Int64.fetchOne(db, sql: """
                SELECT at FROM contacts
                WHERE channel = ? AND address = ? AND category = ? AND at > ? AND message_id != ?
                ORDER BY at DESC LIMIT 1 OFFSET ?
                """, arguments: [message.channel.rawValue, address, message.category.rawValue, now - cap.window, message.id, cap.max - 1])
            if let blocking { return Deferral(reason: .frequencyCap, until: blocking + cap.window) }
        }
        // A message deferred by a rate limit already holds its slot.
        guard message.deferred != Deferral.Reason.rateLimit.rawValue else { return nil }
        var sendAt = now
        for limit in policies.rateLimits(channel: message.channel, address: address) {
            sendAt = max(sendAt, try slots.take(limit.key, limit.rate, now: now))
        }
        return sendAt > now ? Deferral(reason: .rateLimit, until: sendAt) : nil
    }
}

/// The rate limits' next free slots, read once per claim and written back at its end.
struct RateSlots {
    let db: Database
    private var tats: [String: Double] = [:]
    private var changed: Set<String> = []

    init(db: Database) {
        self.db = db
    }

    /// Takes the next slot of `key`; returns when it is (now, or later).
    mutating func take(_ key: String, _ rate: RateLimit, now: Int64) throws -> Int64 {
        let current: Double?
        if let cached = tats[key] {
            current = cached
        } else {
            current = try Self.tat(key, db: db)
        }
        let step = rate.schedule(tat: current, now: now)
        tats[key] = step.tat
        changed.insert(key)
        return step.sendAt
    }

    func save() throws {
        for key in changed { try Self.store(key, tat: tats[key]!, db: db) }
    }

    /// A schedule's theoretical arrival time (unix ms), nil before its first message. The plan
    /// and the admission both keep theirs here, under keys of their own.
    static func tat(_ key: String, db: Database) throws -> Double? {
        try Double.fetchOne(db.cachedStatement(sql: "SELECT tat FROM rate_slots WHERE key = ?"), arguments: [key])
    }

    static func store(_ key: String, tat: Double, db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO rate_slots (key, tat) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET tat = excluded.tat")
            .execute(arguments: [key, tat])
    }
}

extension MessageQueue {
    /// Forgets contacts older than every cap's window: they can no longer count.
    public func pruneContacts(before cutoff: Int64) async throws {
        try await write { db in try db.execute(sql: "DELETE FROM contacts WHERE at < ?", arguments: [cutoff]) }
    }
}
