import Foundation

/// Delivers `webhook` messages: a signed POST of the template's rendered JSON body to the
/// endpoint the message names in `to.endpoint` (configured under `channels.webhook.endpoints`).
public struct WebhookChannel: ChannelAdapter {
    public let channel = Channel.webhook
    let config: WebhookChannelConfig
    let transport: any HTTPTransport
    let signatures: [String: WebhookSignature]
    let clock: @Sendable () -> Date

    public init(config: WebhookChannelConfig, transport: any HTTPTransport,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.config = config
        self.transport = transport
        self.clock = clock
        // The config loader has checked every secret; an endpoint without a signature is skipped
        // below rather than sent unsigned.
        signatures = config.endpoints.compactMapValues { WebhookSignature(secret: $0.secret) }
    }

    /// The `webhook-id`: the same on every attempt of one message, so receivers can deduplicate.
    public static func webhookID(for message: ClaimedMessage) -> String {
        message.key ?? "msg_\(message.id)"
    }

    public func deliver(_ message: ClaimedMessage, content: RenderedMessage) async throws -> DeliveryOutcome {
        guard let name = message.recipient.endpoint, let endpoint = config.endpoints[name] else {
            return .permanent(DeliveryError(
                code: .invalidRecipient,
                detail: "to.endpoint: no endpoint \"\(message.recipient.endpoint ?? "")\" under channels.webhook.endpoints"))
        }
        guard let signature = signatures[name] else {
            return .permanent(DeliveryError(code: .configuration, detail: "endpoint \(name) has no valid signing secret"))
        }
        guard let rendered = content[.body] else {
            return .permanent(DeliveryError(code: .configuration, detail: "template \(content.template) has no body.json"))
        }
        let request = signature.request(to: endpoint, id: Self.webhookID(for: message), body: Array(rendered.utf8),
                                        timestamp: Int64(clock().timeIntervalSince1970), connectTimeout: config.connectTimeout)
        return try await HTTPStatusClassification.outcome(sending: request, through: transport)
    }
}
