import Foundation

/// Delivers `sms` messages: the template's text part to `to.phone` through the configured
/// gateway (Twilio-compatible API, Kannel, or a gateway described in config).
public struct SMSChannel: ChannelAdapter {
    public let channel = Channel.sms
    let config: SMSChannelConfig
    let gateway: any SMSGateway
    let transport: any HTTPTransport

    public init(config: SMSChannelConfig, transport: any HTTPTransport) {
        self.config = config
        self.gateway = config.makeGateway()
        self.transport = transport
    }

    public func deliver(_ message: ClaimedMessage, content: RenderedMessage) async throws -> DeliveryOutcome {
        guard let phone = message.recipient.phone, MessageValidation.isE164(phone) else {
            return .permanent(DeliveryError(
                code: .invalidRecipient,
                detail: "to.phone: not E.164 (\"\(message.recipient.phone?.prefix(80) ?? "")\")"))
        }
        guard let text = content[.text], !text.isEmpty else {
            return .permanent(DeliveryError(code: .configuration, detail: "template \(content.template) rendered no text"))
        }
        let encoding = SMSEncoding(text)
        guard encoding.segments <= config.maxSegments else {
            return .permanent(DeliveryError(
                code: .tooManySegments,
                detail: "the text needs \(encoding.segments) segments (\(encoding)); channels.sms.max_segments is \(config.maxSegments)"))
        }
        let submission = SMSSubmission(to: phone, from: config.from, text: text, encoding: encoding,
                                       reference: message.key ?? "msg_\(message.id)",
                                       receiptURL: config.receipts?.url(for: message.id, gateway: config.gateway))
        do {
            return gateway.outcome(for: try await transport.send(gateway.request(for: submission)), submission: submission)
        } catch let error as TransportError {
            return HTTPStatusClassification.outcome(for: error)
        }
    }
}
