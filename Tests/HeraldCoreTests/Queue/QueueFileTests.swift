import Foundation
import Testing
@testable import HeraldCore

/// The queue database removed or replaced under a running process is fatal, loudly; nothing is
/// acknowledged into a file nobody else can see.
@Suite("The queue's file removed or replaced")
struct QueueFileTests {
    func message(_ key: String) -> NewMessage {
        NewMessage(key: key, channel: .webhook, template: "alert", recipient: Recipient(endpoint: "hook"),
                   dataJSON: #"{"n": 1}"#, sendAt: Timestamp.now())
    }

    @Test("a write after the file was removed or replaced is refused with the path and what happened")
    func writesRefused() async throws {
        let folder = try TemporaryFolder()
        let path = folder.file("q.sqlite").path
        let queue = try SQLiteQueue(path: path)
        #expect(queue.created)
        #expect(try await queue.enqueue([message("before")]).count == 1, "precondition: the queue takes writes")

        try FileManager.default.removeItem(atPath: path)
        await #expect {
            try await queue.enqueue([message("after-removal")])
        } throws: { error in
            (error as? QueueFileError)?.code == .removed && "\(error)".contains(path)
        }

        // A copy moved over the path: another file, though the same bytes.
        let other = try SQLiteQueue(path: folder.file("other.sqlite").path)
        _ = try await other.enqueue([message("other")])
        try FileManager.default.moveItem(atPath: other.path, toPath: path)
        await #expect {
            try await queue.enqueue([message("after-replacement")])
        } throws: { error in
            (error as? QueueFileError)?.code == .replaced && "\(error)".contains("replaced by another file")
        }
        let reopened = try SQLiteQueue(path: path)
        #expect(!reopened.created)
        let keys = try reopened.readNow { db in try String.fetchAll(db, sql: "SELECT key FROM messages") }
        #expect(!keys.contains { $0.hasPrefix("after") }, "nothing written after the removal or the swap: \(keys)")
    }

    @Test("herald run stops, non-zero and saying why, when its database is removed, and when it is replaced",
          arguments: ["removed", "replaced"])
    func runStops(fault: String) async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/ok")], folder: folder)
        try await fixture.enqueueWebhooks(3, endpoint: "hook")
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        try #require(try await waitUntil(timeout: startupTimeout) { try fixture.count(state: .sent) == 3 },
                     "precondition: the run delivers from the file")
        let path = fixture.queue.path
        if fault == "removed" {
            try FileManager.default.removeItem(atPath: path)
        } else {
            let copy = path + ".copy"
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            _ = rename(copy, path)
        }
        let status = await run.wait(timeout: .seconds(30))
        await receiver.stop()
        let stderr = run.output().stderr
        #expect(status != 0, "the run must end with a failure: \(stderr)")
        #expect(stderr.contains("queue database gone; stopping"), "\(stderr)")
        #expect(stderr.contains(fault == "removed" ? "was removed while this process had it open" : "was replaced by another file"),
                "\(stderr)")
    }

    @Test("herald enqueue onto a path with no database says it created one")
    func enqueueSaysItCreated() async throws {
        let folder = try TemporaryFolder()
        let fixture = try HeraldFixture(endpoints: ["hook": "http://127.0.0.1:9/"], folder: folder)
        try folder.write("in.ndjson", #"{"channel": "webhook", "template": "alert", "to": {"endpoint": "hook"}, "data": {"n": 1}}"# + "\n")
        let notices = ["HERALD_LOG_LEVEL": "notice"]
        let existing = try await HeraldCommand.run(["enqueue", folder.file("in.ndjson").path], fixture: fixture, environment: notices)
        #expect(existing.status == 0, "\(existing.stderr)")
        #expect(!existing.stderr.contains("created a new"), "the fixture's database exists: \(existing.stderr)")

        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: fixture.queue.path + suffix) }
        let fresh = try await HeraldCommand.run(["enqueue", folder.file("in.ndjson").path], fixture: fixture, environment: notices)
        #expect(fresh.status == 0, "\(fresh.stderr)")
        #expect(fresh.stderr.contains("created a new, empty queue database"), "\(fresh.stderr)")
        #expect(fresh.stderr.contains(fixture.queue.path), "the path is named: \(fresh.stderr)")
    }
}
