/// A sending rate: `50/s`, `600/min`, `1000/h`, with a burst (messages that may go back to back
/// before the steady spacing applies; default 1).
///
/// Two GCRA schedules (virtual schedules: each message takes the next slot `interval` after the
/// previous one), each in a row of the queue database shared by every process:
/// - the *plan*, at claim time: a message whose slot is in the future is deferred to exactly that
///   slot and keeps it, so a backlog is spread out once instead of being retried in a loop;
/// - the *admission*, at the moment of sending: the send itself must conform to the limit, judged
///   on the clock at that moment. A message that reaches its send late (a poll later, a busy
///   machine) waits for the next conforming instant instead of leaving together with every other
///   late one, so lateness can never turn into a burst at the provider.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// Milliseconds between sends at the limit (fractions kept: 3/s is 333.3 ms).
    public var interval: Double
    public var burst: Int
    /// As written, for messages.
    public var text: String

    public var description: String { burst > 1 ? "\(text) (burst \(burst))" : text }

    /// Parses `50/s`, `600/min`, `1000/h` (also `/sec`, `/m`, `/minute`, `/hour`).
    static func parse(_ text: String, burst: Int = 1) -> RateLimit? {
        let parts = text.replacingOccurrences(of: " ", with: "").split(separator: "/")
        guard parts.count == 2, let count = Double(parts[0]), count > 0, count.isFinite else { return nil }
        let period: Double
        switch parts[1].lowercased() {
        case "s", "sec", "second": period = 1_000
        case "m", "min", "minute": period = 60_000
        case "h", "hour": period = 3_600_000
        case "d", "day": period = 86_400_000
        default: return nil
        }
        return RateLimit(interval: period / count, burst: burst, text: text)
    }

    /// `rate: 50/s` or `rate: {limit: 50/s, burst: 10}`.
    init(_ node: ConfigNode) throws(ConfigError) {
        var text: String
        var burst = 1
        if node.isMapping {
            let fields = try node.fields(allowed: ["limit", "burst"])
            guard let limit = fields["limit"] else { throw node.error("limit is required, e.g. 50/s") }
            text = try limit.string()
            if let burstNode = fields["burst"] { burst = try burstNode.int(in: 1...1_000_000) }
        } else {
            text = try node.string()
        }
        guard let parsed = RateLimit.parse(text, burst: burst) else {
            throw node.error("expected a rate such as 50/s, 600/min or 1000/h, got \"\(text)\"")
        }
        self = parsed
    }

    init(interval: Double, burst: Int, text: String) {
        self.interval = interval
        self.burst = burst
        self.text = text
    }

    /// The plan's spacing: 2 % wider than the limit, so a message sent on its planned slot
    /// conforms at admission even when the one before it left a few milliseconds late.
    var plannedInterval: Double { interval * 1.02 }

    /// The plan's GCRA step. `tat` is the key's theoretical arrival time (unix ms, as stored);
    /// returns when this message may go (`now` if at once) and the new `tat`.
    func schedule(tat: Double?, now: Int64) -> (sendAt: Int64, tat: Double) {
        Self.step(tat: tat, now: now, interval: plannedInterval, burst: burst)
    }

    /// The admission's GCRA test for a send at `now`: `admitted` with the new `tat` when it
    /// conforms, else the first instant that would.
    func admission(tat: Double?, now: Int64) -> (admitted: Bool, earliest: Int64, tat: Double) {
        let step = Self.step(tat: tat, now: now, interval: interval, burst: burst)
        return (step.sendAt <= now, step.sendAt, step.tat)
    }

    private static func step(tat: Double?, now: Int64, interval: Double, burst: Int) -> (sendAt: Int64, tat: Double) {
        let start = max(tat ?? 0, Double(now))
        // Up to `burst` slots may be taken ahead of time.
        let earliest = start - Double(burst - 1) * interval
        let sendAt = max(now, Int64(earliest.rounded(.up)))
        return (sendAt, start + interval)
    }
}

/// One rate limit that applies to a message, under the name of its shared schedule.
struct RateLimitKey: Sendable, Equatable {
    /// `channel:<name>` or `domain:<domain>`.
    var key: String
    var rate: RateLimit
}

extension PolicyConfig {
    /// The rate limits a message to `address` on `channel` is held to: its channel's, and for
    /// email its recipient domain's. `address` is only worked out when a domain rate could apply.
    func rateLimits(channel: Channel, address: @autoclosure () -> Address) -> [RateLimitKey] {
        guard !rates.isEmpty || !domainRates.isEmpty else { return [] }
        var limits: [RateLimitKey] = []
        if let rate = rates[channel] { limits.append(RateLimitKey(key: "channel:\(channel.rawValue)", rate: rate)) }
        if channel == .email, !domainRates.isEmpty,
           let domain = address().domain, let rate = domainRates[domain]
        {
            limits.append(RateLimitKey(key: "domain:\(domain)", rate: rate))
        }
        return limits
    }
}
