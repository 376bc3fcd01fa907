/// What the admission test said about a send.
enum RateAdmission: Sendable, Equatable {
    /// The send conforms to every limit at `at` (unix ms): the moment the send was counted, which
    /// the attempt records as its start.
    case admitted(at: Int64)
    /// Not yet: the first instant (unix ms) at which it would conform.
    case wait(until: Int64)
}

extension MessageQueue {
    /// Counts a send against `limits` if it conforms to all of them now, atomically across
    /// processes (`withRateSchedules`).
    ///
    /// The time judged is the engine's, read once the other processes are kept out, so the order
    /// in which processes pass admission is the order of their times: the schedule one process
    /// advances is the one the next process judges. Nothing is counted when the answer is `wait`.
    /// `clock` is for tests, which need instants of their own choosing.
    func admit(_ limits: [RateLimitKey], clock: (@Sendable () -> Int64)? = nil) async throws -> RateAdmission {
        try await withRateSchedules(limits.map { "sent:\($0.key)" }) { schedules, engineNow in
            let now = clock?() ?? engineNow
            var updates: [(key: String, tat: Double)] = []
            var earliest = now
            for limit in limits {
                let key = "sent:\(limit.key)"
                let test = limit.rate.admission(tat: schedules[key], now: now)
                if test.admitted { updates.append((key, test.tat)) } else { earliest = max(earliest, test.earliest) }
            }
            guard earliest == now else { return .wait(until: earliest) }
            for update in updates { schedules[update.key] = update.tat }
            return .admitted(at: now)
        }
    }
}
