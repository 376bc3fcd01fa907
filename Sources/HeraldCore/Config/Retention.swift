/// How long finished messages stay in the database.
///
/// Postfix forgets a message once it is delivered; Sidekiq keeps its dead jobs for six months.
/// Herald keeps enough history to answer "did Sarah get the day-5 email?" and to recognise a
/// CRM's retried key, then lets it go, so a database that runs for years does not grow for years.
/// A key is remembered as long as its message is kept: enqueued again after that, it is new.
public struct Retention: Sendable, Equatable {
    /// Sent, suppressed and canceled messages with their attempts, the letters of closed batches,
    /// and the records of archived drop-folder files. nil: kept forever.
    public var sent: Duration? = .seconds(90 * 86_400)
    /// Failed messages with their attempts: kept longer, someone may still look or retry.
    /// nil: kept forever.
    public var failed: Duration? = .seconds(180 * 86_400)
    /// Events recorded for the CRM, pushed or not. nil: kept forever.
    public var events: Duration? = .seconds(90 * 86_400)
    /// Processed bounces, complaints and auto-replies, kept for review. nil: kept forever.
    public var bounces: Duration? = .seconds(180 * 86_400)

    /// Shorter periods would forget keys while a CRM may still be retrying them.
    static let minimum = Duration.seconds(3_600)

    public init(sent: Duration? = .seconds(90 * 86_400), failed: Duration? = .seconds(180 * 86_400)) {
        self.sent = sent
        self.failed = failed
    }

    /// `retention: {sent: 90d, failed: 180d}`; each a duration of at least 1h, or `off`.
    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["sent", "failed", "events", "bounces"])
        if let value = fields["sent"] { sent = try Self.period(value) }
        if let value = fields["failed"] { failed = try Self.period(value) }
        if let value = fields["events"] { events = try Self.period(value) }
        if let value = fields["bounces"] { bounces = try Self.period(value) }
    }

    private static func period(_ node: ConfigNode) throws(ConfigError) -> Duration? {
        if try node.string() == "off" { return nil }
        let period = try node.duration()
        guard period >= minimum else {
            throw node.error("must be at least \(minimum.configText), or off (a shorter period forgets keys a CRM may still retry)")
        }
        return period
    }

    /// For `herald config check` and logs: `sent 90d, failed 180d`.
    public var summary: String {
        "sent \(sent?.configText ?? "kept forever"), failed \(failed?.configText ?? "kept forever"), "
            + "events \(events?.configText ?? "kept forever"), bounces \(bounces?.configText ?? "kept forever")"
    }
}
