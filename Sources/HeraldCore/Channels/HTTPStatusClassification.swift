/// Herald's rule for HTTP answers, shared by every channel that speaks HTTP: 2xx sent;
/// 408, 425, 429 and 5xx transient (honouring Retry-After); any other status permanent.
enum HTTPStatusClassification {
    static func outcome(for response: OutboundResponse) -> DeliveryOutcome {
        let text = String(response.bodyText.prefix(DeliveryAttempt.remoteTextLimit))
        let status = response.status
        if (200...299).contains(status) {
            return .sent(remoteCode: String(status), remoteText: text)
        }
        var error = DeliveryError(code: .httpStatus, detail: "HTTP \(status)", remoteCode: String(status),
                                  remoteText: text)
        if (300...399).contains(status), let location = response.header("location") {
            // Herald does not follow redirects (a signed POST must not land somewhere unplanned);
            // where it was sent is what the operator needs to fix the endpoint.
            let moved = "Location: \(location)"
            error = DeliveryError(code: .httpStatus, detail: "HTTP \(status), redirected to \(location); Herald does not follow redirects",
                                  remoteCode: String(status),
                                  remoteText: String((text.isEmpty ? moved : moved + "\n" + text).prefix(DeliveryAttempt.remoteTextLimit)))
        }
        if [408, 425, 429].contains(status) || (500...599).contains(status) {
            return .transient(error, retryAfter: response.header("retry-after").flatMap { RetryAfter.parse($0) })
        }
        return .permanent(error)
    }

    /// Sends `request` and classifies what came back (or that nothing did). Only cancellation is thrown.
    static func outcome(sending request: OutboundRequest, through transport: any HTTPTransport) async throws -> DeliveryOutcome {
        do {
            return outcome(for: try await transport.send(request))
        } catch let error as TransportError {
            return outcome(for: error)
        }
    }

    /// No answer at all is always worth another try.
    static func outcome(for error: TransportError) -> DeliveryOutcome {
        .transient(DeliveryError(code: .transport(error), detail: error.detail), retryAfter: nil)
    }
}
