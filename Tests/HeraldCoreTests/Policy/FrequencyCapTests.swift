import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// Frequency caps with a real `herald run --once` and a real webhook receiver.
@Suite("Frequency caps", .serialized)
struct FrequencyCapTests {
    @Test("5 marketing messages to one lead under a 3-per-7-days cap: 3 sent, 2 deferred to the day the first leaves the window; a transactional one goes through")
    func cap() async throws {
        let receiverFolder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: receiverFolder)
        let fixture = try HeraldFixture(endpoints: ["lead": receiver.url("/ok")],
                                        topLevel: "policies: {frequency_caps: [{category: marketing, max: 3, per: 7d}]}")
        let start = Timestamp.now()
        _ = try await fixture.queue.enqueue((0..<5).map { index in
            NewMessage(key: "m\(index)", channel: .webhook, template: "alert", recipient: Recipient(endpoint: "lead"),
                       dataJSON: #"{"n":\#(index)}"#, sendAt: start - 1_000 + Int64(index), category: .marketing)
        } + [NewMessage(key: "t", channel: .webhook, template: "alert", recipient: Recipient(endpoint: "lead"),
                        dataJSON: #"{"n":9}"#, sendAt: start, category: .transactional)])
        let run = try await HeraldCommand.run(["run", "--once"], fixture: fixture)
        #expect(run.status == 0, "\(run.stderr)")
        await receiver.stop()

        #expect(try receiver.requests().count == 4)
        #expect(try ["m0", "m1", "m2", "t"].map { try fixture.state(ofKey: $0) } == ["sent", "sent", "sent", "sent"])
        let deferred = try fixture.queue.readNow { db in
            try Row.fetchAll(db, sql: "SELECT key, state, due_at, deferred, attempts FROM messages WHERE key IN ('m3', 'm4') ORDER BY key")
        }
        let firstContact = try fixture.queue.readNow { db in try Int64.fetchOne(db, sql: "SELECT min(at) FROM contacts") } ?? 0
        #expect(deferred.count == 2)
        for row in deferred {
            #expect(row["state"] as String == "queued" && row["deferred"] as String == "frequency_cap")
            #expect(row["attempts"] as Int == 0)
            // Due when the oldest of the three contacts leaves the 7-day window.
            #expect(row["due_at"] as Int64 == firstContact + 7 * 86_400_000)
        }
        #expect(firstContact >= start - 1_000)

        let status = try await HeraldCommand.run(["status"], fixture: fixture)
        #expect(status.stdout.contains("deferred:    2 frequency cap"), "\(status.stdout)")
    }
}
