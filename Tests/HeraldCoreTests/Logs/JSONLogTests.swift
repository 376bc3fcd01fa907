import Foundation
import Testing
@testable import HeraldCore

/// `--log-format json`: what journald and Loki can query by field.
@Suite("JSON logs")
struct JSONLogTests {
    @Test("every line of a run (start, a failed delivery, the shutdown) is a JSON object with level, message and the fields as keys; no secret in any")
    func everyLineIsJSON() async throws {
        let receiverFolder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: receiverFolder)
        let fixture = try HeraldFixture(endpoints: ["refuses": receiver.url("/status/400")], topLevel: "intake: {drop_folder: off}")
        try await fixture.enqueueWebhooks(1, endpoint: "refuses", prefix: "refused")
        let run = try HeraldCommand.start(["run", "--log-format", "json"], fixture: fixture, environment: ["HERALD_LOG_LEVEL": "info"])
        let failed = try await waitUntil(timeout: startupTimeout) { try fixture.state(ofKey: "refused-0") == "failed" }
        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(30)) == 0)
        await receiver.stop()
        #expect(failed, "precondition: the delivery failed")

        let lines = run.output().stderr.split(separator: "\n").map(String.init)
        #expect(lines.count >= 3, "precondition: the run logged: \(lines)")
        var objects: [[String: JSONValue]] = []
        for line in lines {
            guard case .object(let object)? = try? JSONValue.parse(Data(line.utf8)) else {
                Issue.record("not a JSON object: \(line)")
                continue
            }
            #expect(object["level"]?.string != nil && object["message"]?.string != nil && object["timestamp"]?.string != nil, "\(line)")
            objects.append(object)
        }
        let messages = objects.compactMap { $0["message"]?.string }
        #expect(messages.contains("dispatcher started"), "\(messages)")
        #expect(messages.contains("dispatcher stopped"), "\(messages)")
        let failure = try #require(objects.first { $0["message"]?.string == "delivery failed permanently" }, "\(messages)")
        #expect(failure["level"]?.string == "warning")
        let id = try #require(try fixture.queue.readNow { db in try Int64.fetchOne(db, sql: "SELECT id FROM messages WHERE key = 'refused-0'") })
        #expect(failure["message_id"]?.string == "\(id)", "the message's id is a field of its own: \(failure)")
        #expect(failure["key"]?.string == "refused-0")
        #expect(failure["channel"]?.string == "webhook")
        #expect(failure["error"]?.string?.contains("HTTP 400") == true)

        let output = run.output().stderr
        for (name, secret) in HeraldFixture.environment {
            #expect(!output.contains(secret), "\(name)'s value appears in the log")
        }
    }

    @Test("an unknown log format is refused naming the option and the value")
    func unknownFormat() async throws {
        let fixture = try HeraldFixture(endpoints: ["hook": "http://127.0.0.1:9/"])
        let result = try await HeraldCommand.run(["status", "--log-format", "xml"], fixture: fixture)
        #expect(result.status != 0)
        #expect(result.stderr.contains(#"--log-format: expected text or json, got "xml""#), "\(result.stderr)")
        let fromEnvironment = try await HeraldCommand.run(["status"], fixture: fixture, environment: ["HERALD_LOG_FORMAT": "yaml"])
        #expect(fromEnvironment.status != 0)
        #expect(fromEnvironment.stderr.contains(#"HERALD_LOG_FORMAT: expected text or json, got "yaml""#), "\(fromEnvironment.stderr)")
    }
}
