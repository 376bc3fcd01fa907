import Foundation

/// Which failed messages an operator means: `herald failed list|retry|cancel` and the console.
public struct FailedFilter: Sendable, Equatable {
    public var channel: Channel?
    public var campaign: String?
    /// Failed at or after this time (unix ms).
    public var since: Int64?
    /// A piece of the last error text or code, case-insensitive.
    public var error: String?

    public init(channel: Channel? = nil, campaign: String? = nil, since: Int64? = nil, error: String? = nil) {
        self.channel = channel
        self.campaign = campaign
        self.since = since
        self.error = error
    }

    /// The filter from an operator's words (the CLI's options, the console's form): `channel` a
    /// channel name, `since` a duration ago (`6h`, `2d`) or an RFC 3339 time. Empty means unset.
    public static func parse(channel: String?, campaign: String?, since: String?, error: String?,
                             now: Int64 = Timestamp.now()) throws(IntakeRejection) -> FailedFilter {
        func given(_ text: String?) -> String? { text.flatMap { $0.isEmpty ? nil : $0 } }
        var filter = FailedFilter(campaign: given(campaign), error: given(error))
        if let channel = given(channel) {
            guard let value = Channel(rawValue: channel) else {
                throw IntakeRejection(field: "channel", "expected email, sms, webhook or letter, got \"\(channel.prefix(40))\"")
            }
            filter.channel = value
        }
        if let since = given(since) { filter.since = try Timestamp.since(since, now: now) }
        return filter
    }
}

extension MessageDetail {
    /// The message as the dispatcher would hold it, for rendering a preview of what was sent.
    public func claimed() throws -> ClaimedMessage {
        ClaimedMessage(id: id, key: key, channel: channel, template: template,
                       recipient: try Recipient(stored: recipientJSON),
                       dataJSON: dataJSON, category: category, campaign: campaign, attempt: attemptCount, dueAt: dueAt)
    }
}
