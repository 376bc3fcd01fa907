import Foundation
import Testing
@testable import HeraldCore

/// `herald enqueue` as a process, on a real queue.
@Suite("herald enqueue")
struct EnqueueCommandTests {
    @Test("bad lines are rejected with the field named; the valid lines of the same file are queued")
    func badInputLineByLine() async throws {
        let fixture = try HeraldFixture(endpoints: ["hook": "http://127.0.0.1:9/never"])
        let lines = [
            #"{"key":"ok-1","channel":"webhook","template":"alert","to":{"endpoint":"hook"}}"#,
            #"{"key":"bad-json","channel":"webhook""#,
            #"{"key":"no-channel","template":"alert","to":{"endpoint":"hook"}}"#,
            #"{"key":"bad-endpoint","channel":"webhook","template":"alert","to":{"endpoint":"elsewhere"}}"#,
            #"{"key":"bad-send-at","channel":"webhook","template":"alert","to":{"endpoint":"hook"},"send_at":1700000000}"#,
            #"{"key":"ok-2","channel":"webhook","template":"alert","to":{"endpoint":"hook"}}"#,
            #"{"key":"ok-1","channel":"webhook","template":"alert","to":{"endpoint":"hook"}}"#,
        ]
        try fixture.folder.write("in.ndjson", lines.joined(separator: "\n") + "\n")
        let result = try await HeraldCommand.run(["enqueue", "--json", fixture.folder.file("in.ndjson").path], fixture: fixture)
        #expect(result.status == 1)
        let rows = try result.stdout.split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        func field(_ row: JSONValue, _ name: String) -> JSONValue? {
            if case .object(let object) = row { object[name] } else { nil }
        }
        #expect(rows.map { field($0, "status") } == ["queued", "rejected", "rejected", "rejected", "rejected", "queued", "duplicate"].map { .string($0) })
        #expect(rows.map { field($0, "line") } == (1...7).map { .integer($0) })
        let reasons = rows.compactMap { field($0, "reason") }
        #expect(reasons.count == 4)
        #expect(reasons[0] == .string("not valid JSON (Unexpected end of file)") || "\(reasons[0])".contains("not valid JSON"))
        #expect(reasons[1] == .string("channel: required (email, sms, webhook or letter)"))
        #expect(reasons[2] == .string("to.endpoint: unknown endpoint \"elsewhere\" (configured: hook)"))
        #expect(reasons[3] == .string("send_at: expected a string, got number 1700000000"))
        #expect(result.stderr.contains("enqueue: 2 queued, 1 duplicate, 4 rejected"))
        #expect(try fixture.count(state: .queued) == 2)
    }

    @Test("standard input works, and a second run of the same keys is all duplicates")
    func standardInputAndDuplicates() async throws {
        let fixture = try HeraldFixture(endpoints: ["hook": "http://127.0.0.1:9/never"])
        let text = (0..<1_000).map { #"{"key":"k-\#($0)","channel":"webhook","template":"alert","to":{"endpoint":"hook"}}"# }
            .joined(separator: "\n")
        try fixture.folder.write("in.ndjson", text)
        for expected in ["enqueue: 1000 queued, 0 duplicate, 0 rejected", "enqueue: 0 queued, 1000 duplicate, 0 rejected"] {
            let child = try ChildProcess("/bin/sh", ["-c", "\"$0\" enqueue - --config \"$1\" < \"$2\"",
                                                     SupportPaths.herald.path, fixture.configPath,
                                                     fixture.folder.file("in.ndjson").path],
                                         environment: HeraldCommand.environment())
            #expect(await child.wait() == 0)
            #expect(child.output().stderr.contains(expected), "\(child.output().stderr)")
        }
        #expect(try fixture.count(state: .queued) == 1_000)
    }
}

extension EnqueueCommandTests {
    @Test("a disk that fills mid-file: the results and the summary say what was queued, and name the first line that was not")
    func diskFillsMidFile() async throws {
        let folder = try TemporaryFolder()
        // 3 MB for the queue; the input's 5,000 messages of 1 KB each need more.
        let disk = try SmallDisk(at: folder.file("var"), megabytes: 3)
        let fixture = try HeraldFixture(endpoints: ["hook": "http://127.0.0.1:9/never"], folder: folder)
        let padding = String(repeating: "x", count: 1_000)
        let lines = (1...5_000).map { n in
            #"{"channel":"webhook","template":"alert","to":{"endpoint":"hook"},"data":{"n":\#(n),"pad":"\#(padding)"}}"#
        }
        try folder.write("in.ndjson", lines.joined(separator: "\n") + "\n")
        let result = try await HeraldCommand.run(["enqueue", folder.file("in.ndjson").path], fixture: fixture)
        _ = disk

        let queuedInDatabase = try fixture.queue.readNow { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM messages") } ?? -1
        #expect(queuedInDatabase > 0 && queuedInDatabase < 5_000, "precondition: the disk filled part way: \(queuedInDatabase) queued")
        #expect(result.status == 1)
        let printed = result.stdout.split(separator: "\n")
        #expect(printed.count == queuedInDatabase, "one result line per queued message")
        #expect(printed.allSatisfy { $0.contains(": queued id=") })
        #expect(result.stderr.contains("enqueue: \(queuedInDatabase) queued, 0 duplicate, 0 rejected"), "\(result.stderr)")
        #expect(result.stderr.contains("enqueue: stopped: "), "\(result.stderr)")
        #expect(result.stderr.contains("full"), "the reason: \(result.stderr)")
        #expect(result.stderr.contains("from line \(queuedInDatabase + 1) on, nothing was queued"), "\(result.stderr)")
    }
}
