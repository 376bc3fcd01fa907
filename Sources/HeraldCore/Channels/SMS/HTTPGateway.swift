import Foundation

/// A gateway described in config (`channels.sms.request`): the request is filled in from
/// placeholders, each value escaped for where it lands (JSON string, form field, URL), and the
/// answer is judged by the configured success rule. Answers outside it follow the HTTP rules
/// (429 and 5xx transient); a success status whose body lacks the success text is permanent,
/// because such gateways report a refused message as 200 with an error in the body.
struct HTTPGateway: SMSGateway {
    let config: SMSChannelConfig

    private var spec: HTTPGatewayRequest { config.request! }

    func request(for submission: SMSSubmission) -> OutboundRequest {
        let values = ["to": submission.to, "from": submission.from ?? "", "text": submission.text, "key": submission.reference]
        let url = HTTPGatewayRequest.fill(config.url, with: values, escape: HTTPGatewayRequest.percentEncoded)
        var headers = spec.headers
        var body: [UInt8] = []
        if let template = spec.body {
            let filled = switch spec.format {
            case .json: HTTPGatewayRequest.fill(template, with: values, escape: JSONStringContentType().escapeText)
            case .form: HTTPGatewayRequest.fill(template, with: values, escape: HTTPGatewayRequest.percentEncoded)
            }
            body = Array(filled.utf8)
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
                headers.insert(("Content-Type", spec.format.contentType), at: 0)
            }
        }
        return OutboundRequest(method: spec.method, url: URL(string: url)!, headers: headers, body: body,
                           connectTimeout: config.connectTimeout, timeout: config.timeout,
                           basicAuth: config.username.map { ($0, config.password ?? Secret("")) },
                           responseBodyLimit: 16 * 1024)
    }

    func outcome(for response: OutboundResponse, submission: SMSSubmission) -> DeliveryOutcome {
        let text = String(response.bodyText.prefix(DeliveryAttempt.remoteTextLimit))
        guard spec.successStatuses.contains(response.status) else {
            if (200...299).contains(response.status) {
                return .permanent(DeliveryError(code: .httpStatus, detail: "HTTP \(response.status) is not a configured success status",
                                                remoteCode: String(response.status), remoteText: text))
            }
            return HTTPStatusClassification.outcome(for: response)
        }
        if let needle = spec.successBodyContains, !response.bodyText.contains(needle) {
            return .permanent(DeliveryError(code: .gatewayRejected,
                                            detail: "HTTP \(response.status) without \"\(needle)\" in the answer",
                                            remoteCode: String(response.status), remoteText: text))
        }
        var id: String?
        if let field = spec.messageIDField,
           let object = try? JSONSerialization.jsonObject(with: Data(response.bodyPrefix)) as? [String: Any] {
            id = (object[field] as? String) ?? (object[field] as? NSNumber)?.stringValue
        }
        return .sent(remoteCode: String(response.status), remoteText: text, remoteID: id)
    }
}
