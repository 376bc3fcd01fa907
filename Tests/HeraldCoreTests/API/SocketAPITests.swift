import Foundation
import Testing
@testable import HeraldCore

/// The HTTP API with a real `herald run`, a real unix socket and TCP listener, Debian's curl as
/// the client and a real webhook receiver behind it.
@Suite("Socket API", .serialized)
struct SocketAPITests {
    static func message(_ key: String, endpoint: String = "ok", sendAt: String? = nil) -> String {
        #"{"key": "\#(key)", "channel": "webhook", "template": "alert", "to": {"endpoint": "\#(endpoint)"}, "data": {"n": 1}"#
            + (sendAt.map { #", "send_at": "\#($0)""# } ?? "") + "}"
    }

    /// Starts `herald run` and waits for its socket.
    static func start(_ fixture: HeraldFixture) async throws -> ChildProcess {
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        let socket = fixture.folder.file("var/herald.sock").path
        let up = try await waitUntil(timeout: startupTimeout) { FileManager.default.fileExists(atPath: socket) || !run.isRunning }
        guard up, run.isRunning else { throw APIClient.ClientError.failed(-1, run.output().stderr) }
        return run
    }

    @Test("every route over the unix socket: intake with per-message results, lookup, retry, cancel, suppressions, stats, errors as JSON")
    func routesOverTheSocket() async throws {
        let receiverFolder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: receiverFolder)
        let fixture = try HeraldFixture(
            endpoints: ["ok": receiver.url("/ok"), "flaky": receiver.url("/status/400,200")],
            topLevel: "intake: {socket: var/herald.sock, max_body: 64KB, drop_folder: off}")
        let run = try await Self.start(fixture)
        defer { run.signal(SIGKILL) }
        let socket = fixture.folder.file("var/herald.sock").path
        let api = try APIClient(.socket(socket))

        let health = try await api.get("/healthz")
        #expect(health.status == 200 && health.json?["status"]?.string == "ok")
        // The socket: owner and group may connect, nobody else.
        let attributes = try FileManager.default.attributesOfItem(atPath: socket)
        #expect((attributes[.posixPermissions] as? Int) == 0o660)

        // One object: 201 queued, then 200 duplicate; a bad one 422 naming the field.
        let first = try await api.post("/v1/messages", json: Self.message("one"))
        #expect(first.status == 201)
        #expect(first.json?["status"]?.string == "queued" && first.json?["id"]?.int != nil)
        let again = try await api.post("/v1/messages", json: Self.message("one"))
        #expect(again.status == 200 && again.json?["status"]?.string == "duplicate")
        #expect(again.json?["id"] == first.json?["id"])
        let bad = try await api.post("/v1/messages", json: #"{"key": "bad", "channel": "webhook", "template": "alert", "to": {"endpoint": "nowhere"}}"#)
        #expect(bad.status == 422)
        #expect(bad.json?["reason"]?.string?.contains("to.endpoint") == true, "\(bad.body)")
        #expect(bad.json?["reason"]?.string?.contains("nowhere") == true, "\(bad.body)")

        // An array: a result per item, the bad one rejected, the others queued.
        let array = try await api.post("/v1/messages", json: "[\(Self.message("a1")), {\"channel\": \"fax\"}, \(Self.message("a2"))]")
        #expect(array.status == 200)
        #expect(array.json?["queued"]?.int == 2 && array.json?["rejected"]?.int == 1)
        #expect(array.json?["results"]?[1]?["item"]?.int == 2)
        #expect(array.json?["results"]?[1]?["reason"]?.string?.contains("fax") == true)

        // An NDJSON stream: malformed lines rejected one by one, the rest queued.
        var lines = (0..<1_000).map { Self.message("s\($0)") }
        lines[9] = "{not json"
        lines[499] = #"{"key": "s499", "channel": "webhook", "template": "alert", "to": {"endpoint": "ok"}, "send_at": 5}"#
        lines[999] = #"{"key": "s999", "channel": "webhook", "template": "alert", "to": {"endpoint": "ok"}, "colour": "red"}"#
        let stream = try await api.post("/v1/messages", ndjson: lines)
        #expect(stream.status == 200)
        #expect(stream.headers["content-type"] == "application/x-ndjson")
        let results = stream.lines
        try #require(results.count == 1_000, "\(stream.body.prefix(500))")
        #expect(results.map { $0["line"]?.int } == (1...1_000).map { Int64($0) }, "result lines out of order")
        let rejected = results.filter { $0["status"]?.string == "rejected" }
        try #require(rejected.map { $0["line"]?.int } == [10, 500, 1_000])
        #expect(rejected[1]["reason"]?.string?.contains("send_at") == true, "\(rejected[1])")
        #expect(rejected[2]["reason"]?.string?.contains("colour") == true, "\(rejected[2])")
        #expect(results.count { $0["status"]?.string == "queued" } == 997)

        // A line over the 1 MiB line limit is rejected alone; the stream goes on after it.
        let long = #"{"key": "long", "channel": "webhook", "template": "alert", "to": {"endpoint": "ok"}, "data": {"pad": ""#
            + String(repeating: "x", count: 1_100_000) + #""}}"#
        let withLong = try await api.post("/v1/messages", ndjson: [
            Self.message("before-long", sendAt: "2030-01-01T00:00:00Z"), long, Self.message("after-long", sendAt: "2030-01-01T00:00:00Z"),
        ])
        #expect(withLong.lines.map { $0["status"]?.string } == ["queued", "rejected", "queued"])
        #expect(withLong.lines.map { $0["line"]?.int } == [1, 2, 3])
        #expect(withLong.lines.dropFirst().first?["reason"]?.string?.contains("longer than 1048576 bytes") == true)

        // Delivered by the same process; the lookup shows the attempt, by id or by key.
        #expect(try await waitUntil(timeout: .seconds(30)) { try await fixture.queue.status().count(state: .sent) == 1_000 })
        let byKey = try await api.get("/v1/messages/s1")
        #expect(byKey.status == 200)
        #expect(byKey.json?["state"]?.string == "sent")
        #expect(byKey.json?["attempts"]?[0]?["remote_code"]?.string == "200")
        let byID = try await api.get("/v1/messages/\(first.json?["id"]?.int ?? 0)")
        #expect(byID.json?["key"]?.string == "one")
        let missing = try await api.get("/v1/messages/nope")
        #expect(missing.status == 404 && missing.json?["error"]?.string == "not_found")

        // A permanent failure, retried by the operator: delivered on its second try.
        #expect(try await api.post("/v1/messages", json: Self.message("flaky/1", endpoint: "flaky")).status == 201)
        #expect(try await waitUntil(timeout: .seconds(20)) { try fixture.state(ofKey: "flaky/1") == "failed" })
        let retried = try await api.request("POST", "/v1/messages/flaky%2F1/retry")
        #expect(retried.status == 200 && retried.json?["state"]?.string == "queued")
        #expect(try await waitUntil(timeout: .seconds(20)) { try fixture.state(ofKey: "flaky/1") == "sent" })
        let sentRetry = try await api.request("POST", "/v1/messages/flaky%2F1/retry")
        #expect(sentRetry.status == 409 && sentRetry.json?["reason"]?.string?.contains("sent") == true)

        // Cancel a message that is not due yet.
        _ = try await api.post("/v1/messages", json: Self.message("later", sendAt: "2030-01-01T00:00:00Z"))
        let canceled = try await api.request("POST", "/v1/messages/later/cancel")
        #expect(canceled.status == 200 && canceled.json?["state"]?.string == "canceled")
        #expect(try await api.request("POST", "/v1/messages/later/cancel").status == 409)

        // Suppressions: add (normalized), list, look up, remove.
        let added = try await api.post("/v1/suppressions", json: """
            [{"channel": "email", "address": "Lead@Example.com", "reason": "unsubscribed"},
             {"channel": "sms", "address": "+1 (555) 010-0199"}, {"channel": "sms", "address": "call me"}]
            """)
        #expect(added.status == 200)
        #expect(added.json?[0]?["address"]?.string == "lead@example.com")
        #expect(added.json?[1]?["address"]?.string == "+15550100199")
        #expect(added.json?[2]?["status"]?.string == "rejected")
        #expect(added.json?[2]?["reason"]?.string?.contains("call me") == true)
        let list = try await api.get("/v1/suppressions?channel=email")
        #expect(list.json?["suppressions"]?.array?.map { $0["address"]?.string } == ["lead@example.com"])
        let one = try await api.get("/v1/suppressions/sms/+15550100199")
        #expect(one.status == 200 && one.json?["reason"]?.string == "manual")
        #expect(try await api.request("DELETE", "/v1/suppressions/email/LEAD@example.com").status == 200)
        #expect(try await api.request("DELETE", "/v1/suppressions/email/lead@example.com").status == 404)

        let stats = try await api.get("/v1/stats")
        let sent = stats.json?["counts"]?.array?.first { $0["state"]?.string == "sent" }
        #expect(sent?["count"]?.int == 1_001)
        let queued = stats.json?["counts"]?.array?.first { $0["state"]?.string == "queued" }
        #expect(queued?["count"]?.int == 2)

        // Limits and errors: JSON with a reason, always.
        let big = "[" + Array(repeating: Self.message("big"), count: 1_000).joined(separator: ",") + "]"
        let tooLarge = try await api.post("/v1/messages", json: big)
        #expect(tooLarge.status == 413 && tooLarge.json?["error"]?.string == "body_too_large")
        #expect(tooLarge.json?["reason"]?.string?.contains("intake.max_body (64 KB)") == true, "\(tooLarge.body)")
        // A form of fixed size names its own limit, not intake.max_body.
        let bigForm = try await api.request("POST", "/inbound/sms", body: Data(("Body=" + String(repeating: "x", count: 70_000)).utf8),
                                            headers: ["Content-Type: application/x-www-form-urlencoded"])
        #expect(bigForm.status == 413 && bigForm.json?["reason"]?.string == "the body is larger than this form takes (64 KB)", "\(bigForm.body)")
        let csv = try await api.request("POST", "/v1/messages", body: Data("a,b\n".utf8), headers: ["Content-Type: text/csv"])
        #expect(csv.status == 415 && csv.json?["reason"]?.string?.contains("text/csv") == true)
        let noRoute = try await api.get("/v2/nothing")
        #expect(noRoute.status == 404 && noRoute.json?["reason"] != nil)
        await receiver.stop()
    }

    @Test("/metrics is Prometheus text: messages by state and channel, attempt durations, queue depth, oldest due age")
    func metrics() async throws {
        let receiverFolder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: receiverFolder)
        let fixture = try HeraldFixture(endpoints: ["ok": receiver.url("/ok")], topLevel: "intake: {drop_folder: off}")
        let run = try await Self.start(fixture)
        defer { run.signal(SIGKILL) }
        let api = try APIClient(.socket(fixture.folder.file("var/herald.sock").path))
        _ = try await api.post("/v1/messages", ndjson: (0..<20).map { Self.message("m\($0)") }
            + [Self.message("future", sendAt: "2030-01-01T00:00:00Z")])
        #expect(try await waitUntil(timeout: .seconds(20)) { try await fixture.queue.status().count(state: .sent) == 20 })

        let response = try await api.get("/metrics")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        // Parsed by the Prometheus client library's own parser.
        try fixture.folder.write("metrics.txt", response.body)
        let parser = try ChildProcess("/bin/sh", ["-c", "'\(SupportPaths.python)' '\(SupportPaths.servers.path)/parse_metrics.py' < '\(fixture.folder.file("metrics.txt").path)'"])
        #expect(await parser.wait(timeout: .seconds(30)) == 0, "\(parser.output().stderr)")
        let samples = try parser.output().stdout.split(separator: "\n").map { try JSONValue.parse(Data($0.utf8)) }
        func value(_ name: String, _ labels: [String: String]) -> Double? {
            for sample in samples where sample["name"]?.string == name {
                guard case .object(let given)? = sample["labels"] else { continue }
                if labels.allSatisfy({ given[$0.key]?.string == $0.value }) {
                    switch sample["value"] {
                    case .number(let number)?: return number
                    case .integer(let number)?: return Double(number)
                    default: return nil
                    }
                }
            }
            return nil
        }
        #expect(value("herald_messages", ["state": "sent", "channel": "webhook"]) == 20)
        #expect(value("herald_messages", ["state": "queued", "channel": "webhook"]) == 1)
        #expect(value("herald_messages", ["state": "failed", "channel": "webhook"]) == 0)
        #expect(value("herald_attempt_duration_seconds_count", ["channel": "webhook", "outcome": "sent"]) == 20)
        #expect(value("herald_attempt_duration_seconds_bucket", ["channel": "webhook", "outcome": "sent", "le": "+Inf"]) == 20)
        #expect(value("herald_queue_depth", ["channel": "webhook"]) == 0)
        #expect(value("herald_oldest_due_age_seconds", ["channel": "webhook"]) == 0)
        await receiver.stop()
    }

    @Test("TCP needs the bearer token (the public routes do not); a wrong token is refused like none")
    func tcpToken() async throws {
        let port = try FreePort.next()
        let fixture = try HeraldFixture(
            endpoints: ["ok": "http://127.0.0.1:9/"],
            topLevel: "intake: {drop_folder: off, http: {listen: \"127.0.0.1:\(port)\", token: \"${TEST_API_TOKEN}\"}}")
        let run = try await Self.start(fixture)
        defer { run.signal(SIGKILL) }
        var api = try APIClient(.tcp(port: port))
        #expect(try await waitUntil(timeout: .seconds(10)) { FreePort.isListening(port) })

        let anonymous = try await api.get("/v1/stats")
        #expect(anonymous.status == 401)
        #expect(anonymous.json?["error"]?.string == "unauthorized")
        #expect(anonymous.headers["www-authenticate"]?.hasPrefix("Bearer") == true)
        #expect(try await api.post("/v1/messages", json: Self.message("x")).status == 401)
        #expect(try await api.get("/healthz").status == 200)

        api.token = "test-api-token-0123456789abcdeX"
        #expect(try await api.get("/v1/stats").status == 401)
        api.token = HeraldFixture.apiToken
        #expect(try await api.get("/v1/stats").status == 200)
        let stream = try await api.post("/v1/messages", ndjson: [Self.message("t1", sendAt: "2030-01-01T00:00:00Z"), "[]"])
        #expect(stream.lines.map { $0["status"]?.string } == ["queued", "rejected"])
        #expect(try fixture.state(ofKey: "t1") == "queued")
        // Nothing was queued by the refused request.
        #expect(try fixture.state(ofKey: "x") == nil)
    }

    @Test("a second process on the same socket is refused; after a SIGKILL the stale socket file is replaced")
    func socketOwnership() async throws {
        let fixture = try HeraldFixture(endpoints: ["ok": "http://127.0.0.1:9/"], topLevel: "intake: {drop_folder: off}")
        let first = try await Self.start(fixture)
        let second = try HeraldCommand.start(["run"], fixture: fixture)
        #expect(await second.wait(timeout: .seconds(20)) != 0)
        #expect(second.output().stderr.contains("intake.socket"), "\(second.output().stderr)")
        let api = try APIClient(.socket(fixture.folder.file("var/herald.sock").path))
        #expect(try await api.get("/healthz").status == 200)

        first.signal(SIGKILL)
        await first.wait()
        #expect(FileManager.default.fileExists(atPath: fixture.folder.file("var/herald.sock").path))
        let third = try await Self.start(fixture)
        defer { third.signal(SIGKILL) }
        #expect(try await waitUntil(timeout: .seconds(10)) { UnixSocketProbe.isServed(fixture.folder.file("var/herald.sock").path) })
        #expect(try await api.get("/healthz").status == 200)
        third.signal(SIGTERM)
        #expect(await third.wait(timeout: .seconds(20)) == 0)
        // A clean stop removes the socket file.
        #expect(!FileManager.default.fileExists(atPath: fixture.folder.file("var/herald.sock").path))
    }
}
