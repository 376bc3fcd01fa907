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
        // Written from the civil date of the day number (H. Hinnant's days-to-civil): every event
        // carries this, and Foundation's ISO 8601 style plus String(format:) were a fifth of
        // recording a message's events.
        let (seconds, fraction) = milliseconds.quotientAndRemainder(dividingBy: 1_000)
        let (whole, millis) = fraction < 0 ? (seconds - 1, fraction + 1_000) : (seconds, fraction)
        let (days, secondOfDay) = whole >= 0 || whole % 86_400 == 0
            ? (whole / 86_400, whole % 86_400) : (whole / 86_400 - 1, whole % 86_400 + 86_400)
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        var text: [UInt8] = []
        text.reserveCapacity(24)
        func digits(_ value: Int64, _ width: Int) {
            var divisor: Int64 = 1
            for _ in 1..<width { divisor *= 10 }
            var value = value
            if value >= divisor * 10 {  // a year past 9999: all its digits
                text.append(contentsOf: String(value).utf8)
                return
            }
            while divisor > 0 {
                text.append(UInt8(ascii: "0") + UInt8(value / divisor))
                value %= divisor
                divisor /= 10
            }
        }
        digits(year, 4)
        text.append(UInt8(ascii: "-"))
        digits(month, 2)
        text.append(UInt8(ascii: "-"))
        digits(day, 2)
        text.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3_600, 2)
        text.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        text.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        text.append(UInt8(ascii: "."))
        digits(millis, 3)
        text.append(UInt8(ascii: "Z"))
        return String(decoding: text, as: UTF8.self)
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
