import Foundation
import GRDB
import Logging
@testable import HeraldCore

/// A project root in a temporary folder: a real config file, a real SQLite queue under var/.
final class HeraldFixture: @unchecked Sendable {
    let folder: TemporaryFolder
    let config: HeraldConfig
    let queue: SQLiteQueue

    static let environment = ["TEST_HOOK_SECRET": WebhookReceiver.secret, "TEST_UNSUBSCRIBE_SECRET": "test-unsubscribe-key-0123456789",
                              "TEST_SMTP_PASSWORD": "s3cret-smtp", "TEST_SMS_PASSWORD": Kannel.password,
        "TEST_TWILIO_TOKEN": SMSAPIServer.token, "TEST_API_TOKEN": apiToken]
    static let apiToken = "test-api-token-0123456789abcdef"

    /// - Parameters:
    ///   - endpoints: webhook endpoint name → URL.
    ///   - email: the body of `channels.email` (indented two spaces per level below it), or nil.
    ///   - sms, letter: the bodies of `channels.sms` and `channels.letter`, the same way.
    ///   - topLevel: more top-level YAML (`intake:` …), written before `channels:`.
    ///   - database: the config's `database:` (a `postgres://` URL runs the PostgreSQL engine;
    ///     `queue` is then an unused SQLite file, and tests look through the contract instead).
    init(endpoints: [String: String], database: String = "var/herald.sqlite", workers: Int = 8, retry: String = "{max_attempts: 3, initial: 100ms, max: 1s}",
         timeout: String = "3s", lease: String = "30s", shutdownGrace: String = "5s", email: String? = nil,
         sms: String? = nil, letter: String? = nil, topLevel: String = "", folder: TemporaryFolder? = nil) throws {
        self.folder = try folder ?? TemporaryFolder()
        var yaml = topLevel + (topLevel.isEmpty || topLevel.hasSuffix("\n") ? "" : "\n")
            + Self.yaml(endpoints: endpoints, database: database, workers: workers, retry: retry, timeout: timeout,
                        lease: lease, shutdownGrace: shutdownGrace)
        if let email {
            yaml += "  email:\n" + email.split(separator: "\n").map { "    \($0)\n" }.joined()
        }
        if let letter {
            yaml += "  letter:\n" + letter.split(separator: "\n").map { "    \($0)\n" }.joined()
        }
        if let sms {
            yaml += "  sms:\n" + sms.split(separator: "\n").map { "    \($0)\n" }.joined()
        }
        try self.folder.write("Config/herald.yaml", yaml)
        try self.folder.write("Templates/alert/manifest.yaml", "channel: webhook\n")
        try self.folder.write("Templates/alert/body.json", #"{"n": {{data.n}}, "key": "{{message.key}}"}"# + "\n")
        config = try HeraldConfig.load(from: self.folder.file("Config/herald.yaml"), environment: Self.environment)
        queue = try SQLiteQueue(path: config.postgres == nil ? config.resolve(config.databasePath).path
                                      : self.folder.file("var/not-the-queue.sqlite").path)
    }

    static func yaml(endpoints: [String: String], database: String = "var/herald.sqlite", workers: Int, retry: String,
                     timeout: String, lease: String, shutdownGrace: String) -> String {
        var text = """
            database: "\(database)"
            workers: \(workers)
            retry: \(retry)
            lease: \(lease)
            poll_interval: 50ms
            shutdown_grace: \(shutdownGrace)
            unsubscribe: {base_url: "https://crm.example.com/u", secret: "${TEST_UNSUBSCRIBE_SECRET}"}
            channels:
              webhook:
                transport: network
                connect_timeout: 1s
                timeout: \(timeout)
                endpoints:

            """
        for (name, url) in endpoints.sorted(by: { $0.key < $1.key }) {
            text += "      \(name): {url: \"\(url)\", secret: \"${TEST_HOOK_SECRET}\"}\n"
        }
        return text
    }

    /// Copies a template shipped in Templates/ into the fixture's Templates/.
    func useShippedTemplate(_ name: String) throws {
        let target = folder.file("Templates/\(name)")
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: SupportPaths.packageRoot.appendingPathComponent("Templates/\(name)"), to: target)
    }

    var configPath: String { folder.file("Config/herald.yaml").path }

