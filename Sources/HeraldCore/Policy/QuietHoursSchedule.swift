import Foundation

/// Every quiet-hours rule that applies to a message, together: an instant is allowed only when
/// all of them allow it.
struct QuietHoursSchedule {
    let rules: [QuietHours]
    let calendar: Calendar

    func allows(_ instant: Int64) -> Bool {
        rules.allSatisfy { $0.allows(instant, calendar: calendar) }
    }

    /// The first instant at or after `instant` that every rule allows.
    func nextOpening(after instant: Int64) -> Int64 {
        var candidate = instant
        // Each rule moves the candidate forward to its own next opening; a few rounds settle it.
        for _ in 0..<16 {
            if allows(candidate) { return candidate }
            for rule in rules { candidate = rule.nextOpening(after: candidate, calendar: calendar) }
        }
        return candidate
    }

    /// Random milliseconds in `0..<limit`, kept inside the open window: a deferred crowd spreads
    /// out after the opening instead of firing at once, and none of it lands in quiet time.
    func jitter(at opening: Int64, upTo limit: Int64) -> Int64 {
        guard limit > 0 else { return 0 }
        var span = limit
        // Shrink the span until its end is still open (a window shorter than the jitter).
        while span > 60_000 && !allows(opening + span - 1) { span /= 2 }
        let jitter = Int64.random(in: 0..<span)
        return allows(opening + jitter) ? jitter : 0
    }
}
