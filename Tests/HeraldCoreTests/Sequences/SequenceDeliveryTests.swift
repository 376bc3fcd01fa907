import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// A lead enrolled by `herald enroll` gets its drip from `herald run`, on the days the preview
/// shows: the processes run on a test clock (libfaketime moves their wall clock to each step's
/// due time), not on sleeps.
@Suite("Sequence delivery")
struct SequenceDeliveryTests {
    static let drip = """
        business_days: true
        holidays: [2026-11-03]
        steps:
          - {name: day-2, template: retirement-nurture-2, after: 2d}
          - {name: day-5, template: retirement-nurture-5, after: 5d}
          - {name: day-9, template: retirement-nurture-9, after: 9d}
        exit: {goals: [booked]}
        """

    /// A project whose email goes to aiosmtpd, the shipped nurture templates, `drip` as
    /// Sequences/drip.yaml, and herald processes started on a steppable clock.
    struct Drip {
        let folder: TemporaryFolder
        let smtp: SMTPServer
        let fixture: HeraldFixture
        let clock: SteppedClock
        /// The data every step's template uses: their samples' together.
        let data: JSONValue

        init(intake: String) async throws {
            folder = try TemporaryFolder()
            smtp = try await SMTPServer(folder: folder)
            fixture = try HeraldFixture(endpoints: ["unused": "http://127.0.0.1:9/"], workers: 4,
                                        email: EmailChannelTests.smtpBlock(port: smtp.port), topLevel: intake, folder: folder)
            var data: [String: JSONValue] = [:]
            for name in ["retirement-nurture-2", "retirement-nurture-5", "retirement-nurture-9"] {
                try fixture.useShippedTemplate(name)
                let sample = try JSONValue.parse(Data(contentsOf: folder.file("Templates/\(name)/sample.json")))
                if case .object(let fields)? = sample["data"] { data.merge(fields) { first, _ in first } }
            }
            self.data = .object(data)
            try folder.write("Sequences/drip.yaml", SequenceDeliveryTests.drip)
            clock = try SteppedClock(folder: folder)
        }

        /// Herald's processes read `instant` from now on (the control file is read once a
        /// second: this waits for the new time to take hold).
        func setClock(to instant: Int64) async throws {
            try clock.step(by: Int((instant - Timestamp.now()) / 1_000))
            try await Task.sleep(for: .milliseconds(1_100))
        }

        /// Runs `herald ARGS` on the clock to its end.
        func run(_ arguments: [String]) async throws -> (status: Int32, stdout: String, stderr: String) {
            let child = try clock.start(arguments, fixture: fixture)
            let status = await child.wait(timeout: .seconds(60))
            return (status, child.output().stdout, child.output().stderr)
        }
    }

    /// The numbers in the right-aligned cells of the table row that starts with `row`.
    static func cells(_ html: String, row: String) -> [Int] {
        guard let start = html.range(of: row) else { return [] }
        let rest = html[start.lowerBound...]
        let end = rest.range(of: "</tr>").map { rest[..<$0.lowerBound] } ?? rest
        return end.components(separatedBy: "<td class=\"n\">").dropFirst().compactMap { Int($0.prefix { $0.isNumber }) }
    }

