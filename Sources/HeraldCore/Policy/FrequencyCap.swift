/// At most `max` messages of a category to one recipient (channel and address) within `per`;
/// more are deferred until the window allows, never dropped.
///
/// ```yaml
/// policies:
///   frequency_caps:
///     - {category: marketing, max: 3, per: 7d}
///     - {channel: sms, category: marketing, max: 1, per: 1d}
/// ```
/// Transactional messages are capped only by a rule that names `category: transactional`.
public struct FrequencyCap: Sendable, Equatable {
    public var channel: Channel?
    public var category: MessageCategory
    public var max: Int
    /// Milliseconds.
    public var window: Int64

    public init(channel: Channel? = nil, category: MessageCategory, max: Int, window: Int64) {
        self.channel = channel
        self.category = category
        self.max = max
        self.window = window
    }

    func applies(to channel: Channel, category: MessageCategory) -> Bool {
        (self.channel == nil || self.channel == channel) && self.category == category
    }

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["channel", "category", "max", "per"])
        channel = try fields["channel"]?.channel()
        category = try fields["category"]?.category() ?? .marketing
        guard let maxNode = fields["max"] else { throw node.error("max is required (messages per window)") }
        max = try maxNode.int(in: 1...1_000_000)
        guard let perNode = fields["per"] else { throw node.error("per is required, e.g. 7d") }
        window = try perNode.duration().milliseconds
        guard window > 0 else { throw perNode.error("must be longer than 0") }
    }
}
