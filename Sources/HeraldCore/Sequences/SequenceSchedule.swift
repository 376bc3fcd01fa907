import Crypto
import Foundation

/// One step of an enrollment's calendar.
public struct ScheduledStep: Sendable, Equatable {
    public var step: SequenceStep
    /// Unix ms.
    public var due: Int64
}

extension SequenceDefinition {
    /// When each step of an enrollment comes due: enrolled at `start` (unix ms), under `key`
    /// (which seeds every spread, so one key always gets one calendar), for a lead in
    /// `timeZone`.
    public func schedule(start: Int64, key: String, timeZone: TimeZone) -> [ScheduledStep] {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let days = BusinessCalendar(calendar: calendar, holidays: holidays)
        let enrolled = Timestamp.date(start)
        var previous = enrolled
        var result: [ScheduledStep] = []
        for (index, step) in steps.enumerated() {
            let due: Date
            switch step.delay {
            case .afterEnrollment(let span):
                due = days.adding(span, to: enrolled, businessDays: step.businessDays)
            case .afterPrevious(let range):
                let spread = range.upperBound - range.lowerBound
                let span = range.lowerBound + .milliseconds(Int64((Double(spread.milliseconds) * Self.seed(key, index, "delay")).rounded(.down)))
                due = days.adding(span, to: previous, businessDays: step.businessDays)
            }
            let sent = step.window.map {
                days.opening(of: $0, at: due, businessDays: step.businessDays, offset: Self.seed(key, index, "window"))
            } ?? due
            result.append(ScheduledStep(step: step, due: Timestamp.milliseconds(sent)))
            previous = sent
        }
        return result
    }

    /// A number in [0, 1) that depends only on the enrollment key, the step and what it is for.
    static func seed(_ key: String, _ step: Int, _ purpose: String) -> Double {
        let digest = SHA256.hash(data: Data("\(key)\n\(step)\n\(purpose)".utf8))
        let bits = digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return Double(bits >> 11) / Double(UInt64(1) << 53)
    }
}