    @Test("enrolled on a Friday 16:30 in New York: the queued due times are the preview's (weekends, a holiday and the end of DST skipped), and Day 2, Day 5, Day 9 reach aiosmtpd in order, none early")
    func seedsDrip() async throws {
        let drip = try await Drip(intake: "intake: {drop_folder: off, socket: off}")
        let (folder, smtp, fixture) = (drip.folder, drip.smtp, drip.fixture)
        let key = "lead-4711/retirement"
        let enrolledAt = try #require(Timestamp.milliseconds(rfc3339: "2026-10-30T16:30:00-04:00"))
        try folder.write("enroll.ndjson", #"{"enroll": "drip", "key": "\#(key)", "to": {"email": "sarah@example.com", "name": "Sarah Jones", "timezone": "America/New_York"}, "data": \#(drip.data.jsonText), "campaign": "retirement"}"# + "\n")
        try await drip.setClock(to: enrolledAt)
        let enrolled = try await drip.run(["enroll", folder.file("enroll.ndjson").path])
        #expect(enrolled.status == 0 && enrolled.stdout.contains("line 1: enrolled id=1 key=\(key)"), "\(enrolled.stdout) \(enrolled.stderr)")
        // The enrollment began when the process started, on its clock: within seconds of 16:30.
        let started = try #require(try fixture.queue.readNow { db in try Int64.fetchOne(db, sql: "SELECT started_at FROM enrollments") })
        #expect(started >= enrolledAt && started < enrolledAt + 50_000,
                "precondition: enrolled on the test clock at Friday 16:30 (\(Timestamp.rfc3339(started)))")

        // The preview of that start and key is the calendar Herald keeps.
        let preview = try await drip.run(["sequences", "preview", "drip", "--start", Timestamp.rfc3339(started), "--timezone",
                                     "America/New_York", "--key", key, "--json"])
        let steps = try preview.stdout.split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        let local = steps.compactMap { $0["local"]?.string }
        #expect(local.count == 3 && zip(local, ["Wed 2026-11-04 16:30 EST", "Mon 2026-11-09 16:30 EST", "Fri 2026-11-13 16:30 EST"])
            .allSatisfy { $0.prefix(19) == $1.prefix(19) && $0.hasSuffix(" EST") }, "\(local)")
        let due = steps.compactMap { $0["due"]?.string.flatMap(Timestamp.milliseconds(rfc3339:)) }
        try #require(due.count == 3, "\(preview.stdout) \(preview.stderr)")
        let firstDue = try fixture.queue.readNow { db in try Int64.fetchOne(db, sql: "SELECT next_due FROM enrollments") }
        #expect(firstDue == due[0], "first due \(firstDue.map(Timestamp.rfc3339) ?? "-") vs the preview's \(Timestamp.rfc3339(due[0]))")

        for (index, stepDue) in due.enumerated() {
            // An hour before the step is due nothing goes out.
            try await drip.setClock(to: stepDue - 3_600_000)
            let early = try await drip.run(["run", "--once"])
            #expect(early.status == 0, "\(early.stderr)")
            #expect(try smtp.messages().count == index, "step \(index + 1) is not sent early")
            // Just after it is due, it goes.
            try await drip.setClock(to: stepDue + 30_000)
            let onTime = try await drip.run(["run", "--once"])
            #expect(onTime.status == 0, "\(onTime.stderr)")
            let arrived = try await waitUntil(timeout: .seconds(10)) { try smtp.messages().count == index + 1 }
            #expect(arrived, "step \(index + 1) delivered: \(onTime.stderr.suffix(1_000))")
        }
        try await drip.setClock(to: due[2] + 120_000)
        #expect(try await drip.run(["run", "--once"]).status == 0)
        await smtp.stop()

