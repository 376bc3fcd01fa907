import Foundation

/// Wall-clock time as the queue stores it: unix milliseconds in an INTEGER column, which compare
/// and index cheaply and mean the same to every process sharing the file.
public enum Timestamp {
    public static func now() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000).rounded(.down))
    }

    public static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1_000)
    }

    /// To the nearest millisecond: a date made from unix ms (`date(_:)`) comes back as the same ms,
    /// which rounding down would miss by one whenever the Double fell a hair short.
    public static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000).rounded())
    }

    /// RFC 3339 in UTC with milliseconds, for output meant for people and scripts alike.
    ///
    /// The whole seconds are formatted and the milliseconds written from the integer: formatting
    /// the fraction of a Double date printed .095 for a time stored as .096.
    public static func rfc3339(_ milliseconds: Int64) -> String {
        let (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1_000)
        let (whole, millis) = fraction < 0 ? (seconds - 1, fraction + 1_000) : (seconds, fraction)
        let text = Date(timeIntervalSince1970: Double(whole))
            .formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon).timeZone(separator: .omitted))
        // "2026-11-04T21:30:02Z" -> "2026-11-04T21:30:02.096Z"
        return "\(text.dropLast()).\(String(format: "%03d", millis))Z"
    }

    /// An RFC 3339 time (`2026-12-04T16:30:00Z`, `2026-12-04T11:30:00-05:00`) as unix ms, or nil.
    public static func milliseconds(rfc3339 text: String) -> Int64? {
        RFC3339.milliseconds(text)
    }

    /// An operator's "since": a duration ago (`6h`, `2d`) or an RFC 3339 time, as unix ms.
    public static func since(_ text: String, now: Int64 = now()) throws(IntakeRejection) -> Int64 {
        if let ago = DurationParsing.parse(text) { return now - ago.milliseconds }
        if let time = RFC3339.milliseconds(text) { return time }
        throw IntakeRejection(field: "since", "expected a duration such as 6h (at most 36500d) or an RFC 3339 time, got \"\(text.prefix(40))\"")
    }
}