    /// Enqueues `count` webhook messages to `endpoint`, keys `<prefix>-<n>`.
    @discardableResult
    func enqueueWebhooks(_ count: Int, endpoint: String, prefix: String = "k", sendAt: Int64 = Timestamp.now())
        async throws -> [EnqueueOutcome]
    {
        let messages = (0..<count).map { index in
            NewMessage(key: "\(prefix)-\(index)", channel: .webhook, template: "alert",
                       recipient: Recipient(endpoint: endpoint), dataJSON: #"{"n":\#(index)}"#, sendAt: sendAt)
        }
        var outcomes: [EnqueueOutcome] = []
        for chunk in stride(from: 0, to: messages.count, by: 500) {
            outcomes += try await queue.enqueue(Array(messages[chunk..<min(chunk + 500, messages.count)]))
        }
        return outcomes
    }

    /// Runs the dispatcher in drain mode again and again, waiting for retries to come due, until
    /// no message is queued or leased (or `timeout` passes).
    func deliverUntilSettled(workers: Int? = nil, timeout: Duration = .seconds(60)) async throws {
        let transports = CurlChannels(workers: workers ?? config.workers)
        do {
            try await deliver(through: transports, workers: workers, timeout: timeout)
        } catch {
            await transports.shutdown()
            throw error
        }
        await transports.shutdown()
    }

    /// Runs the dispatcher once in drain mode: what is due now gets one attempt.
    func deliverOnce(through transports: CurlChannels, workers: Int? = nil) async throws {
        try await dispatcher(transports: transports, workers: workers).run()
    }

    private func dispatcher(transports: CurlChannels, workers: Int?) -> Dispatcher {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return Dispatcher(
            queue: queue, adapters: ChannelAdapters.make(config, transports: transports, queue: queue, logger: logger),
            renderer: config.renderer(config.templateStore(logger: logger)),
            settings: .init(config, workers: workers, drainAndExit: true), logger: logger)
    }

    private func deliver(through transports: CurlChannels, workers: Int?, timeout: Duration) async throws {
        let dispatcher = dispatcher(transports: transports, workers: workers)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            try await dispatcher.run()
            let status = try await queue.status()
            if status.count(state: .queued) + status.count(state: .leased) == 0 { break }
            if let next = status.nextDueAt {
                try await Task.sleep(for: .milliseconds(max(10, next - Timestamp.now())))
            }
        }
    }

    func state(ofKey key: String) throws -> String? {
        try queue.readNow { db in try String.fetchOne(db, sql: "SELECT state FROM messages WHERE key = ?", arguments: [key]) }
    }

    func attempts(ofKey key: String) throws -> [AttemptRow] {
        try queue.readNow { db in
            try AttemptRow.fetchAll(db, sql: """
                SELECT a.* FROM attempts a JOIN messages m ON m.id = a.message_id WHERE m.key = ? ORDER BY a.number
                """, arguments: [key])
        }
    }

    /// Every message attempted more than once, with its attempts (number, start, duration,
    /// worker, outcome) and the lines of `log` that name it or a lease: what a failed
    /// exactly-once verdict prints, so the failure tells what happened.
    func repeatedAttempts(log: String = "") throws -> String {
        let rows = try queue.readNow { db in
            try Row.fetchAll(db, sql: """
                SELECT m.id, m.key, a.number, a.started_at, a.duration_us, a.worker, a.outcome
                FROM attempts a JOIN messages m ON m.id = a.message_id
                WHERE a.message_id IN (SELECT message_id FROM attempts GROUP BY message_id HAVING count(*) > 1)
                ORDER BY m.id, a.started_at
                """)
        }
        let ids = Set(rows.map { "message_id=\($0["id"] as Int64) " })
        let lines = rows.map { row -> String in
            let started = Timestamp.rfc3339(row["started_at"] as Int64)
            return "\(row["key"] as String? ?? "-") #\(row["number"] as Int) at \(started) "
                + "for \((row["duration_us"] as Int64) / 1_000) ms by \(row["worker"] as String): \(row["outcome"] as String)"
        }
        let logged = log.split(separator: "\n").filter { line in
            line.contains("lease") || ids.contains { line.contains($0) }
        }
        return (lines + logged.prefix(40).map(String.init)).joined(separator: "\n")
    }
}
