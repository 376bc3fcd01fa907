import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// Enrollments through every intake, mixed with messages: the socket API (NDJSON and JSON),
/// the drop folder and `herald enqueue`, with a real `herald run` and a real SQLite queue.
@Suite("Enrollment intake", .serialized)
struct EnrollmentIntakeTests {
    /// One webhook step two days after enrollment: nothing is due while the test runs.
    static let sequence = """
        steps:
          - {name: first, template: alert, after: 2d}
        """

    static func message(_ key: String) -> String {
        #"{"key": "\#(key)", "channel": "webhook", "template": "alert", "to": {"endpoint": "hooks"}, "data": {"n": 1}, "send_at": "2030-01-01T00:00:00Z"}"#
    }

    static func enrollment(_ key: String, sequence: String = "welcome") -> String {
        #"{"enroll": "\#(sequence)", "key": "\#(key)", "to": {"endpoint": "hooks"}, "data": {"n": 2}}"#
    }

    func fixture() throws -> HeraldFixture {
        let fixture = try HeraldFixture(endpoints: ["hooks": "http://127.0.0.1:9/"], workers: 2)
        try fixture.folder.write("Sequences/welcome.yaml", Self.sequence)
        return fixture
    }

    func enrollments(_ fixture: HeraldFixture) throws -> [String] {
        try fixture.queue.readNow { db in
            try Row.fetchAll(db, sql: "SELECT key, sequence, state FROM enrollments ORDER BY key").map {
                "\($0["key"] as String) \($0["sequence"] as String) \($0["state"] as String)"
            }
        }
    }

    @Test("the socket takes enrollments mixed with messages: one result line each in order (queued, enrolled, rejected naming the unknown sequence, duplicate); a single JSON enrollment is 201 enrolled")
    func socket() async throws {
        let fixture = try fixture()
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        defer { run.signal(SIGKILL) }
        let socket = fixture.folder.file("var/herald.sock").path
        let ready = try await waitUntil(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: socket) }
        try #require(ready, "the socket is listening: \(run.output().stderr)")
        let api = try APIClient(.socket(socket))

        let stream = try await api.post("/v1/messages", ndjson: [
            Self.message("m-1"), Self.enrollment("lead-1/welcome"), Self.enrollment("lead-2/welcome", sequence: "nope"),
            Self.enrollment("lead-1/welcome"), #"{"enroll": "welcome", "to": {"endpoint": "hooks"}}"#,
        ])
        #expect(stream.status == 200, "\(stream.body)")
        let lines = stream.lines
        #expect(lines.map { $0["status"]?.string ?? "?" } == ["queued", "enrolled", "rejected", "duplicate", "rejected"], "\(stream.body)")
        #expect(lines.map { $0["line"] } == (1...5).map { .integer(Int64($0)) })
        #expect(lines[2]["reason"]?.string?.contains(#"enroll: no sequence "nope" (known: welcome)"#) == true, "\(stream.body)")
        #expect(lines[4]["reason"]?.string?.hasPrefix("key: required") == true, "\(stream.body)")
        #expect(lines[1]["id"] == lines[3]["id"] && lines[1]["id"] != nil, "the duplicate names the enrollment's id")

        let single = try await api.post("/v1/messages", json: Self.enrollment("lead-3/welcome"))
        #expect(single.status == 201 && single.json?["status"]?.string == "enrolled", "\(single.status) \(single.body)")
        let array = try await api.post("/v1/messages", json: "[\(Self.enrollment("lead-4/welcome")), \(Self.message("m-2"))]")
        #expect(array.json?["enrolled"] == .integer(1) && array.json?["queued"] == .integer(1), "\(array.body)")

        #expect(try enrollments(fixture) == ["lead-1/welcome welcome active", "lead-3/welcome welcome active",
                                             "lead-4/welcome welcome active"])
        #expect(try fixture.state(ofKey: "m-1") == "queued" && fixture.state(ofKey: "m-2") == "queued")
        // The enrollment's version was kept with it, for the sequencer to follow after an edit.
        let kept = try fixture.queue.readNow { db in try String.fetchAll(db, sql: "SELECT definition FROM sequence_versions") }
        #expect(kept == [Self.sequence])
    }

    @Test("a dropped file of enrollments and messages: both go in, the bad enrollment lands in the errors file naming its field, the file's record counts the enrolled")
    func dropFolder() async throws {
        let fixture = try fixture()
        try fixture.folder.write("var/inbox/leads.ndjson", [
            Self.enrollment("lead-1/welcome"), Self.message("m-1"), Self.enrollment("lead-2/welcome", sequence: "nope"),
            Self.enrollment("lead-3/welcome"), Self.enrollment("lead-1/welcome"),
        ].joined(separator: "\n") + "\n")
        let run = try await HeraldCommand.run(["run", "--once"], fixture: fixture)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try enrollments(fixture) == ["lead-1/welcome welcome active", "lead-3/welcome welcome active"])
        #expect(try fixture.state(ofKey: "m-1") == "queued")
        let errors = try String(contentsOf: fixture.folder.file("var/archive/1-leads.ndjson.errors.ndjson"), encoding: .utf8)
        let rejected = try errors.split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        #expect(rejected.count == 1 && rejected[0]["line"] == .integer(3) && rejected[0]["field"] == .string("enroll"), "\(errors)")
        let record = try fixture.queue.readNow { db in
            try Row.fetchOne(db, sql: "SELECT queued, enrolled, duplicates, rejected FROM intake_files")
        }
        #expect(record.map { [$0["queued"], $0["enrolled"], $0["duplicates"], $0["rejected"]] as [Int] } == [1, 2, 1, 1])
    }

    @Test("herald enqueue takes an enrollment line among messages; herald enroll refuses a message line, naming enroll")
    func commands() async throws {
        let fixture = try fixture()
        try fixture.folder.write("mixed.ndjson", Self.message("m-1") + "\n" + Self.enrollment("lead-1/welcome") + "\n")
        let enqueue = try await HeraldCommand.run(["enqueue", fixture.folder.file("mixed.ndjson").path], fixture: fixture)
        #expect(enqueue.status == 0, "\(enqueue.stderr)")
        #expect(enqueue.stdout.contains("line 1: queued id=1 key=m-1") && enqueue.stdout.contains("line 2: enrolled id=1 key=lead-1/welcome"),
                "\(enqueue.stdout)")
        #expect(enqueue.stderr.contains("enqueue: 1 queued, 1 enrolled, 0 duplicate, 0 rejected"), "\(enqueue.stderr)")

        let enroll = try await HeraldCommand.run(["enroll", fixture.folder.file("mixed.ndjson").path], fixture: fixture)
        #expect(enroll.status == 1)
        #expect(enroll.stdout.contains("line 1: rejected enroll: required") && enroll.stdout.contains("line 2: duplicate id=1"),
                "\(enroll.stdout)")
        #expect(try enrollments(fixture) == ["lead-1/welcome welcome active"])
    }
}
