import Crypto
import Foundation

/// Delivers `email` messages: the template's subject, text and HTML as one MIME message to the
/// configured SMTP relay.
public struct EmailChannel: ChannelAdapter {
    public let channel = Channel.email
    let config: EmailChannelConfig
    let transport: any MailTransport
    let clock: @Sendable () -> Date

    public init(config: EmailChannelConfig, transport: any MailTransport,
                clock: @escaping @Sendable () -> Date = { Date() }) {
        self.config = config
        self.transport = transport
        self.clock = clock
    }

    public func deliver(_ message: ClaimedMessage, content: RenderedMessage) async throws -> DeliveryOutcome {
        guard let address = message.recipient.email else {
            return .permanent(DeliveryError(code: .invalidRecipient, detail: "to.email: required for the email channel"))
        }
        let email = self.email(for: message, content: content, address: address)
        // VERP: a bounce comes back to an address that names this message.
        let envelopeFrom = config.bounces?.returnPath.address(for: message.id) ?? config.from.address
        let request = SMTPRequest(settings: config.smtp, from: envelopeFrom, recipients: [address],
                                  message: email.bytes(boundarySeed: email.messageID), connectTimeout: config.connectTimeout,
                                  timeout: config.timeout, id: message.key ?? "msg_\(message.id)")
        do {
            return SMTPReplyClassification.outcome(for: try await transport.send(request), recipient: address)
        } catch let error as TransportError {
            return HTTPStatusClassification.outcome(for: error)
        }
    }

    /// The message as it would go on the wire (also what `herald preview --raw` prints).
    public func email(for message: ClaimedMessage, content: RenderedMessage, address: String) -> EmailMessage {
        let from = Mailbox(name: content.manifest.fromName ?? config.from.name, address: config.from.address)
        let domain = config.from.address.split(separator: "@").last.map(String.init) ?? "localhost"
        let marketing = message.category == .marketing
        let messageID = EmailMessageID.make(id: message.id, key: message.key, domain: domain)
        // Postmark's webhooks quote no Message-ID; its metadata comes back in them.
        let providerHeaders = config.bounces?.providers.postmark == nil ? [] : [("X-PM-Metadata-\(PostmarkEvent.metadataKey)", messageID)]
        return EmailMessage(
            from: from, to: Mailbox(name: message.recipient.name, address: address),
            replyTo: content.manifest.replyTo ?? config.replyTo, subject: content[.subject] ?? "",
            text: content[.text], html: content[.html], messageID: messageID, date: clock(),
            unsubscribeURL: marketing ? content.unsubscribeURL : nil,
            unsubscribeMailto: marketing ? config.listUnsubscribeMailto : nil,
            headers: config.headers + content.manifest.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) } + providerHeaders)
    }
}
