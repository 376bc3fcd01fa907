/// Where a message is in its life (the README's "Message states" draws the diagram).
public enum MessageState: String, CaseIterable, Sendable, Codable {
    /// Waiting for its due time.
    case queued
    /// Claimed by a worker that is delivering it.
    case leased
    case sent
    /// A permanent error, or attempts exhausted.
    case failed
    /// The recipient unsubscribed or bounced.
    case suppressed
    /// Stopped by an operator.
    case canceled
}

/// `marketing` messages honour unsubscribes and quiet hours; `transactional` ones may skip them
/// where the config says so.
public enum MessageCategory: String, Sendable, Codable, CaseIterable {
    case marketing
    case transactional
}
