import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// A CRM streaming its changes as they happen: each NDJSON line is queued and answered within
/// about a second, not when the stream ends; a stream that falls silent is ended.
@Suite("Slow NDJSON streams", .serialized)
struct SlowStreamTests {
    struct Report: Decodable {
        var sent: [String: Double]
        var answered: [String: Double]
        var ended: Double?
    }

    @Test("one line every 2 s: each queued (by Herald's record) and answered within a second; silent for idle_timeout, the stream ends")
    func lineByLine() async throws {
        let fixture = try HeraldFixture(endpoints: ["hooks": "http://127.0.0.1:9/"],
                                        topLevel: "intake: {socket: var/herald.sock, drop_folder: off, idle_timeout: 3s}")
        let run = try await SocketAPITests.start(fixture)
        defer { run.signal(SIGKILL) }
        let client = try ChildProcess(SupportPaths.python, [SupportPaths.servers.appendingPathComponent("slow_stream.py").path,
                                                            fixture.folder.file("var/herald.sock").path, "4", "2"])
        let status = await client.wait(timeout: .seconds(90))
        let output = client.output()
        #expect(status == 0, "\(output.stderr)")
        let report = try JSONDecoder().decode(Report.self, from: Data(output.stdout.utf8))
        #expect(report.sent.count == 4)

        let created = try fixture.queue.readNow { db in
            try [String: Int64](uniqueKeysWithValues: Row.fetchAll(db, sql: "SELECT key, created_at FROM messages")
                .map { ($0["key"] as String, $0["created_at"] as Int64) })
        }
        #expect(created.count == 4, "\(created)")
        // Herald commits a slow stream's lines every 500 ms; allow 1 s more for a busy machine
        // (the client stamps its send just before it, so its own delay only adds to the figure).
        for (key, sentAt) in report.sent.sorted(by: { $0.key < $1.key }) {
            let queuedAt = try #require(created[key], "\(key) was not queued")
            let delay = Double(queuedAt) / 1_000 - sentAt
            #expect(delay < 1.5, "\(key) queued \(delay) s after it was sent")
            let answeredAt = try #require(report.answered[key], "\(key) got no result line")
            #expect(answeredAt - sentAt < 2.0, "\(key) answered \(answeredAt - sentAt) s after it was sent")
            // ...and before the next line was sent (2 s later): not held back for the next batch.
            if let next = report.sent["slow-\(Int(key.dropFirst(5))! + 1)"] {
                #expect(answeredAt < next, "\(key) answered only after the next line")
            }
        }
        // Silent after its last line: ended after idle_timeout (3 s), not held open.
        let lastSent = try #require(report.sent.values.max())
        let ended = try #require(report.ended, "the response never ended")
        // Not before idle_timeout (a bound no busy machine can break); within a tick of it, and
        // 2 s for the observer.
        #expect(ended - lastSent >= 3.0 && ended - lastSent < 3.0 + 0.5 + 2.0, "ended \(ended - lastSent) s after the last line")
        print("slow stream: delays \(report.sent.keys.sorted().map { key in String(format: "%.2f", Double(created[key] ?? 0) / 1_000 - report.sent[key]!) })")
    }
}
