import Foundation

/// Kannel's smsbox `sendsms` interface, as a POST of the text with `X-Kannel-*` headers: the
/// password stays out of the URL (smsbox and proxies log URLs), and the text goes as UTF-8 with
/// the coding Herald chose (0: GSM-7, 2: UCS-2), so Kannel's segment count matches Herald's.
///
/// smsbox answers 202 `0: Accepted for delivery` (or `3: Queued for later delivery`); 403 for
/// a wrong sendsms-user or password; 4xx for a request it cannot take; 503 when it cannot reach
/// the bearerbox.
struct KannelGateway: SMSGateway {
    let config: SMSChannelConfig

    func request(for submission: SMSSubmission) -> OutboundRequest {
        var headers: [(name: String, value: String)] = [
            ("Content-Type", "text/plain; charset=UTF-8"),
            ("X-Kannel-Username", config.username ?? ""),
            ("X-Kannel-Password", config.password?.exposedValue ?? ""),
            ("X-Kannel-To", submission.to),
            ("X-Kannel-Coding", submission.encoding.alphabet == .gsm7 ? "0" : "2"),
        ]
        if let from = submission.from { headers.append(("X-Kannel-From", from)) }
        if let receipt = submission.receiptURL {
            // 1 delivered, 2 failed, 16 refused by the SMSC: the reports that end a text's story.
            headers += [("X-Kannel-DLR-Mask", "19"), ("X-Kannel-DLR-Url", receipt)]
        }
        return OutboundRequest(method: "POST", url: URL(string: config.url)!, headers: headers, body: Array(submission.text.utf8),
                           connectTimeout: config.connectTimeout, timeout: config.timeout)
    }

    func outcome(for response: OutboundResponse, submission: SMSSubmission) -> DeliveryOutcome {
        let answer = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        if response.status == 401 || response.status == 403 {
            return .permanent(DeliveryError(
                code: .authentication, detail: "Kannel refused the sendsms-user \"\(config.username ?? "")\": \(answer)",
                remoteCode: String(response.status), remoteText: answer))
        }
        return HTTPStatusClassification.outcome(for: response)
    }
}
