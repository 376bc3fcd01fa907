/// Why a delivery did not succeed, with a stable `code` for logs, metrics and the attempts table
/// and the context an operator needs (`detail`, the remote's own code and words).
public struct DeliveryError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Stable error codes. New codes may be added; existing ones never change meaning.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// The remote answered with an HTTP status that is not success.
        public static let httpStatus = Code("http_status")
        /// No answer: DNS, connection, TLS, timeout, protocol (the transport's code follows).
        public static func transport(_ error: TransportError) -> Code { Code("transport_\(error.code)") }
        /// The message addresses an endpoint, number or address the channel cannot use.
        public static let invalidRecipient = Code("invalid_recipient")
        /// The message could not be rendered from its template (the render error's own code).
        public static func rendering(_ error: RenderError) -> Code { Code(error.code.rawValue) }
        /// The SMTP server refused the message or a recipient (its reply code says which).
        public static let smtpReply = Code("smtp_reply")
        /// The recipient address does not exist: a hard bounce.
        public static let hardBounce = Code("hard_bounce")
        /// The server refused the configured login.
        public static let authentication = Code("authentication")
        /// The SMS text needs more segments than `channels.sms.max_segments` allows.
        public static let tooManySegments = Code("too_many_segments")
        /// The provider reports that the recipient opted out (Twilio 21610): also suppressed.
        public static let optedOut = Code("opted_out")
        /// The gateway answered with a success status but its body did not say it accepted.
        public static let gatewayRejected = Code("gateway_rejected")
        /// The channel's configuration cannot serve this message.
        public static let configuration = Code("configuration")
    }

    public let code: Code
    public let detail: String
    /// The remote's code: an HTTP status, an SMTP reply code.
    public var remoteCode: String?
    /// The remote's answer, at most 1 KB.
    public var remoteText: String?
    /// A permanent failure that also means "never send here again" (a hard bounce, an opt-out
    /// reported by the provider): recorded with the failure, in the same transaction.
    public var suppression: Suppression?

    public init(code: Code, detail: String, remoteCode: String? = nil, remoteText: String? = nil) {
        self.code = code
        self.detail = detail
        self.remoteCode = remoteCode
        self.remoteText = remoteText
    }

    /// The code alone: safe as a metric label.
    public var shortDescription: String { code.rawValue }
    public var description: String { "\(code): \(detail)" }
}
