import Foundation
import Logging
import Testing
@testable import HeraldCore

/// `herald` itself on the PostgreSQL engine: the commands, the API and `/metrics` as an operator
/// and a CRM use them, against a real server.
@Suite("herald on PostgreSQL")
struct PostgresRunTests {
    static func url(_ settings: PostgresSettings) -> String {
        "postgres://\(settings.username)@\(settings.host):\(settings.port)/\(settings.database)?sslmode=disable"
    }

    /// The contract over the same database, for looking at what `herald` wrote.
    static func inspect<T>(_ settings: PostgresSettings, _ body: (PostgresQueue) async throws -> T) async throws -> T {
        var logger = Logger(label: "test.inspect")
        logger.logLevel = .warning
        let queue = try PostgresQueue(settings: settings, logger: logger)
        return try await queue.whileConnected { try await body(queue) }
    }

    @Test("enqueue, run, the API, /metrics, status, failed list and retry, suppress and prune all work on PostgreSQL")
    func commandsAndAPI() async throws {
        let settings = try await PostgresServer.shared.database()
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        defer { Task { await receiver.stop() } }
        let port = try FreePort.next()
        let fixture = try HeraldFixture(
            endpoints: ["hook": receiver.url("/ok"), "broken": receiver.url("/status/400")], database: Self.url(settings),
            topLevel: "intake: {drop_folder: off, socket: off, http: {listen: \"127.0.0.1:\(port)\", token: \"${TEST_API_TOKEN}\"}}")
        let lines = (0..<40).map { #"{"key": "pg-\#($0)", "channel": "webhook", "template": "alert", "to": {"endpoint": "hook"}, "data": {"n": \#($0)}}"# }
            + [#"{"key": "pg-broken", "channel": "webhook", "template": "alert", "to": {"endpoint": "broken"}, "data": {"n": 1}}"#]
        try fixture.folder.write("batch.ndjson", lines.joined(separator: "\n") + "\n")
        let enqueued = try await HeraldCommand.run(["enqueue", "batch.ndjson"], fixture: fixture)
        #expect(enqueued.status == 0, "\(enqueued.stderr)")
        #expect(enqueued.stderr.contains("41 queued"), "\(enqueued.stderr)")

        let run = try HeraldCommand.start(["run"], fixture: fixture)
        defer { run.signal(SIGKILL) }
        #expect(try await waitUntil(timeout: startupTimeout) { FreePort.isListening(port) || !run.isRunning } && run.isRunning,
                "\(run.output().stderr)")
        let api = try APIClient(.tcp(port: port), token: HeraldFixture.apiToken)
        let posted = try await api.post("/v1/messages", ndjson: (0..<10).map {
            #"{"key": "api-\#($0)", "channel": "webhook", "template": "alert", "to": {"endpoint": "hook"}, "data": {"n": \#($0)}}"#
        })
        #expect(posted.status == 200 && posted.lines.count == 10, "\(posted.body)")
        let delivered = try await waitUntil(timeout: .seconds(60)) {
            Set(try receiver.requests().filter { $0.path == "/ok" }.map(\.id)).count == 50
        }
        #expect(delivered, "every message delivered: \((try? receiver.requests().count) ?? -1)")
        #expect(try await waitUntil(timeout: .seconds(30)) {
            try await Self.inspect(settings) { try await $0.message("pg-broken")?.state } == .failed
        })

        let stats = try await api.get("/v1/stats")
        #expect(stats.status == 200 && stats.body.contains("\"sent\""), "\(stats.body)")
        let metrics = try await api.get("/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("herald_messages{"), "\(metrics.body.prefix(400))")
        #expect(try await api.get("/healthz").status == 200)
        let message = try await api.get("/v1/messages/pg-3")
        #expect(message.status == 200 && message.body.contains("\"sent\""), "\(message.body)")

        let status = try await HeraldCommand.run(["status", "--json"], fixture: fixture)
        let counts = try JSONDecoder().decode(QueueStatus.self, from: Data(status.stdout.utf8))
        #expect(counts.count(state: .sent) == 50 && counts.count(state: .failed) == 1, "\(status.stdout)")
        let failed = try await HeraldCommand.run(["failed", "list"], fixture: fixture)
        #expect(failed.stdout.contains("pg-broken") && failed.stdout.contains("HTTP 400"), "\(failed.stdout)\(failed.stderr)")
        let retried = try await HeraldCommand.run(["failed", "retry", "pg-broken"], fixture: fixture)
        #expect(retried.status == 0, "\(retried.stderr)")
        #expect(try await waitUntil(timeout: .seconds(30)) {
            try await Self.inspect(settings) { try await $0.message("pg-broken")?.attempts.count } == 2
        }, "the retried message was tried again")

