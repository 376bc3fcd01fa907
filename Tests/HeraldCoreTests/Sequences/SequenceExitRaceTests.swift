import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// The CRM's goal arriving while a step is being claimed and sent, with a real `herald run`, a real
/// webhook receiver that holds every step-2 request until the test lets go, and goals over the
/// socket. The hold makes each case certain rather than a matter of timing: goals for leads whose
/// step 2 is at the receiver (in flight), for leads whose step 2 waits in the queue behind the
/// busy workers (canceled), and, once released, for a lead whose step 2 went out (before).
@Suite("Sequence exit race")
struct SequenceExitRaceTests {
    static let sequence = """
        steps:
          - {name: first, template: alert, after: 1s}
          - {name: second, template: alert, after: 3s}
          - {name: third, template: alert, after: 30d}
        exit: {goals: [booked]}
        """

    @Test("goals posted while step 2 is claimed and sent: each lead's step 2 is either sent before its exit (or by the attempt under way at it, as the answer says) or never; nothing is sent twice and no step 3 is queued")
    func goalWhileStepIsClaimed() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let workers = 6
        // Held requests wait for the test, not for a timeout or a lease.
        let fixture = try HeraldFixture(endpoints: ["hooks": receiver.url("/hold/second")], workers: workers,
                                        timeout: "300s", lease: "600s", folder: folder)
        let hold = URL(fileURLWithPath: receiver.log.path + ".second")
        let heldRequests = URL(fileURLWithPath: hold.path + ".held")
        try Data(#"/second""#.utf8).write(to: hold)
        defer { try? FileManager.default.removeItem(at: hold) }
        func held() -> Int { ((try? String(contentsOf: heldRequests, encoding: .utf8)) ?? "").split(separator: "\n").count }

        try folder.write("Sequences/race.yaml", Self.sequence)
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        defer { run.signal(SIGKILL) }
        let socket = folder.file("var/herald.sock").path
        try #require(try await waitUntil(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: socket) },
                     "the socket is listening: \(run.output().stderr)")
        let api = try APIClient(.socket(socket))
        let leads = (1...48).map { "lead-\($0)" }
        let enrolled = try await api.post("/v1/messages", ndjson: leads.enumerated().map { index, lead in
            #"{"enroll": "race", "key": "\#(lead)", "to": {"endpoint": "hooks", "email": "\#(lead)@example.com"}, "data": {"n": \#(index)}}"#
        })
        try #require(enrolled.lines.count == 48 && enrolled.lines.allSatisfy { $0["status"]?.string == "enrolled" }, "\(enrolled.body)")

