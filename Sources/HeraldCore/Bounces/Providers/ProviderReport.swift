/// One event a mail provider's webhook reported about one recipient, read into the same shape a
/// bounce message is read into, so the one processor decides it.
struct ProviderReport: Sendable {
    /// The provider's own id for the event: the records keep each event once.
    var sourceID: String
    /// `kind`, one recipient, the status and diagnostic, the feedback type; `format` is the
    /// provider's name. Its `messageIDs` are filled in once the message is matched.
    var report: BounceReport
    /// Herald's Message-ID as the provider quotes it, which names the message.
    var messageReference: String?
    /// The event as received (a batch's own element), kept for review.
    var raw: [UInt8]
}

/// A webhook request that did not prove it came from the provider.
struct WebhookRefusal: Error, Sendable {
    /// A stable code for the answer (`bad_signature`, `stale`, `unknown_topic`…).
    var code: String
    var reason: String
}

extension BounceReport {
    /// A provider's report of one recipient.
    static func provider(_ name: String, kind: Kind, recipient: String?, action: String?, status: String?, diagnostic: String?,
                         feedbackType: String? = nil) -> BounceReport {
        BounceReport(kind: kind, format: name,
                     recipients: [Recipient(address: recipient, action: action, status: status,
                                            diagnostic: diagnostic.map { String($0.prefix(1_000)) })],
                     feedbackType: feedbackType)
    }
}
