import Foundation
import Testing
@testable import HeraldCore

/// When a sequence's steps come due: business days and holidays in the lead's zone, across DST,
/// spreads seeded by the enrollment key, send windows.
@Suite("Sequence calendars")
struct SequenceScheduleTests {
    static let newYork = TimeZone(identifier: "America/New_York")!

    /// The shipped nurture templates in a temporary Templates/ folder.
    static func templates(in folder: TemporaryFolder) throws -> TemplateStore {
        for name in ["retirement-nurture-2", "retirement-nurture-5", "retirement-nurture-9", "hot-lead-alert"] {
            try FileManager.default.copyItem(at: SupportPaths.packageRoot.appendingPathComponent("Templates/\(name)"),
                                             to: folder.file("Templates/\(name)"))
        }
        return TemplateStore(folder: folder.file("Templates"), displayRoot: "Templates")
    }

    static func definition(_ yaml: String, folder: TemporaryFolder) throws -> SequenceDefinition {
        try SequenceDefinition.parse(yaml, name: "test", templates: try templates(in: folder))
    }

    static func local(_ milliseconds: Int64, _ zone: TimeZone = newYork) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = zone
        formatter.dateFormat = "EEE yyyy-MM-dd HH:mm zzz"
        return formatter.string(from: Timestamp.date(milliseconds))
    }

    /// Time between two instants on business days in New York (Saturdays, Sundays and `holidays` not counted).
    static func businessTime(_ from: Int64, _ to: Int64, holidays: Set<LocalDay> = []) -> Double {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = newYork
        return BusinessCalendar(calendar: calendar, holidays: holidays)
            .businessTime(from: Timestamp.date(from), to: Timestamp.date(to))
    }

    @Test("Day 2 / Day 5 / Day 9 in business days from a Friday 16:30 in New York: the weekends and a holiday skipped, local time kept across the end of DST")
    func seedsDrip() throws {
        let folder = try TemporaryFolder()
        let sequence = try Self.definition("""
            business_days: true
            holidays: [2026-11-03]
            steps:
              - {template: retirement-nurture-2, after: 2d}
              - {template: retirement-nurture-5, after: 5d}
              - {template: retirement-nurture-9, after: 9d}
            """, folder: folder)
        // Friday 30 October 2026, 16:30 EDT; DST ends on Sunday 1 November.
        let start = try #require(Timestamp.milliseconds(rfc3339: "2026-10-30T16:30:00-04:00"))
        #expect(Self.local(start) == "Fri 2026-10-30 16:30 EDT", "precondition: the enrollment is a Friday 16:30 local")
        let due = sequence.schedule(start: start, key: "lead-4711/retirement", timeZone: Self.newYork).map { Self.local($0.due) }
        // Mon 2 = 1, Tue 3 a holiday, Wed 4 = 2; Thu 5, Fri 6, Mon 9 = 5; Tue 10 … Fri 13 = 9.
        #expect(due == ["Wed 2026-11-04 16:30 EST", "Mon 2026-11-09 16:30 EST", "Fri 2026-11-13 16:30 EST"])
        #expect(sequence.schedule(start: start, key: "lead-4711/retirement", timeZone: Self.newYork).map(\.step.template)
                == ["retirement-nurture-2", "retirement-nurture-5", "retirement-nurture-9"])

        // The same delays on calendar days land on the weekend and the holiday.
        let plain = try Self.definition("""
            steps:
              - {template: retirement-nurture-2, after: 2d}
              - {template: retirement-nurture-5, after: 4d}
            """, folder: try TemporaryFolder())
        #expect(plain.schedule(start: start, key: "k", timeZone: Self.newYork).map { Self.local($0.due) }
                == ["Sun 2026-11-01 16:30 EST", "Tue 2026-11-03 16:30 EST"])
    }

    @Test("every 2-3 business days, 1,000 enrollments: each gap within [2 d, 3 d] of business time, spread over the range, one key always one calendar")
    func spreadGaps() throws {
        let folder = try TemporaryFolder()
        let sequence = try Self.definition("""
            business_days: true
            holidays: [2026-12-25, 2027-01-01]
            steps:
              - {template: retirement-nurture-2, after_previous: 2-3d}
              - {template: retirement-nurture-5, after_previous: 2-3d}
              - {template: retirement-nurture-9, after_previous: 2-3d}
            """, folder: folder)
        let holidays: Set<LocalDay> = [LocalDay("2026-12-25")!, LocalDay("2027-01-01")!]
        let start = try #require(Timestamp.milliseconds(rfc3339: "2026-12-18T16:30:00-05:00"))
        var gaps: [Double] = []
        var calendars: Set<[Int64]> = []
        for lead in 0..<1_000 {
            let key = "lead-\(lead)/nurture"
            let due = sequence.schedule(start: start, key: key, timeZone: Self.newYork).map(\.due)
            #expect(due == sequence.schedule(start: start, key: key, timeZone: Self.newYork).map(\.due), "one key, one calendar")
            calendars.insert(due)
            for (from, to) in zip([start] + due, due) {
                gaps.append(Self.businessTime(from, to, holidays: holidays) / 86_400)
            }
        }
        #expect(gaps.count == 3_000)
        let outside = gaps.filter { $0 < 2 - 1e-6 || $0 > 3 + 1e-6 }
        #expect(outside.isEmpty, "gaps outside [2, 3] business days: \(outside.prefix(5))")
        // Spread, not bunched: every tenth of the range holds some gaps, none holds most.
        let deciles = Dictionary(grouping: gaps) { min(9, Int(($0 - 2) * 10)) }.mapValues(\.count)
        #expect(deciles.count == 10 && deciles.values.allSatisfy { (150...450).contains($0) }, "gaps per tenth of the range: \(deciles.sorted { $0.key < $1.key })")
        #expect(calendars.count == 1_000, "different keys, different calendars")
        print("every 2-3 days: 3,000 gaps from \(gaps.min()!) to \(gaps.max()!) business days; per tenth \(deciles.sorted { $0.key < $1.key }.map(\.value))")
    }

    @Test("a step with a send window: due inside it stays, due after it goes to the next business day's window, seeded within it")
    func sendWindow() throws {
        let folder = try TemporaryFolder()
        let sequence = try Self.definition("""
            business_days: true
            steps:
              - {template: retirement-nurture-2, after: 1d, at: "09:00-11:00"}
              - {template: retirement-nurture-5, after: 1d, business_days: false, at: "16:00-18:00"}
            """, folder: folder)
        let friday = try #require(Timestamp.milliseconds(rfc3339: "2026-12-04T16:30:00-05:00"))
        let steps = sequence.schedule(start: friday, key: "lead-1", timeZone: Self.newYork)
        // One business day after Friday 16:30 is Monday 16:30: past the window, so Tuesday 09:00-11:00.
        let first = Self.local(steps[0].due)
        #expect(first.hasPrefix("Tue 2026-12-08 09:") || first.hasPrefix("Tue 2026-12-08 10:"), "\(first)")
        // A calendar day after Friday 16:30 is Saturday 16:30: inside 16:00-18:00, kept as it is.
        #expect(Self.local(steps[1].due) == "Sat 2026-12-05 16:30 EST")
        let openings = Set((0..<200).map { sequence.schedule(start: friday, key: "lead-\($0)", timeZone: Self.newYork)[0].due })
        #expect(openings.count > 150, "leads due overnight are spread over the window, not all at 09:00")
    }
}
