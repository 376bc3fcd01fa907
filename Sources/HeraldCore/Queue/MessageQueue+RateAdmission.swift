import GRDB

/// What the admission test said about a send.
enum RateAdmission: Sendable, Equatable {
    /// The send conforms to every limit at `at` (unix ms): the moment the send was counted, which
    /// the attempt records as its start.
    case admitted(at: Int64)
    /// Not yet: the first instant (unix ms) at which it would conform.
    case wait(until: Int64)
}

extension MessageQueue {
    /// Counts a send against `limits` if it conforms to all of them now, in one transaction.
    ///
    /// The clock is read inside the transaction, after the write lock is held, so the order in
    /// which processes pass admission is the order of their times: the schedule one process
    /// advances is the one the next process judges. Nothing is counted when the answer is `wait`.
    /// `clock` is for tests, which need instants of their own choosing.
    func admit(_ limits: [RateLimitKey], clock: @escaping @Sendable () -> Int64 = Timestamp.now) async throws -> RateAdmission {
        try await write { db in
            let now = clock()
            var updates: [(key: String, tat: Double)] = []
            var earliest = now
            for limit in limits {
                let key = "sent:\(limit.key)"
                let test = limit.rate.admission(tat: try RateSlots.tat(key, db: db), now: now)
                if test.admitted { updates.append((key, test.tat)) } else { earliest = max(earliest, test.earliest) }
            }
            guard earliest == now else { return .wait(until: earliest) }
            for update in updates { try RateSlots.store(update.key, tat: update.tat, db: db) }
            return .admitted(at: now)
        }
    }
}
