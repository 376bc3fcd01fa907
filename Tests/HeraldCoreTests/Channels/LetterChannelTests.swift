import Foundation
import GRDB
import Testing
@testable import HeraldCore

/// The letter channel end to end: real `herald` processes, a real SQLite file, the export folder
/// read back by Python's csv and hashlib (as a print vendor would), a real HTTP server for uploads.
@Suite("Letter channel: batches, export, crash safety, upload", .serialized)
struct LetterChannelTests {
    struct Export: Decodable {
        struct Batch: Decodable {
            var batch: String
            var count: Int
            var rows: Int
            var sha_ok: Bool
            var bytes_ok: Bool
            var keys: [String]
            var first: [String: String]?
        }

        var batches: [Batch]
        var orphans: [String]
        var temporary: [String]
    }

    func fixture(_ folder: TemporaryFolder, batch: String = "{size: 500, age: 1h}", upload: String? = nil,
                 topLevel: String = "") throws -> HeraldFixture {
        var letter = "export_dir: var/letters\nbatch: \(batch)\n"
        if let upload { letter += "upload: \(upload)\n" }
        let fixture = try HeraldFixture(endpoints: ["unused": "http://127.0.0.1:9/"], workers: 8, letter: letter, topLevel: topLevel,
                                        folder: folder)
        try fixture.useShippedTemplate("offer-letter")
        return fixture
    }

    func enqueueLetters(_ fixture: HeraldFixture, count: Int) async throws {
        let address = PostalAddress(line1: "12 Elm St", line2: "Apt 3", city: "Springfield", region: "IL", postalCode: "62701",
                                    country: "US")
        let data = #"{"salutation": "Dear Ms. Jones", "letter_date": "2026-11-24", "advisor": "Daniel Reyes", "office_phone": "(555) 010-4400", "booking_url": "harbor-financial.example/review", "offer_code": "REVIEW-4711", "offer_expires": "2027-01-31"}"#
        let messages = (0..<count).map { index in
            NewMessage(key: String(format: "letter-%04d", index), channel: .letter, template: "offer-letter",
                       recipient: Recipient(name: "Sarah Jones, \"Jr.\"", address: address), dataJSON: data,
                       sendAt: Timestamp.now(), campaign: "offer-letter-q4")
        }
        for chunk in stride(from: 0, to: count, by: 500) {
            _ = try await fixture.queue.enqueue(Array(messages[chunk..<min(chunk + 500, count)]))
        }
    }

    func readExport(_ fixture: HeraldFixture) async throws -> Export {
        let child = try ChildProcess(SupportPaths.python, [
            SupportPaths.servers.appendingPathComponent("letter_batches.py").path, fixture.folder.file("var/letters").path,
        ])
        #expect(await child.wait(timeout: .seconds(30)) == 0, "\(child.output().stderr)")
        return try JSONDecoder().decode(Export.self, from: Data(child.output().stdout.utf8))
    }

    func allKeys(_ count: Int) -> [String] { (0..<count).map { String(format: "letter-%04d", $0) } }

    @Test("1,050 letters, batches of 500: two batches close by size, `letters close` closes the third; hashes match")
    func batchesBySize() async throws {
        let folder = try TemporaryFolder()
        let fixture = try fixture(folder)
        try await enqueueLetters(fixture, count: 1_050)
        let run = try await HeraldCommand.run(["run", "--once"], fixture: fixture)
        #expect(run.status == 0, "\(run.stderr)")
        let afterRun = try await readExport(fixture)
        #expect(afterRun.batches.map(\.count) == [500, 500])
        #expect(try await fixture.queue.letterBatches().map(\.state) == [.open, .closed, .closed])

        let close = try await HeraldCommand.run(["letters", "close"], fixture: fixture)
        #expect(close.status == 0 && close.stdout.contains("closed 1 batch"), "\(close.stdout)\(close.stderr)")
        let export = try await readExport(fixture)
        #expect(export.batches.map(\.count) == [500, 500, 50])
        #expect(export.batches.allSatisfy { $0.sha_ok && $0.bytes_ok && $0.rows == $0.count })
        #expect(export.batches.flatMap(\.keys).sorted() == allKeys(1_050))
        #expect(export.orphans.isEmpty && export.temporary.isEmpty)
        let first = try #require(export.batches.first?.first)
        #expect(first["name"] == "Sarah Jones, \"Jr.\"")
        #expect(first["postal_code"] == "62701" && first["region"] == "IL" && first["country"] == "US")
        #expect(first["format"] == "html")
        #expect(first["letter"]?.contains("Dear Ms. Jones") == true)
        #expect(try await fixture.queue.status().count(state: .sent) == 1_050)

        let list = try await HeraldCommand.run(["letters", "list"], fixture: fixture)
        #expect(list.stdout.split(separator: "\n").count == 4, "\(list.stdout)")
        let name = try #require(export.batches.first?.batch)
        let show = try await HeraldCommand.run(["letters", "show", name], fixture: fixture)
        #expect(show.stdout.contains("(matches)"), "\(show.stdout)")
        #expect(show.stdout.contains("letter-0000"))
    }