        func stepTwo(_ state: String) throws -> [String] {
            try fixture.queue.readNow { db in
                try String.fetchAll(db, sql: "SELECT key FROM messages WHERE key LIKE '%/second' AND state = ? ORDER BY id", arguments: [state])
            }
        }
        var answers: [String: JSONValue] = [:]
        func goal(_ lead: String) async throws -> JSONValue {
            let answer = try await api.post("/v1/goals", json: #"{"goal": "booked", "to": {"email": "\#(lead)@example.com"}}"#)
            #expect(answer.status == 200, "\(answer.body)")
            let exited = answer.json?["exited"]?.array?.first ?? .null
            answers[lead] = exited
            return exited
        }
        func lead(of key: String) -> String { String(key.prefix { $0 != "/" }) }

        // Every worker is inside a step-2 request at the receiver; the rest of step 2 waits queued.
        let busy = try await waitUntil(timeout: .seconds(90)) { held() == workers }
        try #require(busy, "every worker holds a step 2 at the receiver (\(held()) held): \(run.output().stderr.suffix(1_000))")
        try #require(try receiver.requests().count { $0.body.contains("/first\"") } == 48, "step 1 reached every lead first")
        // The sequencer may still be turning later leads' step 2 into messages: a lead whose
        // step 1 had not settled when step 2 came due (a loaded machine) is looked at again a
        // minute later.
        let queuedBehind = try await waitUntil(timeout: .seconds(150)) { try stepTwo("queued").count == 48 - workers }
        let inFlight = try stepTwo("leased")
        let waiting = try stepTwo("queued")
        try #require(queuedBehind && inFlight.count == workers, "leased \(inFlight), queued \(waiting.count)")

        // Goals for leads whose step 2 is being sent this moment: in flight, not canceled.
        for key in inFlight {
            let answer = try await goal(lead(of: key))
            #expect(answer["step_in_flight"]?.string == key && (answer["canceled_step"] ?? .null) == .null, "\(key): \(answer)")
        }
        // Goals for leads whose step 2 is queued behind them: canceled in the exit's transaction.
        for key in waiting.prefix(6) {
            let answer = try await goal(lead(of: key))
            #expect(answer["canceled_step"]?.string == key, "\(key): \(answer)")
        }
        #expect(held() == workers, "nothing else reached the receiver while it held step 2")

        // Let go: the held attempts succeed; a lead whose step 2 has gone out since exits afterwards.
        try FileManager.default.removeItem(at: hold)
        let sentFirst = try await waitUntil(timeout: .seconds(60)) { try stepTwo("sent").contains { answers[lead(of: $0)] == nil } }
        try #require(sentFirst, "a step 2 of a lead without a goal went out: \(run.output().stderr.suffix(1_000))")
        if let key = try stepTwo("sent").first(where: { answers[lead(of: $0)] == nil }) {
            let answer = try await goal(lead(of: key))
            #expect((answer["canceled_step"] ?? .null) == .null && (answer["step_in_flight"] ?? .null) == .null, "\(key) sent before its goal: \(answer)")
        }
        // The rest, in an order of their own, while the dispatcher works through the queue.
        var generator = SeededGenerator(seed: 21)
        for lead in leads.filter({ answers[$0] == nil }).shuffled(using: &generator) { _ = try await goal(lead) }

        let settled = try await waitUntil(timeout: .seconds(60)) { try stepTwo("leased").isEmpty && stepTwo("queued").isEmpty }
        try #require(settled, "every step 2 settled: \(run.output().stderr.suffix(1_000))")
        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(20)) == 0, "\(run.output().stderr.suffix(2_000))")
        await receiver.stop()

        let received = try receiver.requests().compactMap { try? JSONValue.parse(Data($0.body.utf8))["key"]?.string }
        var outcomes: [String: Int] = [:]
        for lead in leads {
            let key = "\(lead)/second"
            let answer = try #require(answers[lead], "\(lead) was answered")
            let (state, attempts, firstAttempt, exitedAt, reason) = try fixture.queue.readNow { db in
                let message = try Row.fetchOne(db, sql: """
                    SELECT m.state, count(a.id) AS attempts, min(a.started_at) AS first FROM messages m
                    LEFT JOIN attempts a ON a.message_id = m.id WHERE m.key = ? GROUP BY m.id
                    """, arguments: [key])
                let enrollment = try Row.fetchOne(db, sql: "SELECT ended_at, exit_reason FROM enrollments WHERE key = ?", arguments: [lead])
                return (message?["state"] as String?, message?["attempts"] as Int? ?? 0, message?["first"] as Int64?,
                        enrollment?["ended_at"] as Int64?, enrollment?["exit_reason"] as String?)
            }
            let sends = received.count { $0 == key }
            #expect(reason == "booked" && exitedAt != nil, "\(lead) exited as booked")
            #expect(sends <= 1, "\(key) reached the receiver \(sends) times")
            if answer["canceled_step"]?.string == key {
                outcomes["canceled", default: 0] += 1
                #expect(state == "canceled" && attempts == 0 && sends == 0, "\(key) canceled at the exit: \(state ?? "-"), \(attempts) attempts, \(sends) sent")
            } else if answer["step_in_flight"]?.string == key {
                outcomes["in flight", default: 0] += 1
                #expect(state == "sent" && attempts == 1 && sends == 1, "\(key) in flight at the exit went out once: \(state ?? "-"), \(attempts) attempts")
            } else {
                outcomes["before", default: 0] += 1
                // Neither: sent before the exit, on Herald's own record.
                #expect(state == "sent" && attempts == 1 && sends == 1, "\(key) named in neither: \(state ?? "-") \(answer)")
                if let firstAttempt, let exitedAt {
                    #expect(firstAttempt <= exitedAt, "\(key) attempted at \(firstAttempt), after the exit at \(exitedAt)")
                }
            }
        }
        // The race was run: each outcome happened at least once.
        #expect(outcomes["canceled", default: 0] >= 6 && outcomes["in flight", default: 0] >= workers && outcomes["before", default: 0] >= 1,
                "goals fell before, during and after step 2's sends: \(outcomes)")
        let third = try fixture.queue.readNow { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM messages WHERE key LIKE '%/third'") }
        #expect(third == 0, "no step 3 queued after an exit")
        #expect(received.count { $0.hasSuffix("/second") } == (outcomes["in flight", default: 0] + outcomes["before", default: 0]))
    }
}
