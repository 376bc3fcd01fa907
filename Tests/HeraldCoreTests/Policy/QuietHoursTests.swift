import Foundation
import Testing
@testable import HeraldCore

/// Quiet hours through the real claim on a real SQLite queue, checked against a brute-force
/// oracle: a minute-by-minute walk of the recipient's local clock (independent of the jump
/// arithmetic in `QuietHours.nextOpening`).
@Suite("Quiet hours")
struct QuietHoursTests {
    static let zones = ["America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "Asia/Kathmandu",
                        "Pacific/Chatham", "America/St_Johns", "UTC", "Pacific/Kiritimati", "America/Anchorage"]
    static let rules = [
        QuietHours(channel: .sms, start: 8 * 60, end: 21 * 60),
        QuietHours(channel: .email, category: .marketing, start: 9 * 60, end: 17 * 60, days: Set(2...6)),  // mon-fri
        QuietHours(channel: .email, category: .marketing, start: 2 * 60 + 30, end: 23 * 60),  // starts in a DST gap
    ]

    /// Instants around each zone's DST changes in 2026 and 2027, and random ones.
    static func instants(for zone: String) -> [Int64] {
        let timeZone = TimeZone(identifier: zone)!
        var result: [Int64] = []
        var date = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01
        for _ in 0..<4 {
            guard let change = timeZone.nextDaylightSavingTimeTransition(after: date) else { break }
            for hours in [-26, -9, -3, -1, 0, 1, 2, 5, 11] {
                result.append(Timestamp.milliseconds(change) + Int64(hours) * 3_600_000 + Int64.random(in: 0..<3_600_000))
            }
            date = change.addingTimeInterval(3_600)
        }
        for _ in 0..<12 { result.append(Int64.random(in: 1_767_225_600_000..<1_830_297_600_000)) }
        return result
    }

    /// The oracle: whether `instant` is allowed, from calendar components alone.
    static func allowed(_ instant: Int64, rules: [QuietHours], zone: String) -> Bool {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: zone)!
        let parts = calendar.dateComponents([.weekday, .hour, .minute], from: Date(timeIntervalSince1970: Double(instant) / 1_000))
        let minute = parts.hour! * 60 + parts.minute!
        return rules.allSatisfy { $0.days.contains(parts.weekday!) && minute >= $0.start && minute < $0.end }
    }

    /// The first allowed instant at or after `instant`, walking minute boundaries.
    static func firstAllowed(after instant: Int64, rules: [QuietHours], zone: String) -> Int64 {
        if allowed(instant, rules: rules, zone: zone) { return instant }
        var minute = (instant / 60_000 + 1) * 60_000
        while !allowed(minute, rules: rules, zone: zone) { minute += 60_000 }
        return minute
    }

    @Test("no delivery inside quiet time in the recipient's zone; each deferred message due at the first allowed instant plus at most the jitter (DST in New York, Berlin, Lord Howe's half hour)")
    func property() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        var policies = PolicyConfig()
        policies.quietHours = Self.rules
        policies.jitter = .minutes(10)
        let owner = LeaseOwner.current()
        var checked = (delivered: 0, deferred: 0)
        var counter = 0

        for zone in Self.zones {
            for now in Self.instants(for: zone) {
                for (channel, category) in [(Channel.sms, MessageCategory.marketing), (.email, .marketing), (.email, .transactional)] {
                    counter += 1
                    let recipient = channel == .sms ? Recipient(phone: "+1555010\(String(format: "%04d", counter % 10_000))", timezone: zone)
                                                    : Recipient(email: "lead-\(counter)@example.com", timezone: zone)
                    _ = try await queue.enqueue([NewMessage(key: "q-\(counter)", channel: channel, template: "t", recipient: recipient,
                                                      sendAt: now - 1_000, category: category)])
                    let claim = try await queue.claimScreened(limit: 1, owner: owner, lease: .seconds(60), channels: [channel],
                                                      policies: policies, now: now)
                    try #require(claim.count == 1)
                    let applying = Self.rules.filter { $0.applies(to: channel, category: category) }
                    if let message = claim.deliver.first {
                        #expect(Self.allowed(now, rules: applying, zone: zone), "delivered in quiet time: \(zone) \(Timestamp.rfc3339(now))")
                        _ = message
                        checked.delivered += 1
                        // Settle it so the next claim sees only the next message.
                        try await queue.settle([.sent(DeliveryAttempt(messageID: message.id, number: 1, startedAt: now,
                                                                       durationMicroseconds: 1, worker: "\(owner)", outcome: .sent))],
                                               owner: owner, now: now)
                    } else {
                        let deferral = try #require(claim.deferred.first?.deferral)
                        #expect(deferral.reason == .quietHours)
                        let first = Self.firstAllowed(after: now, rules: applying, zone: zone)
                        #expect(deferral.until >= first && deferral.until < first + 600_000,
                                "\(zone) \(channel) at \(Timestamp.rfc3339(now)): due \(Timestamp.rfc3339(deferral.until)), first allowed \(Timestamp.rfc3339(first))")
                        #expect(Self.allowed(deferral.until, rules: applying, zone: zone))
                        let detail = try #require(try await queue.message("q-\(counter)"))
                        #expect(detail.state == .queued && detail.dueAt == deferral.until && detail.attemptCount == 0)
                        // Out of the way of the next instant's claim.
                        guard case .done = try await queue.cancel("q-\(counter)") else {
                            Issue.record("q-\(counter) could not be cancelled")
                            return
                        }
                        checked.deferred += 1
                    }
                }
            }
        }
        // Both outcomes were exercised many times.
        #expect(checked.delivered > 100 && checked.deferred > 100, "\(checked)")
    }

    @Test("config: allow windows and days parse; a bad window names the key")
    func config() throws {
        let yaml = """
            channels: {webhook: {endpoints: {a: {url: "http://127.0.0.1:9/", secret: "whsec_MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0"}}}}
            policies:
              quiet_hours:
                - {channel: sms, allow: "08:00-21:00"}
                - {channel: email, category: marketing, allow: "09:00-17:30", days: mon-fri}
                - {allow: "07:00-22:00", days: [sat, sun]}
              jitter: 5m
              frequency_caps: [{category: marketing, max: 3, per: 7d}]
            """
        let config = try HeraldConfig.parse(yaml: yaml, root: URL(fileURLWithPath: "/tmp"), environment: [:])
        #expect(config.policies.quietHours.count == 3)
        #expect(config.policies.quietHours[1].days == Set(2...6) && config.policies.quietHours[1].end == 17 * 60 + 30)
        #expect(config.policies.quietHours[2].days == [1, 7])
        #expect(config.policies.frequencyCaps == [FrequencyCap(category: .marketing, max: 3, window: 7 * 86_400_000)])
        #expect(throws: ConfigError.self) {
            try HeraldConfig.parse(yaml: yaml.replacingOccurrences(of: "\"08:00-21:00\"", with: "\"21:00-08:00\""),
                                   root: URL(fileURLWithPath: "/tmp"), environment: [:])
        }
        do {
            _ = try HeraldConfig.parse(yaml: yaml.replacingOccurrences(of: "mon-fri", with: "weekdays"),
                                       root: URL(fileURLWithPath: "/tmp"), environment: [:])
            Issue.record("days: weekdays was accepted")
        } catch {
            #expect("\(error)".contains("policies.quiet_hours[1].days"), "\(error)")
            #expect("\(error)".contains("weekdays"))
        }
    }
}
