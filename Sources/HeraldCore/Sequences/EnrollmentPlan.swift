import Foundation

/// What the sequencer does next with one enrollment: plain decisions over what the queue
/// hands over (where the enrollment stands, the recipient's suppression), no I/O.
extension SequenceDefinition {
    /// A step sent this much after it was due counts as put off (quiet hours, a cap, a retry),
    /// and the later steps move with it; less is the dispatcher's ordinary delay.
    static let lateness: Int64 = 60_000
    /// How soon an enrollment waiting on an unfinished step message is looked at again, after
    /// that message's own due time.
    static let recheck: Int64 = 60_000

    /// The next move for `enrollment` at `now`. `suppression` is the recipient's on the next
    /// step's channel, if any: unsubscribing, bouncing and complaining end an enrollment.
    func nextMove(for enrollment: EnrollmentProgress, now: Int64, timeZone: TimeZone,
                  suppression: Suppression?) -> EnrollmentAdvance.Action {
        if let suppression { return .exit(reason: suppression.reason.rawValue) }
        if let maxAge, now - enrollment.startedAt >= maxAge.milliseconds { return .exit(reason: "max_age") }
        var shift = enrollment.shift
        if enrollment.awaiting != nil {
            switch enrollment.awaitingState {
            case .queued?, .leased?:
                return .wait(until: max(now, enrollment.awaitingDueAt ?? now) + Self.recheck, shift: shift)
            case .sent?:
                if let sent = enrollment.awaitingSentAt, let due = enrollment.awaitingDue, sent - due > Self.lateness {
                    shift += sent - due
                }
            default:
                break  // failed, suppressed, canceled or gone: the drip goes on from the plan.
            }
        }
        guard enrollment.nextStep < steps.count else { return .complete }
        let schedule = self.schedule(start: enrollment.startedAt, key: enrollment.key, timeZone: timeZone)
        let due = schedule[enrollment.nextStep].due + shift
        guard due <= now else { return .wait(until: due, shift: shift) }
        let step = steps[enrollment.nextStep]
        let message = NewMessage(key: step.messageKey(enrollment: enrollment.key, round: enrollment.round), channel: step.channel, template: step.template,
                                 recipient: enrollment.recipient, dataJSON: enrollment.dataJSON, sendAt: due,
                                 category: step.category, campaign: enrollment.campaign ?? name)
        let recheck = enrollment.nextStep + 1 < steps.count ? max(schedule[enrollment.nextStep + 1].due + shift, due) : due
        return .queue(step: enrollment.nextStep, message: message, due: due, recheck: recheck, shift: shift)
    }

    /// The channel of the step an enrollment sends next (the last one once all are queued).
    func channel(after enrollment: EnrollmentProgress) -> Channel {
        steps[min(enrollment.nextStep, steps.count - 1)].channel
    }
}
