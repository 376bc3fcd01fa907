import Foundation

/// Twilio's Messages API and the providers that copy it: a form POST to
/// `{url}/2010-04-01/Accounts/{AccountSid}/Messages.json` with HTTP Basic auth (account SID and
/// auth token); 201 with the message's `sid`, or a JSON error with Twilio's own `code`.
struct TwilioGateway: SMSGateway {
    let config: SMSChannelConfig

    /// Twilio error codes that mean this number can never receive from us.
    static let invalidNumberCodes: Set<Int> = [
        21211,  // invalid 'To' phone number
        21214,  // 'To' phone number cannot be reached
        21217,  // phone number does not appear to be valid
        21401,  // invalid phone number
        21407,  // this phone number type does not support SMS
        21612,  // the 'To' number is not currently reachable via SMS
        21614,  // 'To' number is not a valid mobile number
    ]
    /// The recipient replied STOP to this sender: sending again is refused (and unlawful).
    static let optedOutCode = 21610

    var messagesURL: URL {
        let base = config.url.hasSuffix("/") ? String(config.url.dropLast()) : config.url
        return URL(string: "\(base)/2010-04-01/Accounts/\(config.username ?? "")/Messages.json")!
    }

    func request(for submission: SMSSubmission) -> OutboundRequest {
        var form = [("To", submission.to), ("Body", submission.text)]
        if let receipt = submission.receiptURL { form.append(("StatusCallback", receipt)) }
        if let service = config.messagingServiceSID {
            form.append(("MessagingServiceSid", service))
        } else if let from = submission.from {
            form.append(("From", from))
        }
        let body = form.map { "\($0.0)=\(HTTPGatewayRequest.percentEncoded($0.1))" }.joined(separator: "&")
        return OutboundRequest(
            method: "POST", url: messagesURL,
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Accept", "application/json")],
            body: Array(body.utf8), connectTimeout: config.connectTimeout, timeout: config.timeout,
            basicAuth: (config.username ?? "", config.password ?? Secret("")),
            // Twilio's answer is ~1 KB of JSON with the sid near its end.
            responseBodyLimit: 16 * 1024)
    }

    private struct Answer: Decodable {
        var sid: String?
        var status: StatusField?
        var code: Int?
        var message: String?
        var num_segments: String?

        /// `status` is the message's state in a success and the HTTP status (a number) in an error.
        enum StatusField: Decodable {
            case text(String)
            case number(Int)
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let number = try? container.decode(Int.self) { self = .number(number) } else { self = .text(try container.decode(String.self)) }
            }
        }
    }

    func outcome(for response: OutboundResponse, submission: SMSSubmission) -> DeliveryOutcome {
        let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.bodyPrefix))
        if (200...299).contains(response.status) {
            var words = "accepted"
            if case .text(let state)? = answer?.status { words = state }
            if let segments = answer?.num_segments { words += ", \(segments) segment\(segments == "1" ? "" : "s")" }
            return .sent(remoteCode: String(response.status), remoteText: words, remoteID: answer?.sid)
        }
        guard let code = answer?.code else { return HTTPStatusClassification.outcome(for: response) }
        let words = String((answer?.message ?? response.bodyText).prefix(DeliveryAttempt.remoteTextLimit))
        let detail = "HTTP \(response.status), Twilio error \(code): \(words)"
        switch code {
        case Self.optedOutCode:
            var error = DeliveryError(code: .optedOut, detail: detail, remoteCode: String(code), remoteText: words)
            error.suppression = Suppression(Address(of: Recipient(phone: submission.to), on: .sms), reason: .unsubscribed,
                                            source: "twilio \(code)")
            return .permanent(error)
        case _ where Self.invalidNumberCodes.contains(code):
            return .permanent(DeliveryError(code: .invalidRecipient, detail: detail, remoteCode: String(code), remoteText: words))
        case 20003:
            return .permanent(DeliveryError(code: .authentication, detail: detail, remoteCode: String(code), remoteText: words))
        default:
            // Twilio's code is what its documentation and support desk know the problem by; the
            // HTTP status decides whether it is worth another try (429 and 5xx are).
            switch HTTPStatusClassification.outcome(for: response) {
            case .transient(_, let retryAfter):
                return .transient(DeliveryError(code: .httpStatus, detail: detail, remoteCode: String(code), remoteText: words),
                                  retryAfter: retryAfter)
            default:
                return .permanent(DeliveryError(code: .httpStatus, detail: detail, remoteCode: String(code), remoteText: words))
            }
        }
    }
}
