import Foundation

/// One text on its way to a gateway: everything a gateway's request needs.
public struct SMSSubmission: Sendable {
    /// E.164.
    public var to: String
    public var from: String?
    public var text: String
    public var encoding: SMSEncoding
    /// The message's idempotency key (or `msg_<id>`): the reference a gateway may echo back.
    public var reference: String
    /// Where the gateway should report the text's fate (`channels.sms.receipts`), if anywhere.
    public var receiptURL: String? = nil
}

/// The wire format of one SMS provider: how a text becomes an HTTP request, and how the
/// provider's answer becomes an outcome. Gateways hold no connection; the channel's HTTP
/// transport (libcurl) carries the request.
public protocol SMSGateway: Sendable {
    func request(for submission: SMSSubmission) -> OutboundRequest
    func outcome(for response: OutboundResponse, submission: SMSSubmission) -> DeliveryOutcome
}

extension SMSChannelConfig {
    /// The gateway this configuration names.
    public func makeGateway() -> any SMSGateway {
        switch gateway {
        case .twilio: TwilioGateway(config: self)
        case .kannel: KannelGateway(config: self)
        case .http: HTTPGateway(config: self)
        }
    }
}
