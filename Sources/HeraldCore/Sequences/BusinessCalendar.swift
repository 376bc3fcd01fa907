import Foundation

/// A day on the calendar, in no time zone: a holiday is a date wherever the lead lives.
public struct LocalDay: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD` naming a real date (no 2026-02-30), or nil. The date rule is RFC 3339's.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              RFC3339.milliseconds("\(text)T00:00:00Z") != nil
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    /// The local day `date` falls on in `calendar`'s zone.
    init(_ date: Date, in calendar: Calendar) {
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        self.init(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    public var description: String { String(format: "%04d-%02d-%02d", year, month, day) }

    public static func < (lhs: LocalDay, rhs: LocalDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }
}

/// Business-day arithmetic in one recipient's time zone: Saturdays, Sundays and the holidays do
/// not count. Days are walked on the calendar (same local time of day, whatever DST does in
/// between); what is left under a day counts only the time that falls on business days.
struct BusinessCalendar {
    let calendar: Calendar
    let holidays: Set<LocalDay>

    func isBusinessDay(_ date: Date) -> Bool {
        let weekday = calendar.component(.weekday, from: date)
        return weekday != 1 && weekday != 7 && !holidays.contains(LocalDay(date, in: calendar))
    }

    /// `span` after `start`. With `businessDays`, its whole days are business days (the landing
    /// day is one) and the rest is business time; without, calendar days and elapsed time.
    func adding(_ span: Duration, to start: Date, businessDays: Bool) -> Date {
        let seconds = Double(span.milliseconds) / 1_000
        let days = Int((seconds / 86_400).rounded(.down))
        let rest = seconds - Double(days) * 86_400
        guard businessDays else {
            let landed = calendar.date(byAdding: .day, value: days, to: start) ?? start.addingTimeInterval(Double(days) * 86_400)
            return landed.addingTimeInterval(rest)
        }
        var cursor = start
        var counted = 0
        while counted < days {
            cursor = nextDay(after: cursor)
            if isBusinessDay(cursor) { counted += 1 }
        }
        return addingBusinessTime(rest, to: cursor)
    }

    /// The same local time on the next calendar day (the nearest valid time when DST removes it).
    private func nextDay(after date: Date) -> Date {
        calendar.date(byAdding: .day, value: 1, to: date) ?? date.addingTimeInterval(86_400)
    }

    /// `seconds` of time on business days after `start`: time on other days is passed over.
    func addingBusinessTime(_ seconds: Double, to start: Date) -> Date {
        var cursor = start
        var left = seconds
        // At most a year of days: a calendar whose every day is a holiday ends rather than spins.
        for _ in 0..<370 {
            let midnight = calendar.startOfDay(for: nextDay(after: cursor))
            if isBusinessDay(cursor) {
                let today = midnight.timeIntervalSince(cursor)
                if left < today { return cursor.addingTimeInterval(left) }
                left -= today
            }
            cursor = midnight
        }
        return cursor.addingTimeInterval(left)
    }

    /// The time between two instants that falls on business days (for previews and checks).
    func businessTime(from start: Date, to end: Date) -> Double {
        var total = 0.0
        var cursor = start
        while cursor < end {
            let midnight = min(calendar.startOfDay(for: nextDay(after: cursor)), end)
            if isBusinessDay(cursor) { total += midnight.timeIntervalSince(cursor) }
            cursor = midnight
        }
        return total
    }

    /// The first instant at or after `date` inside `window` on a business day (`businessDays`)
    /// or on any day, moved `offset` (0..<1 of the window's length) into the window when it had
    /// to move at all, so leads due overnight do not all go out at its first minute.
    func opening(of window: DailyWindow, at date: Date, businessDays: Bool, offset: Double) -> Date {
        let minute = calendar.component(.hour, from: date) * 60 + calendar.component(.minute, from: date)
        if window.contains(minute: minute), !businessDays || isBusinessDay(date) { return date }
        var day = calendar.startOfDay(for: date)
        if minute >= window.end || (businessDays && !isBusinessDay(date)) { day = calendar.startOfDay(for: nextDay(after: day)) }
        while businessDays && !isBusinessDay(day) { day = calendar.startOfDay(for: nextDay(after: day)) }
        let length = Double(window.end - window.start) * 60
        var parts = calendar.dateComponents([.year, .month, .day], from: day)
        parts.hour = window.start / 60
        parts.minute = window.start % 60
        let opening = calendar.date(from: parts) ?? day.addingTimeInterval(Double(window.start) * 60)
        return opening.addingTimeInterval((length * offset).rounded(.down))
    }
}
