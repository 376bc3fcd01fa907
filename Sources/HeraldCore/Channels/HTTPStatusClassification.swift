/// Herald's rule for HTTP answers, shared by every channel that speaks HTTP: 2xx sent;
/// 408, 425, 429 and 5xx transient (honouring Retry-After); any other status permanent.
enum HTTPStatusClassification {
    static func outcome(for response: OutboundResponse) -> DeliveryOutcome {
        let text = String(response.bodyText.prefix(DeliveryAttempt.remoteTextLimit))
        let status = response.status
        if (200...299).contains(status) {
            return .sent(remoteCode: String(status), remoteText: text)
        }
        let error = DeliveryError(code: .httpStatus, detail: "HTTP \(status)", remoteCode: String(status),
                                  remoteText: text)
        if [408, 425, 429].contains(status) || (500...599).contains(status) {
            return .transient(error, retryAfter: response.header("retry-after").flatMap { RetryAfter.parse($0) })
        }
        return .permanent(error)
    }

    /// No answer at all is always worth another try.
    static func outcome(for error: TransportError) -> DeliveryOutcome {
        .transient(DeliveryError(code: .transport(error), detail: error.detail), retryAfter: nil)
    }
}
