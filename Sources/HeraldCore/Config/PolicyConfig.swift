/// `policies`: what is checked for every message when it is due, just before delivery, so a
/// change (an unsubscribe that arrives after enqueue) always wins.
///
/// ```yaml
/// policies:
///   transactional_skips_unsubscribed: false   # true: receipts and alerts still reach people who
///                                             # unsubscribed from marketing (never bounced ones)
/// ```
public struct PolicyConfig: Sendable {
    /// A transactional message ignores an `unsubscribed` suppression (never `bounced`,
    /// `complained` or `manual`).
    public var transactionalSkipsUnsubscribed = false

    public init() {}

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["transactional_skips_unsubscribed"])
        if let skip = fields["transactional_skips_unsubscribed"] { transactionalSkipsUnsubscribed = try skip.bool() }
    }

    /// Whether `reason` keeps a message of `category` from being sent.
    func blocks(_ reason: Suppression.Reason, category: MessageCategory) -> Bool {
        !(reason == .unsubscribed && category == .transactional && transactionalSkipsUnsubscribed)
    }
}
