import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// `herald sequences migrate` on 500 leads enrolled at two places of a drip, with real
/// `herald` processes on a test clock (libfaketime moves their wall clock a day at a time) and a
/// real webhook receiver.
@Suite("Sequence migrate command")
struct SequenceMigrateCommandTests {
    static let v1 = """
        steps:
          - {name: a, template: alert, after: 1d}
          - {name: b, template: alert, after: 2d}
          - {name: c, template: alert, after: 3d}
          - {name: d, template: alert, after: 4d}
        """
    /// x added between a and b, c removed, e added at the end.
    static let v2 = """
        steps:
          - {name: a, template: alert, after: 1d}
          - {name: x, template: alert, after: 36h}
          - {name: b, template: alert, after: 2d}
          - {name: d, template: alert, after: 4d}
          - {name: e, template: alert, after: 5d}
        """

    @Test("an edit while 500 leads are enrolled keeps their version; migrate --dry-run's counts are migrate's; after it no lead gets the removed step or the one added before its place, and every lead gets the rest")
    func migrateFiveHundred() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder, anyTimestamp: true)
        let fixture = try HeraldFixture(endpoints: ["hooks": receiver.url("/ok")], workers: 8,
                                        topLevel: "intake: {drop_folder: off, socket: off}", folder: folder)
        try folder.write("Sequences/drip.yaml", Self.v1)
        let clock = try SteppedClock(folder: folder)
        func setClock(to instant: Int64) async throws {
            try clock.step(by: Int((instant - Timestamp.now()) / 1_000))
            try await Task.sleep(for: .milliseconds(1_100))
        }
        func herald(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            let child = try clock.start(arguments, fixture: fixture)
            let status = await child.wait(timeout: .seconds(120))
            return (status, child.output().stdout, child.output().stderr)
        }
        func enroll(_ leads: Range<Int>) async throws {
            try folder.write("enroll.ndjson", leads.map {
                #"{"enroll": "drip", "key": "lead-\#($0)", "to": {"endpoint": "hooks"}, "data": {"n": \#($0)}}"#
            }.joined(separator: "\n") + "\n")
            let enrolled = try await herald(["enroll", folder.file("enroll.ndjson").path])
            try #require(enrolled.status == 0, "\(enrolled.stderr)")
        }
        func versions() throws -> [String: Int] {
            try fixture.queue.readNow { db in
                try Row.fetchAll(db, sql: "SELECT version, count(*) AS n FROM enrollments GROUP BY version").reduce(into: [:]) {
                    $0[$1["version"] as String] = $1["n"] as Int
                }
            }
        }
        let day: Int64 = 86_400_000
        let t0 = try #require(Timestamp.milliseconds(rfc3339: "2026-11-02T12:00:00Z"))

        // Leads 0-249 enrolled at t0, 250-499 a day later: at the edit the first half has had a
        // and b (c next), the second half a (b next). Each run comes 30 s after the steps it
        // sends are due: within a minute a step counts as on time and moves no later step.
        try await setClock(to: t0)
        try await enroll(0..<250)
        try await setClock(to: t0 + day)
        try await enroll(250..<500)
        try await setClock(to: t0 + day + 30_000)
        #expect(try await herald(["run", "--once"]).status == 0)
        try await setClock(to: t0 + 2 * day + 30_000)
        #expect(try await herald(["run", "--once"]).status == 0)
        let sentBeforeEdit = try fixture.queue.readNow { db in
            try String.fetchAll(db, sql: "SELECT substr(key, instr(key, '/') + 1) AS step FROM messages WHERE state = 'sent'")
        }
        try #require(sentBeforeEdit.count { $0 == "a" } == 500 && sentBeforeEdit.count { $0 == "b" } == 250 && sentBeforeEdit.count == 750,
                     "precondition: a to all 500, b to the first 250 (\(sentBeforeEdit.count) sent)")
        let old = try #require(try versions().keys.first)

        // The edit: by default every enrolled lead stays on the version it started on.
        try folder.write("Sequences/drip.yaml", Self.v2)
        try await setClock(to: t0 + 2 * day + 90_000)
        #expect(try await herald(["run", "--once"]).status == 0)
        #expect(try versions() == [old: 500], "an edit alone moves nobody")
        let dryRun = try await herald(["sequences", "migrate", "drip", "--dry-run"])
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        #expect(dryRun.stdout.contains("drip: 500 active enrollments on older versions"), "\(dryRun.stdout)")
        #expect(dryRun.stdout.contains("250 on \(old), next c (3 of 4) -> next d (4 of 5)"), "\(dryRun.stdout)")
        #expect(dryRun.stdout.contains("250 on \(old), next b (2 of 4) -> next b (3 of 5)"), "\(dryRun.stdout)")
        #expect(dryRun.stdout.contains("dry run: 500 would move; nothing was changed"), "\(dryRun.stdout)")
        #expect(try versions() == [old: 500], "a dry run changes nothing")

        let migrated = try await herald(["sequences", "migrate", "drip"])
        #expect(migrated.status == 0, "\(migrated.stderr)")
        let current = try #require(try versions().keys.first { $0 != old }, "\(migrated.stdout)")
        #expect(try versions() == [current: 500])
        #expect(migrated.stdout.contains("moved 500 to version \(current)"), "\(migrated.stdout)")
        // The same groups as the dry run's, line for line.
        let groups = { (text: String) in text.split(separator: "\n").filter { $0.hasPrefix("  ") } }
        #expect(groups(migrated.stdout) == groups(dryRun.stdout), "dry run:\n\(dryRun.stdout)\nmigrate:\n\(migrated.stdout)")

        // The rest of the drip, a day at a time; then a last look days later for any step a slow
        // run put off.
        for days in 3...7 {
            try await setClock(to: t0 + Int64(days) * day + 30_000)
            #expect(try await herald(["run", "--once"]).status == 0)
        }
        try await setClock(to: t0 + 12 * day)
        for _ in 0..<3 { #expect(try await herald(["run", "--once"]).status == 0) }
        let steps = try fixture.queue.readNow { db in
            try Row.fetchAll(db, sql: """
                SELECT substr(key, instr(key, '/') + 1) AS step, state, count(*) AS n FROM messages GROUP BY step, state ORDER BY step
                """).map { "\($0["step"] as String) \($0["state"] as String) \($0["n"] as Int)" }
        }
        #expect(steps == ["a sent 500", "b sent 500", "d sent 500", "e sent 500"], "no c (removed), no x (before their place): \(steps)")
        let states = try fixture.queue.readNow { db in try String.fetchAll(db, sql: "SELECT DISTINCT state FROM enrollments") }
        #expect(states == ["completed"])
        let received = try receiver.requests().count
        #expect(received == 2_000, "the receiver got each step once: \(received)")
        await receiver.stop()
    }
}
