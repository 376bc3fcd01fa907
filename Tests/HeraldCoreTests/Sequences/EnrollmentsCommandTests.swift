import Foundation
import Testing
@testable import HeraldCore

/// `herald enrollments list|show|exit` against a real SQLite queue that `herald enroll` and
/// `herald run --once` filled.
@Suite("herald enrollments")
struct EnrollmentsCommandTests {
    @Test("list pages by id and filters by state, show gives each step's message, exit ends one and cancels its queued step; bad input names the option")
    func listShowExit() async throws {
        // The endpoint refuses connections: step 1 stays queued for its retry.
        let fixture = try HeraldFixture(endpoints: ["hooks": "http://127.0.0.1:9/"], workers: 2,
                                        topLevel: "intake: {drop_folder: off, socket: off}")
        try fixture.folder.write("Sequences/welcome.yaml", """
            steps:
              - {name: hello, template: alert, after: 0s}
              - {name: later, template: alert, after: 3d}
            """)
        try fixture.folder.write("leads.ndjson", (1...3).map {
            #"{"enroll": "welcome", "key": "lead-\#($0)", "to": {"endpoint": "hooks"}, "data": {"n": \#($0)}}"#
        }.joined(separator: "\n") + "\n")
        #expect(try await HeraldCommand.run(["enroll", fixture.folder.file("leads.ndjson").path], fixture: fixture).status == 0)
        #expect(try await HeraldCommand.run(["run", "--once"], fixture: fixture).status == 0)
        try #require(try fixture.state(ofKey: "lead-1/hello") == "queued", "precondition: step 1 is queued for a retry")

        let page = try await HeraldCommand.run(["enrollments", "list", "--limit", "2", "--json"], fixture: fixture)
        let lines = try page.stdout.split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        #expect(lines.compactMap { $0["key"]?.string } == ["lead-1", "lead-2"], "\(page.stdout) \(page.stderr)")
        #expect(lines.first?["awaiting"]?.string == "lead-1/hello" && lines.first?["next_step"] == .integer(1))
        let next = try await HeraldCommand.run(["enrollments", "list", "--after", "2"], fixture: fixture)
        #expect(next.stdout.contains("lead-3") && !next.stdout.contains("lead-1"), "\(next.stdout)")

        let show = try await HeraldCommand.run(["enrollments", "show", "lead-1"], fixture: fixture)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("state      active"), "\(show.stdout)")
        #expect(show.stdout.contains("1 hello") && show.stdout.contains("queued, due "), "\(show.stdout)")
        #expect(show.stdout.contains("2 later") && show.stdout.contains("not queued yet"), "\(show.stdout)")

        let exit = try await HeraldCommand.run(["enrollments", "exit", "lead-1", "--reason", "converted"], fixture: fixture)
        #expect(exit.status == 0 && exit.stdout.contains("lead-1: exited (converted); its queued step lead-1/hello canceled"),
                "\(exit.stdout) \(exit.stderr)")
        #expect(try fixture.state(ofKey: "lead-1/hello") == "canceled")
        let again = try await HeraldCommand.run(["enrollments", "exit", "lead-1"], fixture: fixture)
        #expect(again.status == 1 && again.stderr.contains("no active enrollment with key \"lead-1\""), "\(again.stderr)")
        let exited = try await HeraldCommand.run(["enrollments", "list", "--state", "exited"], fixture: fixture)
        #expect(exited.stdout.contains("exited:converted") && exited.stdout.contains("lead-1") && !exited.stdout.contains("lead-2"),
                "\(exited.stdout)")

        let badState = try await HeraldCommand.run(["enrollments", "list", "--state", "gone"], fixture: fixture)
        #expect(badState.status != 0 && badState.stderr.contains("--state: expected active, completed or exited, got \"gone\""),
                "\(badState.stderr)")
        let badReason = try await HeraldCommand.run(["enrollments", "exit", "lead-2", "--reason", "a b"], fixture: fixture)
        #expect(badReason.status != 0 && badReason.stderr.contains("--reason"), "\(badReason.stderr)")
        let unknown = try await HeraldCommand.run(["enrollments", "show", "nobody"], fixture: fixture)
        #expect(unknown.status != 0 && unknown.stderr.contains("no enrollment with key \"nobody\""), "\(unknown.stderr)")
    }
}
