import Logging

/// The dispatcher's side of rate limits at the moment of sending: a send waits briefly for its
/// slot, or goes back to the queue until it conforms.
extension Dispatcher {
    /// Waits in the worker, at most `admissionHold`, for the rate limits to admit the send; a
    /// longer wait goes back to the queue (`wait`), so a worker is never parked on a limit.
    func admission(of message: ClaimedMessage, to limits: [RateLimitKey]) async -> RateAdmission {
        let holdUntil = Timestamp.now() + Self.admissionHold.milliseconds
        while true {
            let answer: RateAdmission
            do {
                answer = try await queue.admit(limits)
            } catch {
                logger.error("could not check the rate limit; the message waits a second",
                             metadata: ["message_id": "\(message.id)", "error": "\(error)"])
                return .wait(until: Timestamp.now() + 1_000)
            }
            guard case .wait(let until) = answer, until <= holdUntil, !Task.isShuttingDownGracefully else { return answer }
            do {
                try await Task.sleep(for: .milliseconds(until - Timestamp.now()))
            } catch {
                return answer  // Cancelled at the end of the shutdown grace period.
            }
        }
    }

    /// Returns a message the rate limits did not admit to the queue, due when they would.
    func putOff(_ message: ClaimedMessage, until: Int64, journal: SettlementJournal, log: MessageLog) async {
        do {
            try await journal.record(.deferred(messageID: message.id, Deferral(reason: .rateLimit, until: until)), of: message)
            log.log(.debug, "deferred by the rate limit at sending", ["until": "\(Timestamp.rfc3339(until))"])
            metrics?.recordDeferral(reason: Deferral.Reason.rateLimit.rawValue, channel: message.channel)
        } catch {
            log.log(.error, "could not defer the message; it returns to the queue when its lease expires", ["error": "\(error)"])
        }
    }
}
