import Foundation
import Synchronization

/// Gregorian calendars per IANA zone, made once: a Calendar with a TimeZone costs ICU work that
/// should not be paid per message.
final class ZoneCalendars: Sendable {
    static let shared = ZoneCalendars()
    private let calendars = Mutex<[String: Calendar]>([:])

    /// The calendar of `zone`, or of `fallback` when `zone` is nil or unknown.
    func calendar(_ zone: String?, fallback: String) -> Calendar {
        let name = zone ?? fallback
        if let cached = calendars.withLock({ $0[name] }) { return cached }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: name) ?? TimeZone(identifier: fallback) ?? TimeZone(identifier: "UTC")!
        calendars.withLock { $0[name] = calendar }
        return calendar
    }
}
