import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// The drop folder with real `herald run` processes, real files and a real SQLite queue.
@Suite("Drop folder intake", .serialized)
struct DropFolderTests {
    /// Messages due in 2030, so the runs only ingest (no delivery gets in the way).
    static func line(_ key: String, n: Int) -> String {
        #"{"key": "\#(key)", "channel": "webhook", "template": "alert", "to": {"endpoint": "hooks"}, "data": {"n": \#(n)}, "send_at": "2030-01-01T00:00:00Z"}"#
    }

    func fixture() throws -> HeraldFixture {
        try HeraldFixture(endpoints: ["hooks": "http://127.0.0.1:9/"], workers: 2)
    }

    func keys(_ fixture: HeraldFixture) throws -> [String] {
        try fixture.queue.readNow { db in try String.fetchAll(db, sql: "SELECT key FROM messages ORDER BY key") }
    }

    @Test("json, ndjson and csv files with good and bad lines: the good ones queued, an exact errors file beside each archive")
    func mixedFiles() async throws {
        let fixture = try fixture()
        let folder = fixture.folder
        try folder.write("var/inbox/a.json", "[\(Self.line("j1", n: 1)), {\"channel\": \"fax\"}, \(Self.line("j2", n: 2))]")
        try folder.write("var/inbox/b.ndjson", [
            Self.line("n1", n: 1), "{not json", Self.line("n2", n: 2),
            #"{"key": "n3", "channel": "webhook", "template": "alert", "to": {"endpoint": "nope"}}"#, "", Self.line("n1", n: 1),
        ].joined(separator: "\n") + "\n")
        try folder.write("var/inbox/c.csv", """
            key,channel,template,to.endpoint,data.n,send_at
            c1,webhook,alert,hooks,1,2030-01-01T00:00:00Z
            c2,webhook,alert,hooks,2,yesterday
            "c3",webhook,alert,hooks,"3",2030-01-01T00:00:00Z
            c4,webhook,alert
            """ + "\n")
        try folder.write("var/inbox/ignored.txt", "not for us")
        try folder.write("var/inbox/.hidden.ndjson", Self.line("hidden", n: 0))

        let run = try await HeraldCommand.run(["run", "--once"], fixture: fixture)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(try keys(fixture) == ["c1", "c3", "j1", "j2", "n1", "n2"])
        let inbox = try FileManager.default.contentsOfDirectory(atPath: folder.file("var/inbox").path).sorted()
        #expect(inbox == [".hidden.ndjson", "ignored.txt"])
        let archive = try FileManager.default.contentsOfDirectory(atPath: folder.file("var/archive").path).sorted()
        #expect(archive == ["1-a.json", "1-a.json.errors.ndjson", "2-b.ndjson", "2-b.ndjson.errors.ndjson", "3-c.csv",
                            "3-c.csv.errors.ndjson"])

        func errors(_ name: String) throws -> [[String: JSONValue]] {
            let text = try String(contentsOf: folder.file("var/archive/\(name)"), encoding: .utf8)
            return try text.split(separator: "\n").map {
                guard case .object(let object) = try JSONValue.parse(Data($0.utf8)) else { throw CocoaError(.coderInvalidValue) }
                return object
            }
        }
        #expect(try errors("1-a.json.errors.ndjson") == [[
            "line": .integer(2), "field": .string("channel"), "input": .string(#"{"channel":"fax"}"#),
            "reason": .string("unknown channel \"fax\" (email, sms, webhook or letter)"),
        ]])
        let ndjsonErrors = try errors("2-b.ndjson.errors.ndjson")
        #expect(ndjsonErrors.map { $0["line"] } == [.integer(2), .integer(4)])
        #expect(ndjsonErrors[0]["input"] == .string("{not json"))
        #expect(ndjsonErrors[1]["field"] == .string("to.endpoint"))
        let csvErrors = try errors("3-c.csv.errors.ndjson")
        #expect(csvErrors.map { $0["line"] } == [.integer(3), .integer(5)])
        #expect(csvErrors[0]["field"] == .string("send_at"))
        #expect(csvErrors[0]["input"] == .string("c2,webhook,alert,hooks,2,yesterday"))
        #expect(csvErrors[1]["reason"] == .string("3 cells, the header has 6"))
    }

    @Test("a FIFO and a symlink in the folder are left alone: the folder keeps reading, nothing of the link's target is copied, SIGTERM still ends the run")
    func fifoAndSymlink() async throws {
        let fixture = try fixture()
        let folder = fixture.folder
        // Outside the inbox: what a symlink could point at. Its lines look like messages' errors.
        try folder.write("secret/shadow.json", "root:$6$not-a-real-hash:19000:0:99999:7:::\n")
        try FileManager.default.createDirectory(at: folder.file("var/inbox"), withIntermediateDirectories: true)
        #expect(mkfifo(folder.file("var/inbox/fifo.json").path, 0o600) == 0)
        #expect(symlink(folder.file("secret/shadow.json").path, folder.file("var/inbox/x.json").path) == 0)
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        // A valid file dropped after them is still read (on main the FIFO blocked the folder for good).
        try folder.write("var/inbox/z.ndjson", Self.line("after", n: 1) + "\n")
        let read = try await waitUntil(timeout: .seconds(20)) { try keys(fixture) == ["after"] }
        let stopAsked = ContinuousClock.now
        run.signal(SIGTERM)
        let status = await run.wait(timeout: .seconds(20))
        let took = ContinuousClock.now - stopAsked
        let stderr = run.output().stderr
        #expect(read, "the valid file was not read: \(stderr)")
        #expect(status == 0, "\(stderr)")
        #expect(took < .seconds(5) + .seconds(2), "SIGTERM took \(took) (grace 5 s, 2 s for the observer)")
        #expect(stderr.contains("a FIFO, left alone"), "\(stderr)")
        #expect(stderr.contains("a symbolic link, left alone"), "\(stderr)")
        let inbox = try FileManager.default.contentsOfDirectory(atPath: folder.file("var/inbox").path).sorted()
        #expect(inbox == ["fifo.json", "x.json"])
        let archive = try FileManager.default.contentsOfDirectory(atPath: folder.file("var/archive").path).sorted()
        #expect(archive == ["1-z.ndjson"])
        let rejections = try fixture.queue.readNow { db in try String.fetchAll(db, sql: "SELECT input FROM intake_rejections") }
        #expect(!rejections.contains { $0.contains("root:") }, "\(rejections)")
    }

    @Test("a file written under .tmp is left alone until renamed, then read once, within a second")
    func temporaryThenRenamed() async throws {
        let fixture = try fixture()
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        #expect(try await waitUntil(timeout: startupTimeout) { FileManager.default.fileExists(atPath: fixture.folder.file("var/inbox").path) })
        let lines = (0..<300).map { Self.line("t-\($0)", n: $0) }.joined(separator: "\n") + "\n"
        try fixture.folder.write("var/inbox/batch.ndjson.tmp", lines)
        // A probe file written after the .tmp: once it is queued, a scan has seen the .tmp too.
        try fixture.folder.write("var/inbox/probe.ndjson", Self.line("probe", n: 0) + "\n")
        try #require(try await waitUntil(timeout: .seconds(20)) { try keys(fixture).contains("probe") }, "the drop folder is not being scanned")
        try await Task.sleep(for: .milliseconds(1_200))  // and two more scans (poll 500 ms)
        #expect(try keys(fixture) == ["probe"], "a .tmp file must not be read")
        let renamedAt = Timestamp.now()
        #expect(rename(fixture.folder.file("var/inbox/batch.ndjson.tmp").path, fixture.folder.file("var/inbox/batch.ndjson").path) == 0)
        #expect(try await waitUntil(timeout: .seconds(10)) { try keys(fixture).count == 301 })
        try await Task.sleep(for: .milliseconds(1_200))
        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(15)) == 0, "\(run.output().stderr)")
        #expect(try keys(fixture).count == 301)
        // Herald's record: when the renamed file's messages were queued. The folder is scanned
        // every 500 ms; allow 1 s more for Herald's own scheduling on a busy machine.
        let queuedAt = try fixture.queue.readNow { db in
            try Int64.fetchOne(db, sql: "SELECT min(created_at) FROM messages WHERE key LIKE 't-%'")
        }
        let latency = try #require(queuedAt) - renamedAt
        #expect(latency < 1_500, "picked up \(latency) ms after the rename")
        #expect(try FileManager.default.contentsOfDirectory(atPath: fixture.folder.file("var/archive").path).sorted()
                == ["1-probe.ndjson", "2-batch.ndjson"])
    }

    @Test("SIGKILL while a 200,000-line file is ingested, restart: each line queued exactly once")
    func killedMidFile() async throws {
        let fixture = try fixture()
        var text = ""
        text.reserveCapacity(200_000 * 160)
        for index in 0..<200_000 { text += Self.line(String(format: "k%06d", index), n: index) + "\n" }
        try fixture.folder.write("var/inbox/big.ndjson.part", text)
        #expect(rename(fixture.folder.file("var/inbox/big.ndjson.part").path, fixture.folder.file("var/inbox/big.ndjson").path) == 0)

        let run = try HeraldCommand.start(["run"], fixture: fixture)
        func position() throws -> Int {
            try fixture.queue.readNow { db in try Int.fetchOne(db, sql: "SELECT max(position) FROM intake_files") ?? 0 }
        }
        #expect(try await waitUntil(timeout: .seconds(60)) { try position() >= 20_000 })
        run.signal(SIGKILL)
        await run.wait()
        let atKill = try position()
        #expect(atKill > 0 && atKill < 200_000, "the kill must land mid-file (position \(atKill))")
        #expect(try keys(fixture).count == atKill, "queued and position move together")

        let restart = try await HeraldCommand.run(["run", "--once"], fixture: fixture, timeout: .seconds(180))
        #expect(restart.status == 0, "\(restart.stderr)")
        let all = try keys(fixture)
        #expect(all.count == 200_000)
        #expect(Set(all).count == 200_000)
        #expect(all.first == "k000000" && all.last == "k199999")
        let file = try #require(try fixture.queue.readNow { db in try IntakeFile.fetchOne(db, sql: "SELECT * FROM intake_files") })
        #expect(file.state == .archived && file.position == 200_000 && file.queued == 200_000 && file.duplicates == 0)
    }
}
