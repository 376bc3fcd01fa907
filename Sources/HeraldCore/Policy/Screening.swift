/// What the policies decided about freshly claimed messages, before any is delivered.
public struct Screening: Sendable {
    public var deliver: [ClaimedMessage] = []
    /// The recipient is suppressed: ended `suppressed`, no attempt spent.
    public var suppressed: [(message: ClaimedMessage, suppression: Suppression)] = []
    /// Put off by quiet hours, a frequency cap or a rate limit's plan, no attempt spent.
    public var deferred: [(message: ClaimedMessage, deferral: Deferral)] = []

    public init() {}

    /// How many messages were screened.
    public var count: Int { deliver.count + suppressed.count + deferred.count }

    /// How the screened-out messages leave their leases.
    public var settlements: [(settlement: Settlement, message: ClaimedMessage)] {
        suppressed.map { (.suppressed(messageID: $0.message.id, $0.suppression), $0.message) }
            + deferred.map { (.deferred(messageID: $0.message.id, $0.deferral), $0.message) }
    }
}

extension PolicyConfig {
    /// Applies the policies to claimed messages, in this order:
    /// 1. suppressed recipient → `suppressed`;
    /// 2. quiet hours in the recipient's zone → deferred to the next opening plus jitter;
    /// 3. frequency cap reached → deferred until the oldest counted contact leaves the window;
    /// 4. rate limit → deferred to the message's reserved slot (GCRA's plan).
    ///
    /// The first that says "not now" wins, so a message waiting for the morning holds no cap
    /// place or sending slot overnight. What passes is delivered. Caps and rate slots are taken
    /// through the queue's atomic primitives, so they hold across every process and host; a
    /// message that passes its cap is counted at once (a later rate deferral keeps it counted).
    public func screen(_ messages: [ClaimedMessage], queue: any MessageQueue, now: Int64) async throws -> Screening {
        var screening = Screening()
        guard !messages.isEmpty else { return screening }
        let addresses = messages.map { Address(of: $0.recipient, on: $0.channel) }
        let suppressions = try await queue.suppressions(of: addresses)
        var candidates: [(message: ClaimedMessage, address: Address)] = []
        for (message, address) in zip(messages, addresses) {
            if let suppression = suppressions[address], blocks(suppression.reason, category: message.category) {
                screening.suppressed.append((message, suppression))
            } else if !schedules {
                screening.deliver.append(message)
            } else if let deferral = quietHoursDeferral(message, now: now) {
                screening.deferred.append((message, deferral))
            } else {
                candidates.append((message, address))
            }
        }
        guard !candidates.isEmpty else { return screening }

        let capped = candidates.indices.filter { !caps(for: candidates[$0].message).isEmpty }
        if !capped.isEmpty {
            let checks = capped.map { index in
                let (message, address) = candidates[index]
                return ContactCheck(messageID: message.id, address: address, category: message.category,
                                    caps: caps(for: message).map { ($0.max, $0.window) })
            }
            let blocked = try await queue.countContacts(checks, now: now)
            var removed = Set<Int>()
            for (index, until) in zip(capped, blocked) {
                guard let until else { continue }
                screening.deferred.append((candidates[index].message, Deferral(reason: .frequencyCap, until: until)))
                removed.insert(index)
            }
            candidates = candidates.indices.filter { !removed.contains($0) }.map { candidates[$0] }
        }

        // A message a rate limit deferred already holds its slot.
        let planned = candidates.map { candidate in
            candidate.message.deferred == Deferral.Reason.rateLimit.rawValue
                ? [] : rateLimits(channel: candidate.message.channel, address: candidate.address)
        }
        let keys = Set(planned.flatMap { $0.map(\.key) })
        let sendAt: [Int64] = keys.isEmpty
            ? candidates.map { _ in now }
            : try await queue.withRateSchedules(keys.sorted()) { schedules, _ in
                planned.map { limits in
                    var at = now
                    for limit in limits {
                        let step = limit.rate.schedule(tat: schedules[limit.key], now: now)
                        schedules[limit.key] = step.tat
                        at = max(at, step.sendAt)
                    }
                    return at
                }
            }
        for (candidate, at) in zip(candidates, sendAt) {
            if at > now {
                screening.deferred.append((candidate.message, Deferral(reason: .rateLimit, until: at)))
            } else {
                screening.deliver.append(candidate.message)
            }
        }
        return screening
    }

    private func quietHoursDeferral(_ message: ClaimedMessage, now: Int64) -> Deferral? {
        let quiet = quietHours.filter { $0.applies(to: message.channel, category: message.category) }
        guard !quiet.isEmpty else { return nil }
        let calendar = ZoneCalendars.shared.calendar(message.recipient.timezone, fallback: defaultTimeZone)
        let schedule = QuietHoursSchedule(rules: quiet, calendar: calendar)
        let opening = schedule.nextOpening(after: now)
        guard opening > now else { return nil }
        return Deferral(reason: .quietHours, until: opening + schedule.jitter(at: opening, upTo: jitter.milliseconds))
    }

    private func caps(for message: ClaimedMessage) -> [FrequencyCap] {
        frequencyCaps.filter { $0.applies(to: message.channel, category: message.category) }
    }
}