        let subjects = try smtp.messages().map(\.subject)
        #expect(subjects == ["The 4% rule, explained in five minutes", "\"We retired two years early\": Linda and Tom's story",
                             "Sarah, your retirement timeline on one page"], "in order: \(subjects)")
        // Herald's record: each step queued for the preview's time and first attempted after it.
        let queued = try fixture.queue.readNow { db in
            try Row.fetchAll(db, sql: """
                SELECT m.key, m.due_at, m.campaign, (SELECT min(started_at) FROM attempts a WHERE a.message_id = m.id) AS first
                FROM messages m ORDER BY m.id
                """)
        }
        #expect(queued.map { $0["key"] as String } == ["\(key)/day-2", "\(key)/day-5", "\(key)/day-9"])
        for (row, stepDue) in zip(queued, due) {
            let dueAt: Int64 = row["due_at"]
            let first: Int64 = row["first"]
            #expect(dueAt == stepDue, "\(row["key"] as String) queued for \(Timestamp.rfc3339(dueAt)), preview \(Timestamp.rfc3339(stepDue))")
            #expect(first >= dueAt, "\(row["key"] as String) attempted at \(Timestamp.rfc3339(first)), due \(Timestamp.rfc3339(dueAt))")
            #expect(row["campaign"] as String? == "retirement")
        }
        let state = try fixture.queue.readNow { db in try String.fetchOne(db, sql: "SELECT state FROM enrollments") }
        #expect(state == "completed")
    }

    @Test("a lead who unsubscribes by one-click after step 1, one whose booked goal the CRM posts between steps and one whose step 1 hard-bounced get no more steps; a fourth lead gets all three")
    func exits() async throws {
        // Events on (read, not pushed): each lead's way through the drip is reported.
        let drip = try await Drip(intake: "intake: {drop_folder: off}\nevents: {types: [enrollment.started, enrollment.step, enrollment.completed, enrollment.exited]}")
        let (folder, smtp, fixture, clock) = (drip.folder, drip.smtp, drip.fixture, drip.clock)
        // The test server refuses nosuchuser-* with 550 5.1.1: a hard bounce, suppressed at once.
        let leads = ["sarah", "tom", "ana", "nosuchuser-1"]
        try folder.write("enroll.ndjson", leads.map { lead in
            #"{"enroll": "drip", "key": "\#(lead)/drip", "to": {"email": "\#(lead)@example.com", "timezone": "America/New_York"}, "data": \#(drip.data.jsonText)}"#
        }.joined(separator: "\n") + "\n")
        let friday = try #require(Timestamp.milliseconds(rfc3339: "2026-10-30T16:30:00-04:00"))
        try await drip.setClock(to: friday)
        let enroll = try clock.start(["enroll", folder.file("enroll.ndjson").path], fixture: fixture)
        #expect(await enroll.wait(timeout: .seconds(60)) == 0, "\(enroll.output().stdout) \(enroll.output().stderr)")
        let started = try #require(try fixture.queue.readNow { db in try Int64.fetchOne(db, sql: "SELECT min(started_at) FROM enrollments") })
        let sequence = try SequenceDefinition.parse(Self.drip, name: "drip",
                                                    templates: TemplateStore(folder: folder.file("Templates"), displayRoot: "Templates"))
        let due = sequence.schedule(start: started, key: "ana/drip", timeZone: TimeZone(identifier: "America/New_York")!).map(\.due)

        // Step 1 for all three, with herald run serving the socket.
        try await drip.setClock(to: due[0] + 30_000)
        let run = try clock.start(["run"], fixture: fixture)
        defer { run.signal(SIGKILL) }
        let first = try await waitUntil(timeout: .seconds(30)) {
            try smtp.messages().count == 3 && fixture.state(ofKey: "nosuchuser-1/drip/day-2") == "failed"
        }
        try #require(first, "step 1 reached three and bounced for the fourth: \(run.output().stderr.suffix(1_000))")

        // Sarah takes the one-click link in the mail she got; the CRM reports Tom's booking.
        let api = try APIClient(.socket(folder.file("var/herald.sock").path))
        let header = try #require(try smtp.messages().first { $0.rcpt_tos == ["sarah@example.com"] }?.list_unsubscribe)
        let link = try #require(header.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " <>")) }
            .first { $0.hasPrefix("https://") }.flatMap { URL(string: $0)?.path })
        let unsubscribed = try await api.request("POST", link, body: Data("List-Unsubscribe=One-Click".utf8),
                                                 headers: ["Content-Type: application/x-www-form-urlencoded"])
        #expect(unsubscribed.status == 200, "\(unsubscribed.body)")
        let goal = try await api.post("/v1/goals", json: #"{"goal": "booked", "to": {"email": "Tom@Example.com"}}"#)
        #expect(goal.status == 200, "\(goal.body)")
        #expect(goal.json?["exited"]?.array?.compactMap { $0["key"]?.string } == ["tom/drip"], "\(goal.body)")
        #expect(goal.json?["sequences"]?.array?.compactMap(\.string) == ["drip"])
        let unknown = try await api.post("/v1/enrollments/nobody%2Fdrip/exit", json: #"{"reason": "converted"}"#)
        #expect(unknown.status == 404, "\(unknown.body)")
        let badReason = try await api.post("/v1/enrollments/ana%2Fdrip/exit", json: #"{"reason": "a b"}"#)
        #expect(badReason.status == 400 && badReason.body.contains("reason"), "\(badReason.body)")

        // The console's page for the drip: four enrolled, Tom's exit, step 1 sent to three and
        // failed for one, three leads still to reach step 2 (Sarah's exit comes when it is due).
        let list = try await api.get("/console/sequences")
        #expect(list.status == 200 && Self.cells(list.body, row: #"<a href="/console/sequences/drip">drip</a>"#) == [3, 4, 3, 0, 1],
                "\(list.body)")
        let page = try await api.get("/console/sequences/drip")
        #expect(page.status == 200 && page.body.contains("Enrolled: <strong>4</strong> · active 3 · completed 0 · exited 1"), "\(page.body)")
        // to come, pending, sent, failed, suppressed, canceled
        #expect(Self.cells(page.body, row: #"<tr id="step-day-2">"#) == [1, 0, 0, 3, 1, 0, 0], "\(page.body)")
        #expect(Self.cells(page.body, row: #"<tr id="step-day-5">"#) == [2, 3, 0, 0, 0, 0, 0])
        #expect(page.body.contains("<tr><td>booked</td><td class=\"n\">1</td></tr>"))
        #expect(try await api.get("/console/sequences/nothing").status == 404)
        run.signal(SIGTERM)
        let stopped = await run.wait(timeout: .seconds(20))
        #expect(stopped == 0, "exit \(stopped): \(run.output().stderr.suffix(2_000))")

        // Steps 2 and 3 come due: only Ana's go out. A last look after step 3 completes hers.
        for stepDue in due.dropFirst() + [due[2] + 120_000] {
            try await drip.setClock(to: stepDue + 30_000)
            let once = try await drip.run(["run", "--once"])
            #expect(once.status == 0, "\(once.stderr)")
        }
        await smtp.stop()
        let received = try smtp.messages().map { "\($0.rcpt_tos.joined()) \($0.subject.prefix(12))" }
        #expect(try smtp.messages().filter { $0.rcpt_tos == ["ana@example.com"] }.count == 3, "Ana got the whole drip: \(received)")
        #expect(try smtp.messages().filter { $0.rcpt_tos != ["ana@example.com"] }.count == 2, "Sarah and Tom only step 1: \(received)")
        let states = try fixture.queue.readNow { db in
            try Row.fetchAll(db, sql: "SELECT key, state, exit_reason FROM enrollments ORDER BY key").map {
                "\($0["key"] as String) \($0["state"] as String) \($0["exit_reason"] as String? ?? "-")"
            }
        }
        #expect(states == ["ana/drip completed -", "nosuchuser-1/drip exited bounced", "sarah/drip exited unsubscribed",
                           "tom/drip exited booked"], "\(states)")
        #expect(try fixture.state(ofKey: "nosuchuser-1/drip/day-5") == nil, "no step after the bounce was queued")

        // What the CRM was told, per lead, in the order it happened.
        let payloads = try fixture.queue.readNow { db in try String.fetchAll(db, sql: "SELECT payload FROM events ORDER BY position") }
        var told: [String: [String]] = [:]
        for payload in payloads {
            let event = try JSONValue.parse(Data(payload.utf8))
            let lead = try #require(event["enrollment"]?.string, "\(payload)")
            let type = try #require(event["type"]?.string)
            told[lead, default: []].append(type == "enrollment.step" ? "step \(event["step"]?.string ?? "?")"
                : type == "enrollment.exited" ? "exited \(event["reason"]?.string ?? "?")" : type)
            if type == "enrollment.step" {
                let key = try #require(event["key"]?.string)
                let id = try fixture.queue.readNow { db in try Int64.fetchOne(db, sql: "SELECT id FROM messages WHERE key = ?", arguments: [key]) }
                #expect(event["message_id"]?.int == id && id != nil, "\(key)'s step event names its message: \(payload)")
            }
        }
        #expect(told == [
            "ana/drip": ["enrollment.started", "step day-2", "step day-5", "step day-9", "enrollment.completed"],
            "sarah/drip": ["enrollment.started", "step day-2", "exited unsubscribed"],
            "tom/drip": ["enrollment.started", "step day-2", "exited booked"],
            "nosuchuser-1/drip": ["enrollment.started", "step day-2", "exited bounced"],
        ], "\(told)")
        #expect(try await EventSchema.problems(payloads).isEmpty)
    }
}
