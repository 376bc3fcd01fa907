import Foundation

/// Parses an HTTP `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
public enum RetryAfter {
    /// A year, in seconds: the longest hint kept.
    static let longest: Int64 = 365 * 86_400

    public static func parse(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int64(trimmed) {
            // Any hint past a year is noise, and a remote's number must never reach arithmetic
            // that could overflow.
            return seconds >= 0 ? .seconds(min(seconds, Self.longest)) : nil
        }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        let interval = min(max(0, date.timeIntervalSince(now)), Double(Self.longest))
        return .milliseconds(Int64(interval * 1_000))
    }
}
