/// `policies`: what is checked for every message when it is due, just before delivery, so a
/// change (an unsubscribe that arrives after enqueue) always wins. A policy that says "not now"
/// defers the message without spending an attempt.
///
/// ```yaml
/// policies:
///   transactional_skips_unsubscribed: false   # true: receipts and alerts still reach people who
///                                             # unsubscribed from marketing (never bounced ones)
///   quiet_hours:                              # the recipient's local time (to.timezone, else `timezone`)
///     - {channel: sms, allow: "08:00-21:00"}
///     - {channel: email, category: marketing, allow: "07:00-20:00", days: mon-fri}
///   jitter: 10m                               # spread deferred messages over this much after the opening
///   frequency_caps:
///     - {category: marketing, max: 3, per: 7d}
/// ```
/// Rate limits are set per channel (`channels.email.rate: 50/s`, `domain_rates`).
public struct PolicyConfig: Sendable {
    /// A transactional message ignores an `unsubscribed` suppression (never `bounced`,
    /// `complained` or `manual`).
    public var transactionalSkipsUnsubscribed = false
    public var quietHours: [QuietHours] = []
    /// The most a quiet-hours deferral adds after the window opens, so a million deferred leads
    /// do not all fire at 08:00:00.
    public var jitter: Duration = .minutes(10)
    public var frequencyCaps: [FrequencyCap] = []
    /// Per channel, from `channels.<name>.rate`.
    public var rates: [Channel: RateLimit] = [:]
    /// Email per recipient domain, from `channels.email.domain_rates`.
    public var domainRates: [String: RateLimit] = [:]
    /// Recipients without `to.timezone`.
    public var defaultTimeZone = "UTC"

    public init() {}

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["transactional_skips_unsubscribed", "quiet_hours", "jitter", "frequency_caps"])
        if let skip = fields["transactional_skips_unsubscribed"] { transactionalSkipsUnsubscribed = try skip.bool() }
        if let rules = fields["quiet_hours"] {
            quietHours = try rules.items().map { item throws(ConfigError) in try QuietHours(item) }
        }
        if let jitter = fields["jitter"] { self.jitter = try jitter.duration() }
        if let caps = fields["frequency_caps"] {
            frequencyCaps = try caps.items().map { item throws(ConfigError) in try FrequencyCap(item) }
        }
    }

    /// Whether `reason` keeps a message of `category` from being sent.
    func blocks(_ reason: Suppression.Reason, category: MessageCategory) -> Bool {
        !(reason == .unsubscribed && category == .transactional && transactionalSkipsUnsubscribed)
    }

    /// Whether any check beyond suppression is configured (they cost a little per message).
    var schedules: Bool { !quietHours.isEmpty || !frequencyCaps.isEmpty || !rates.isEmpty || !domainRates.isEmpty }
}

extension Duration {
    static func minutes(_ count: Int) -> Duration { .seconds(count * 60) }
}
