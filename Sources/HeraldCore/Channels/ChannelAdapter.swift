/// Delivers claimed messages of one channel.
public protocol ChannelAdapter: Sendable {
    var channel: Channel { get }

    /// Tries once to deliver `message`, rendered as `content`, and classifies the result. Never
    /// throws for a delivery problem (that is an outcome); throws only `CancellationError`, when
    /// the task was cancelled before an outcome was known.
    func deliver(_ message: ClaimedMessage, content: RenderedMessage) async throws -> DeliveryOutcome
}
