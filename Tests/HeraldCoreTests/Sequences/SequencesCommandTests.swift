import Foundation
import Testing
@testable import HeraldCore

/// `herald sequences check` and `herald sequences preview`, run as the operator runs them.
@Suite("herald sequences")
struct SequencesCommandTests {
    static func fixture() throws -> HeraldFixture {
        let fixture = try HeraldFixture(endpoints: ["hook": "http://127.0.0.1:9/"])
        for name in ["retirement-nurture-2", "retirement-nurture-5", "retirement-nurture-9", "hot-lead-alert"] {
            try fixture.useShippedTemplate(name)
        }
        return fixture
    }

    @Test("check names the file, the line and the key of each bad definition and exits 1; the good ones load")
    func badDefinitions() async throws {
        let fixture = try Self.fixture()
        try fixture.folder.write("Sequences/good.yaml", """
            steps:
              - {template: retirement-nurture-2, after: 2d}
            """)
        try fixture.folder.write("Sequences/unknown-template.yaml", """
            steps:
              - template: retirement-nurture-2
                after: 2d
              - template: retirement-nurture-7
                after: 5d
            """)
        try fixture.folder.write("Sequences/wrong-channel.yaml", """
            steps:
              - template: retirement-nurture-2
                channel: sms
                after: 2d
            """)
        try fixture.folder.write("Sequences/backwards.yaml", """
            description: every few days
            steps:
              - template: retirement-nurture-2
                after_previous: 3-2d
            """)
        try fixture.folder.write("Sequences/bad-holiday.yaml", """
            business_days: true
            holidays:
              - 2026-12-25
              - 2026-13-01
            steps:
              - {template: retirement-nurture-2, after: 2d}
            """)
        try fixture.folder.write("Sequences/slash-step.yaml", """
            steps:
              - {name: day/2, template: retirement-nurture-2, after: 2d}
            """)
        let result = try await HeraldCommand.run(["sequences", "check"], fixture: fixture)
        #expect(result.status == 1, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("Sequences/slash-step.yaml:2: steps[0].name: a step's name is 1 to 50 letters, digits, '.', '_' or '-' (got \"day/2\")"),
                "\(result.stdout)")
        let lines = result.stdout.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("Sequences/unknown-template.yaml:4: steps[1].template: no template \"retirement-nurture-7\"") }, "\(lines)")
        #expect(lines.contains("Sequences/wrong-channel.yaml:3: steps[0].channel: template \"retirement-nurture-2\" serves email, not sms"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("Sequences/backwards.yaml:4: steps[0].after_previous: the range \"3-2d\" runs backwards") }, "\(lines)")
        #expect(lines.contains("Sequences/bad-holiday.yaml:4: holidays[1]: expected a date such as 2026-12-25, got \"2026-13-01\""), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("good: 1 steps, version ") }, "the good file loads beside the bad ones: \(lines)")
        #expect(lines.last == "Sequences: 1 sequences, 5 with problems")
    }

    @Test("preview prints the calendar the schedule computes, in the lead's zone; an unknown sequence or zone is refused by name")
    func preview() async throws {
        let fixture = try Self.fixture()
        try FileManager.default.copyItem(at: SupportPaths.packageRoot.appendingPathComponent("Sequences"), to: fixture.folder.file("Sequences"))
        let check = try await HeraldCommand.run(["sequences", "check"], fixture: fixture)
        #expect(check.status == 0, "the shipped sequence checks clean: \(check.stdout)")

        let result = try await HeraldCommand.run(["sequences", "preview", "retirement-nurture", "--start", "2026-12-04T16:30:00-05:00",
                                                  "--timezone", "America/New_York", "--key", "lead-4711/retirement", "--json"], fixture: fixture)
        #expect(result.status == 0, "\(result.stderr)")
        let steps = try result.stdout.split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        let sequence = try #require(SequenceDefinition.parse(
            try String(contentsOf: SupportPaths.packageRoot.appendingPathComponent("Sequences/retirement-nurture.yaml"), encoding: .utf8),
            name: "retirement-nurture", templates: TemplateStore(folder: fixture.folder.file("Templates"), displayRoot: "Templates")))
        let expected = sequence.schedule(start: Timestamp.milliseconds(rfc3339: "2026-12-04T16:30:00-05:00")!, key: "lead-4711/retirement",
                                         timeZone: TimeZone(identifier: "America/New_York")!)
        #expect(steps.map { $0["due"]?.string } == expected.map { Timestamp.rfc3339($0.due) })
        #expect(steps.map { $0["template"]?.string } == ["retirement-nurture-2", "retirement-nurture-5", "retirement-nurture-9"])
        // Friday 16:30: day 2 is Tuesday 16:30, past the 09:00-11:00 window, so Wednesday morning; none on a weekend.
        let local = steps.compactMap { $0["local"]?.string }
        #expect(local.count == 3 && local[0].hasPrefix("Wed 2026-12-09 "), "\(local)")
        #expect(local.allSatisfy { !$0.hasPrefix("Sat") && !$0.hasPrefix("Sun") }, "\(local)")

        let unknown = try await HeraldCommand.run(["sequences", "preview", "no-such"], fixture: fixture)
        #expect(unknown.status != 0 && unknown.stderr.contains("no sequence \"no-such\" in Sequences/ (there are: retirement-nurture)"), "\(unknown.stderr)")
        let zone = try await HeraldCommand.run(["sequences", "preview", "retirement-nurture", "--timezone", "Mars/Olympus"], fixture: fixture)
        #expect(zone.status != 0 && zone.stderr.contains("--timezone: unknown IANA time zone \"Mars/Olympus\""), "\(zone.stderr)")
    }
}