    @Test("SIGKILL between a batch's CSV and its manifest, restart: every letter in exactly one closed batch")
    func crashDuringClose() async throws {
        let folder = try TemporaryFolder()
        let fixture = try fixture(folder)
        try await enqueueLetters(fixture, count: 1_050)
        let crashed = try await HeraldCommand.run(["run", "--once"], fixture: fixture,
                                                  environment: ["HERALD_FAILPOINTS": Failpoint.letterAfterCSV])
        #expect(crashed.status == SIGKILL, "exit \(crashed.status): \(crashed.stderr)")
        #expect(crashed.stderr.contains("failpoint letters.after-csv"))
        // The kill left a CSV without its manifest and a batch recorded as closing.
        let torn = try await readExport(fixture)
        #expect(torn.batches.isEmpty && torn.orphans.count == 1, "\(torn)")
        #expect(try await fixture.queue.letterBatches().contains { $0.state == .closing })

        let restarted = try await HeraldCommand.run(["run", "--once"], fixture: fixture)
        #expect(restarted.status == 0, "\(restarted.stderr)")
        let close = try await HeraldCommand.run(["letters", "close"], fixture: fixture)
        #expect(close.status == 0)

        let export = try await readExport(fixture)
        #expect(export.batches.map(\.count) == [500, 500, 50])
        #expect(export.batches.allSatisfy { $0.sha_ok && $0.bytes_ok && $0.rows == $0.count })
        let keys = export.batches.flatMap(\.keys)
        #expect(keys.count == 1_050 && Set(keys).count == 1_050 && keys.sorted() == allKeys(1_050))
        #expect(export.orphans.isEmpty && export.temporary.isEmpty)
        #expect(try await fixture.queue.status().count(state: .sent) == 1_050)
        let rows = try fixture.queue.readNow { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM letters")! }
        #expect(rows == 1_050)
    }

    @Test("closed batches are uploaded by HTTP PUT, CSV then manifest, retried after a 500; each letter reports letter.exported, then letter.uploaded once")
    func uploadWithRetry() async throws {
        let folder = try TemporaryFolder()
        let received = folder.file("received")
        try FileManager.default.createDirectory(at: received, withIntermediateDirectories: true)
        let log = folder.file("put.ndjson")
        let server = try ChildProcess(SupportPaths.python, [
            SupportPaths.servers.appendingPathComponent("put_receiver.py").path, "--folder", received.path, "--log", log.path,
            "--fail-first", "1",
        ])
        let port = try #require(await server.line(startingWith: "PORT "), "\(server.output().stderr)")
        let fixture = try fixture(folder, batch: "{size: 20, age: 1h}",
                                  upload: "{url: \"http://127.0.0.1:\(port)/incoming/\", username: vendor, password: \"${TEST_SMTP_PASSWORD}\", retry: {max_attempts: 5, initial: 200ms, max: 1s}}",
                                  topLevel: "events: {}")
        try await enqueueLetters(fixture, count: 20)
        try await fixture.deliverUntilSettled()
        func letterEvents(_ type: EventType) async throws -> [Event] {
            try await fixture.queue.events(after: .start, matching: EventFilter(types: [type]), limit: 100).map(\.event)
        }
        let transports = CurlChannels(workers: 8)
        let batcher = try #require(fixture.config.letterBatcher(queue: fixture.queue, transports: transports, logger: .init(label: "test")))
        await batcher.round()
        #expect(try await fixture.queue.letterBatches().first?.uploadState == .pending)
        #expect(try await fixture.queue.letterBatches().first?.uploadError?.contains("HTTP 500") == true)
        let exported = try await letterEvents(.letterExported)
        #expect(exported.count == 20 && Set(exported.compactMap(\.messageID)).count == 20, "one letter.exported per letter")
        #expect(exported.first?.payload.contains(#""campaign":"offer-letter-q4""#) == true
                && exported.first?.payload.contains(#""file":"letters-"#) == true, "\(exported.first?.payload ?? "")")
        #expect(try await letterEvents(.letterUploaded).isEmpty, "not uploaded yet")
        try await Task.sleep(for: .milliseconds(600))
        await batcher.round()
        await transports.shutdown()
        server.signal(SIGTERM)
        await server.wait(timeout: .seconds(5))

        let batch = try #require(try await fixture.queue.letterBatches().first)
        #expect(batch.uploadState == .uploaded)
        #expect(batch.uploadAttempts == 2)
        let uploaded = try await letterEvents(.letterUploaded)
        #expect(uploaded.count == 20 && Set(uploaded.compactMap(\.messageID)) == Set(exported.compactMap(\.messageID)),
                "one letter.uploaded per letter, after the retry succeeded")
        let requests = String(decoding: try Data(contentsOf: log), as: UTF8.self).split(separator: "\n")
        #expect(requests.count == 3, "\(requests)")
        #expect(requests.last?.contains(batch.manifestFileName) == true, "the manifest goes last")
        #expect(requests.allSatisfy { $0.contains("Basic ") })
        for file in [batch.csvFileName, batch.manifestFileName] {
            let local = try Data(contentsOf: fixture.folder.file("var/letters/\(file)"))
            #expect(try Data(contentsOf: received.appendingPathComponent(file)) == local)
        }
    }

    @Test("closed batches are uploaded over FTP (a real pyftpdlib server) with the login from the environment")
    func uploadOverFTP() async throws {
        let folder = try TemporaryFolder()
        let received = folder.file("ftp-root")
        try FileManager.default.createDirectory(at: received, withIntermediateDirectories: true)
        let server = try ChildProcess(SupportPaths.python, [
            SupportPaths.servers.appendingPathComponent("ftp_server.py").path, "--folder", received.path,
            "--user", "vendor", "--password", HeraldFixture.environment["TEST_SMTP_PASSWORD"]!,
        ])
        let port = try #require(await server.line(startingWith: "PORT "), "\(server.output().stderr)")
        let fixture = try fixture(folder, batch: "{size: 10, age: 1h}",
                                  upload: "{url: \"ftp://127.0.0.1:\(port)/\", username: vendor, password: \"${TEST_SMTP_PASSWORD}\"}")
        try await enqueueLetters(fixture, count: 10)
        try await fixture.deliverUntilSettled()
        let transports = CurlChannels(workers: 8)
        let batcher = try #require(fixture.config.letterBatcher(queue: fixture.queue, transports: transports, logger: .init(label: "test")))
        await batcher.round()
        await transports.shutdown()
        server.signal(SIGTERM)
        await server.wait(timeout: .seconds(5))

        let batch = try #require(try await fixture.queue.letterBatches().first)
        #expect(batch.uploadState == .uploaded, "\(batch.uploadError ?? "")")
        for file in [batch.csvFileName, batch.manifestFileName] {
            let local = try Data(contentsOf: fixture.folder.file("var/letters/\(file)"))
            #expect(try Data(contentsOf: received.appendingPathComponent(file)) == local)
        }
    }

    @Test("an address a letter cannot go to is refused at intake, naming the field", arguments: [
        (#"{"line1": "12 Elm St", "city": "Springfield", "postal_code": "62701", "country": "US"}"#, "to.address.region: required for addresses in US"),
        (#"{"line1": "12 Elm St", "city": "Springfield", "region": "IL", "postal_code": "627", "country": "US"}"#, "to.address.postal_code: not a US ZIP code (\"627\"), e.g. \"62701\" or \"62701-1234\""),
        (#"{"line1": "", "city": "Berlin", "postal_code": "10115", "country": "DE"}"#, "to.address.line1: required for the letter channel"),
        (#"{"line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10115", "country": "Germany"}"#, "to.address.country: not an ISO 3166-1 alpha-2 code in capitals (\"Germany\"), e.g. \"US\""),
    ])
    func addressRules(address: String, reason: String) throws {
        let validation = MessageValidation(channels: [.letter], webhookEndpoints: [])
        let line = #"{"channel": "letter", "template": "offer-letter", "to": {"name": "Sarah Jones", "address": \#(address)}}"#
        let value = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
        switch validation.validate(value) {
        case .success: Issue.record("expected a rejection for \(address)")
        case .failure(let rejection): #expect(rejection.description == reason)
        }
        let good = #"{"channel": "letter", "template": "offer-letter", "to": {"name": "Erika Muster", "address": {"line1": "Unter den Linden 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}}}"#
        #expect((try? validation.validate(JSONDecoder().decode(JSONValue.self, from: Data(good.utf8))).get()) != nil)
    }
}
