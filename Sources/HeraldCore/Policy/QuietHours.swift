import Foundation

/// When a channel (and category) may reach people, in the recipient's own time zone: a daily
/// window (`08:00-21:00`) and the days of the week it applies to. Outside it, a message is
/// deferred to the next moment the window opens, plus a little jitter.
///
/// ```yaml
/// policies:
///   quiet_hours:
///     - {channel: sms, allow: "08:00-21:00"}
///     - {channel: email, category: marketing, allow: "07:00-20:00", days: mon-fri}
///   jitter: 10m
/// ```
public struct QuietHours: Sendable, Equatable {
    public var channel: Channel?
    public var category: MessageCategory?
    /// Minutes after local midnight; `start < end`.
    public var start: Int
    public var end: Int
    /// Allowed weekdays, 1 = Sunday … 7 = Saturday (Calendar's numbering).
    public var days: Set<Int>

    public init(channel: Channel? = nil, category: MessageCategory? = nil, start: Int, end: Int, days: Set<Int> = Set(1...7)) {
        self.channel = channel
        self.category = category
        self.start = start
        self.end = end
        self.days = days
    }

    func applies(to channel: Channel, category: MessageCategory) -> Bool {
        (self.channel == nil || self.channel == channel) && (self.category == nil || self.category == category)
    }

    /// Whether `instant` (unix ms) falls inside the allowed window in `calendar`'s time zone.
    func allows(_ instant: Int64, calendar: Calendar) -> Bool {
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: Timestamp.date(instant))
        let minute = parts.hour! * 60 + parts.minute!
        return days.contains(parts.weekday!) && minute >= start && minute < end
    }

    /// The first instant at or after `instant` when the window is open: `instant` itself when it
    /// is open now. Walks whole local days, so a DST change (a missing or repeated hour, half an
    /// hour on Lord Howe Island) is Foundation's calendar arithmetic, not ours.
    func nextOpening(after instant: Int64, calendar: Calendar) -> Int64 {
        if allows(instant, calendar: calendar) { return instant }
        let date = Timestamp.date(instant)
        let today = calendar.startOfDay(for: date)
        for offset in 0...8 {
            guard let day = calendar.date(byAdding: .day, value: offset, to: today),
                  days.contains(calendar.component(.weekday, from: day))
            else { continue }
            var parts = calendar.dateComponents([.year, .month, .day], from: day)
            parts.hour = start / 60
            parts.minute = start % 60
            // A start time that does not exist that day (spring forward) resolves to the first
            // valid time after it, which lies inside the window.
            guard let opening = calendar.date(from: parts) else { continue }
            let candidate = Timestamp.milliseconds(opening)
            if candidate > instant, allows(candidate, calendar: calendar) { return candidate }
            if candidate > instant {
                // The start fell into a DST gap and moved; take the first open minute after it.
                var probe = candidate
                for _ in 0..<180 where !allows(probe, calendar: calendar) { probe += 60_000 }
                if allows(probe, calendar: calendar) { return probe }
            }
        }
        return instant + 86_400_000  // No allowed day configured at all: parse refuses that.
    }

    /// Parses `{channel?, category?, allow: "HH:MM-HH:MM", days?: "mon-fri" | [mon, wed]}`.
    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["channel", "category", "allow", "days"])
        channel = try fields["channel"]?.channel()
        category = try fields["category"]?.category()
        guard let allowNode = fields["allow"] else { throw node.error("allow is required, e.g. \"08:00-21:00\"") }
        let window = try DailyWindow(allowNode)
        self.start = window.start
        self.end = window.end
        days = Set(1...7)
        if let daysNode = fields["days"] { days = try Self.days(daysNode) }
    }

    static let weekdays = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]

    private static func days(_ node: ConfigNode) throws(ConfigError) -> Set<Int> {
        let names: [String]
        if let items = try? node.items() {
            names = try items.map { item throws(ConfigError) in try item.string().lowercased() }
        } else {
            names = try node.string().lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var result: Set<Int> = []
        for name in names {
            let range = name.split(separator: "-").map(String.init)
            guard (1...2).contains(range.count), let first = weekdays.firstIndex(of: String(range[0].prefix(3))),
                  let last = weekdays.firstIndex(of: String(range[range.count - 1].prefix(3)))
            else { throw node.error("expected days such as mon-fri or [mon, wed, fri], got \"\(name)\"") }
            var day = first
            while true {
                result.insert(day + 1)
                if day == last { break }
                day = (day + 1) % 7
            }
        }
        guard !result.isEmpty else { throw node.error("at least one day is required") }
        return result
    }
}