        let suppressed = try await HeraldCommand.run(["suppress", "add", "webhook", "Hook"], fixture: fixture)
        #expect(suppressed.status == 0, "\(suppressed.stderr)")
        let listed = try await HeraldCommand.run(["suppress", "list"], fixture: fixture)
        #expect(listed.stdout.contains("hook"), "\(listed.stdout)")
        _ = try await api.post("/v1/messages", ndjson: [#"{"key": "after-suppress", "channel": "webhook", "template": "alert", "to": {"endpoint": "hook"}, "data": {"n": 0}}"#])
        #expect(try await waitUntil(timeout: .seconds(30)) {
            try await Self.inspect(settings) { try await $0.message("after-suppress")?.state } == .suppressed
        })
        let prune = try await HeraldCommand.run(["prune", "--dry-run"], fixture: fixture)
        #expect(prune.status == 0 && prune.stdout.contains("would remove 0 messages"), "\(prune.stdout)\(prune.stderr)")

        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(30)) == 0, "\(run.output().stderr)")
    }

    @Test("a database that is not there: the command says so with the server's code and message, and no password")
    func missingDatabaseNamed() async throws {
        let settings = try await PostgresServer.shared.database()
        var missing = settings
        missing.database = "no_such_herald_db"
        let fixture = try HeraldFixture(endpoints: ["hook": "http://127.0.0.1:9/"],
                                        database: Self.url(missing).replacingOccurrences(of: "postgres@", with: "postgres:s3cret-pw@"))
        let status = try await HeraldCommand.run(["status"], fixture: fixture)
        #expect(status.status != 0)
        #expect(status.stderr.contains("PostgreSQL 3D000") && status.stderr.contains("no_such_herald_db"), "\(status.stderr)")
        #expect(!status.stderr.contains("s3cret-pw"), "\(status.stderr)")
    }

    @Test("four hosts starting at once on an empty database apply each migration exactly once")
    func migrationsRaceFree() async throws {
        let settings = try await PostgresServer.shared.database()
        var quiet = Logger(label: "test.migrate")
        quiet.logLevel = .warning
        let logger = quiet
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let queue = try PostgresQueue(settings: settings, logger: logger)
                    try await queue.whileConnected { _ = try await queue.enqueue([NewMessage(
                        key: nil, channel: .webhook, template: "t", recipient: Recipient(endpoint: "e"), sendAt: 0)]) }
                }
            }
            try await group.waitForAll()
        }
        let applied = try await PostgresServer.shared.query(database: settings.database,
                                                             "SELECT name, count(*) FROM herald_migrations GROUP BY name ORDER BY name")
        #expect(applied == PostgresMigrations.all.map { "\($0.name)|1" }, "\(applied)")
        #expect(try await Self.inspect(settings) { try await $0.status().count(state: .queued) } == 4)
    }

    @Test("NOTIFY: an idle worker starts a message another process enqueued at once, not at its next poll (10 s), by Herald's record")
    func notifyWakesIdleWorkers() async throws {
        let settings = try await PostgresServer.shared.database()
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        defer { Task { await receiver.stop() } }
        let fixture = try HeraldFixture(endpoints: ["hook": receiver.url("/ok")], database: Self.url(settings),
                                        topLevel: "intake: {drop_folder: off, socket: off}")
        // A poll far longer than the verdict allows: only the notification can explain a fast start.
        try fixture.folder.write("Config/herald.yaml",
                                 try String(contentsOf: fixture.folder.file("Config/herald.yaml"), encoding: .utf8)
                                     .replacingOccurrences(of: "poll_interval: 50ms", with: "poll_interval: 10s"))
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        defer { run.signal(SIGKILL) }
        // The run is idle once its first (empty) claim is behind it and it is listening.
        try await Task.sleep(for: .seconds(3))
        #expect(run.isRunning, "\(run.output().stderr)")
        var gaps: [Int64] = []
        for index in 0..<3 {
            try fixture.folder.write("one-\(index).ndjson",
                                     #"{"key": "wake-\#(index)", "channel": "webhook", "template": "alert", "to": {"endpoint": "hook"}, "data": {"n": 1}}"# + "\n")
            let enqueued = try await HeraldCommand.run(["enqueue", "one-\(index).ndjson"], fixture: fixture)
            #expect(enqueued.status == 0, "\(enqueued.stderr)")
            #expect(try await waitUntil(timeout: .seconds(30)) {
                try await Self.inspect(settings) { try await $0.message("wake-\(index)")?.attempts.count } == 1
            })
            let detail = try #require(try await Self.inspect(settings) { try await $0.message("wake-\(index)") })
            gaps.append(detail.attempts[0].startedAt - detail.createdAt)
            try await Task.sleep(for: .seconds(1))
        }
        // Herald's own record: from the enqueue's commit to the attempt's start.
        #expect(gaps.allSatisfy { $0 < 2_000 }, "enqueue to attempt start (ms): \(gaps); the poll interval is 10 s")
        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(30)) == 0)
    }
}
