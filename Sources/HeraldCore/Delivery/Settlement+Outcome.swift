extension Settlement {
    /// What becomes of `message` after an attempt ended with `outcome`: sent, queued again after
    /// a backoff (honouring the remote's Retry-After), or failed when the error is permanent or
    /// the attempts are used up.
    static func after(_ outcome: DeliveryOutcome, of message: ClaimedMessage, startedAt: Int64,
                      duration: Duration, worker: LeaseOwner, retry: RetryPolicy,
                      random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) -> Settlement {
        var attempt = DeliveryAttempt(
            messageID: message.id, number: message.attempt, startedAt: startedAt,
            durationMicroseconds: duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000,
            worker: worker.description, outcome: .sent)
        switch outcome {
        case .sent(let remoteCode, let remoteText, let remoteID):
            attempt.remoteCode = remoteCode
            attempt.remoteText = remoteText
            attempt.remoteID = remoteID
            return .sent(attempt)
        case .permanent(let error):
            attempt.fill(from: error, outcome: .permanent)
            return .failed(attempt, lastError: error.description, suppression: error.suppression)
        case .transient(let error, let retryAfter):
            attempt.fill(from: error, outcome: .transient)
            guard let delay = retry.delay(afterAttempt: message.attemptsThisRound, retryAfter: retryAfter, random: random) else {
                return .failed(attempt, lastError: "\(error.description) (gave up after \(message.attemptsThisRound) attempts)")
            }
            attempt.retryAt = startedAt + duration.milliseconds + delay.milliseconds
            return .retry(attempt, lastError: error.description)
        }
    }
}

extension DeliveryAttempt {
    mutating func fill(from error: DeliveryError, outcome: Outcome) {
        self.outcome = outcome
        errorCode = error.code.rawValue
        remoteCode = error.remoteCode
        // The remote's words when it answered; otherwise our own account of what went wrong.
        remoteText = String((error.remoteText ?? error.detail).prefix(Self.remoteTextLimit))
    }
}
