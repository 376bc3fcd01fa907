import Foundation
import Testing
@testable import HeraldCore

/// `herald templates check`, as the real command on real folders.
@Suite("herald templates check")
struct TemplateCheckTests {
    /// A fixture whose Templates/ is a copy of the shipped one.
    func fixtureWithShippedTemplates() throws -> HeraldFixture {
        let fixture = try HeraldFixture(endpoints: ["advisor-alerts": "http://127.0.0.1:9/hook"])
        let target = fixture.folder.file("Templates")
        try FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: SupportPaths.packageRoot.appendingPathComponent("Templates"), to: target)
        return fixture
    }

    @Test("passes on the shipped Templates/")
    func shippedPass() async throws {
        let fixture = try fixtureWithShippedTemplates()
        let result = try await HeraldCommand.run(["templates", "check"], fixture: fixture)
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("Templates: 8 templates compiled, 0 errors, 0 warnings"), "\(result.stdout)")
    }

    @Test("fails on a broken copy, naming file and line for each problem")
    func brokenCopyFails() async throws {
        let fixture = try fixtureWithShippedTemplates()
        let templates = fixture.folder.file("Templates")
        func edit(_ path: String, _ change: (String) -> String) throws {
            let file = templates.appendingPathComponent(path)
            try change(try String(contentsOf: file, encoding: .utf8)).write(to: file, atomically: true, encoding: .utf8)
        }
        // A section opened and never closed, on line 21 of the welcome HTML.
        try edit("welcome-guide/html.html") { $0.replacingOccurrences(of: "<li>{{.}}</li>\n{{/data.highlights}}", with: "<li>{{.}}</li>\n{{/data.highlight}}") }
        // An unknown filter.
        try edit("re-engagement/text.txt") { $0.replacingOccurrences(of: "Hi {{data.first_name}},", with: "Hi {{uppr(data.first_name)}},") }
        // A token the sample does not supply, on line 8.
        try edit("retirement-nurture-2/text.txt") { $0.replacingOccurrences(of: "This week's post", with: "Use code {{data.promo_code}}. This week's post") }
        // An SMS far over three segments.
        try edit("consultation-reminder/text.txt") { $0 + String(repeating: " Please bring your statements.", count: 20) }
        // HTML without a text part.
        try FileManager.default.removeItem(at: templates.appendingPathComponent("retirement-nurture-5/text.txt"))

        let result = try await HeraldCommand.run(["templates", "check"], fixture: fixture)
        #expect(result.status == 1)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        func expectLine(_ prefix: String, _ words: String) {
            #expect(lines.contains { $0.hasPrefix(prefix) && $0.contains(words) }, "no line \(prefix)…\(words) in:\n\(result.stdout)")
        }
        expectLine("Templates/welcome-guide/html.html:21:", "template syntax")
        expectLine("Templates/re-engagement/text.txt:1:", #"unknown filter "uppr""#)
        expectLine("Templates/retirement-nurture-2/text.txt:6:", "{{data.promo_code}} has no value in sample.json")
        expectLine("Templates/consultation-reminder/text.txt", "SMS segments")
        expectLine("Templates/retirement-nurture-5/html.html", "needs a text part")
        #expect(result.stdout.contains("5 errors"), "\(result.stdout)")
    }
}
