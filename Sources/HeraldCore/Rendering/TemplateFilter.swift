import Foundation

/// The filters a template may apply to a value, written like a function call:
/// `{{capitalize(data.first_name)}}`. A filter that cannot apply (a date filter on text that is
/// not a date) gives no value, which counts as a missing token.
enum TemplateFilter: String, CaseIterable, Sendable {
    /// First letter upper case: "sarah" → "Sarah".
    case capitalize
    /// Every word capitalized: "sarah jones" → "Sarah Jones".
    case title
    case upper
    case lower
    /// Leading and trailing white space removed.
    case trim
    /// The first word: "Sarah Jones" → "Sarah".
    case firstWord = "first_word"
    /// An RFC 3339 time in the recipient's time zone: "Tuesday, November 24, 2026".
    case date
    /// "Nov 24, 2026".
    case shortDate = "short_date"
    /// "9:00 AM".
    case time
    /// "Nov 24, 2026 at 9:00 AM".
    case datetime
    /// True when the value is missing or empty, for sections: `{{#empty(data.offer)}}`.
    case empty

    static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }

    func apply(to value: TemplateText) -> Any? {
        let text = value.text
        switch self {
        case .capitalize:
            guard let first = text.first else { return value }
            return value.with(first.uppercased() + text.dropFirst())
        case .title: return value.with(text.capitalized)
        case .upper: return value.with(text.uppercased())
        case .lower: return value.with(text.lowercased())
        case .trim: return value.with(text.trimmingCharacters(in: .whitespacesAndNewlines))
        case .firstWord: return value.with(String(text.split(whereSeparator: \.isWhitespace).first ?? ""))
        case .empty: return value.isNull
        case .date, .shortDate, .time, .datetime:
            guard let instant = Self.parseInstant(text) else { return nil }
            let locale = RecipientLocale.current
            // A bare calendar date has no time of day: format it as written, not shifted by a zone.
            let formatter = instant.dateOnly ? RecipientLocale(timeZoneID: "UTC", localeID: locale.localeID) : locale
            let formatted = switch self {
            case .date: formatter.format(instant.date, date: .complete, time: .omitted)
            case .shortDate: formatter.format(instant.date, date: .abbreviated, time: .omitted)
            case .time: formatter.format(instant.date, date: .omitted, time: .shortened)
            default: formatter.format(instant.date, date: .abbreviated, time: .shortened)
            }
            return value.with(formatted)
        }
    }

    /// RFC 3339 with or without fractional seconds, or a calendar date `2026-11-24`.
    static func parseInstant(_ text: String) -> (date: Date, dateOnly: Bool)? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = try? Date(trimmed, strategy: .iso8601) { return (date, false) }
        if let date = try? Date(trimmed, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) {
            return (date, false)
        }
        if let date = try? Date(trimmed, strategy: Date.ISO8601FormatStyle().year().month().day()) {
            return (date, true)
        }
        return nil
    }
}
