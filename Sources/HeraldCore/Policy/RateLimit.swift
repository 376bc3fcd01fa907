/// A sending rate: `50/s`, `600/min`, `1000/h`, with a burst (messages that may go back to back
/// before the steady spacing applies; default 1).
///
/// Enforced as GCRA (a virtual schedule): each message takes the next slot `interval` after the
/// previous one, in a row of the queue database shared by every process. A message whose slot
/// is in the future is deferred to exactly that slot and keeps it, so a backlog is spread out
/// once instead of being retried in a loop, and no worker waits.
public struct RateLimit: Sendable, Equatable, CustomStringConvertible {
    /// Milliseconds between slots (fractions kept: 3/s is 333.3 ms).
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
        // Paced 2 % under the limit: messages whose slots fell between two polls leave together,
        // and the headroom keeps that bunching from ever pushing a provider over its limit.
        return RateLimit(interval: period / count * 1.02, burst: burst, text: text)
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

    /// The GCRA step. `tat` is the key's theoretical arrival time (unix ms, as stored); returns
    /// when this message may go (`now` if at once) and the new `tat`.
    func schedule(tat: Double?, now: Int64) -> (sendAt: Int64, tat: Double) {
        let start = max(tat ?? 0, Double(now))
        // Up to `burst` slots may be taken ahead of time.
        let earliest = start - Double(burst - 1) * interval
        let sendAt = max(now, Int64(earliest.rounded(.up)))
        return (sendAt, start + interval)
    }
}
