import Foundation
import Logging
import Testing
@testable import HeraldCore

/// Several hosts on one PostgreSQL database, for real: three network namespaces made by the test
/// (PostgreSQL and the webhook receiver in one, a `herald run` in each of the other two, each in
/// its own UTS namespace so the two hosts have different names), joined by veth pairs.
@Suite("Several hosts on PostgreSQL", .serialized)
struct SeveralHostsTests {
    /// One cluster: the network, the server in its `db` namespace, a database, the receiver.
    final class Cluster: @unchecked Sendable {
        let network: TestNetwork
        let server: PostgresServer
        let settings: PostgresSettings
        let folder: TemporaryFolder
        let receiver: WebhookReceiver
        var hosts: [ChildProcess] = []

        init() async throws {
            network = try TestNetwork()
            server = PostgresServer(namespace: network.db, listen: [network.dbFromTest, network.dbFromA, network.dbFromB])
            settings = try await server.database()
            folder = try TemporaryFolder()
            receiver = try await WebhookReceiver(folder: folder, namespace: network.db)
        }

        /// The database as host `a` or `b` reaches it.
        func url(from host: String) -> String {
            let address = host == "a" ? network.dbFromA : network.dbFromB
            return "postgres://postgres@\(address):\(settings.port)/\(settings.database)?sslmode=disable"
        }

        func hook(from host: String, _ path: String = "/ok") -> String {
            "http://\(host == "a" ? network.dbFromA : network.dbFromB):\(receiver.port)\(path)"
        }

        /// Writes host a's and host b's configs (`extra` under `channels.webhook`, `topLevel` at
        /// the top); returns the fixture (templates, folder) for host a.
        func configure(endpoints: [String] = ["hook"], workers: Int = 16, lease: String = "5s", webhook extra: String = "",
                       topLevel: String = "") throws -> HeraldFixture {
            let fixture = try HeraldFixture(
                endpoints: Dictionary(uniqueKeysWithValues: endpoints.map { ($0, hook(from: "a")) }), database: url(from: "a"),
                workers: workers, lease: lease, topLevel: "intake: {drop_folder: off, socket: off}\n" + topLevel, folder: folder)
            var text = try String(contentsOf: fixture.folder.file("Config/herald.yaml"), encoding: .utf8)
            if !extra.isEmpty {
                text = text.replacingOccurrences(of: "    transport: network\n", with: "    transport: network\n" + extra)
            }
            try fixture.folder.write("Config/host-a.yaml", text)
            try fixture.folder.write("Config/host-b.yaml", text
                .replacingOccurrences(of: network.dbFromA, with: network.dbFromB))
            return fixture
        }

        /// `herald run` as host `name` in its namespace.
        func start(_ name: String) throws -> ChildProcess {
            let namespace = name == "a" ? network.a : network.b
            let command = "hostname host-\(name) && exec \(SupportPaths.herald.path) run --config \(folder.file("Config/host-\(name).yaml").path)"
            let host = try ChildProcess("/usr/sbin/ip", ["netns", "exec", namespace, "unshare", "--uts", "sh", "-c", command],
                                        environment: HeraldCommand.environment(), currentDirectory: folder.url)
            hosts.append(host)
            return host
        }

        /// The contract over the database, from the test's namespace.
        func inspect<T>(_ body: (PostgresQueue) async throws -> T) async throws -> T {
            var logger = Logger(label: "test.inspect")
            logger.logLevel = .warning
            var direct = settings
            direct.host = network.dbFromTest
            let queue = try PostgresQueue(settings: direct, logger: logger)
            return try await queue.whileConnected { try await body(queue) }
        }

        func sql(_ statement: String) async throws -> [String] {
            try await server.query(database: settings.database, statement)
        }

        func stop() async {
            for host in hosts where host.isRunning {
                host.signal(SIGTERM)
                await host.wait(timeout: .seconds(15))
            }
            await receiver.stop()
            await server.stop()
        }
    }

    static func webhooks(_ count: Int, endpoint: (Int) -> String = { _ in "hook" }, category: MessageCategory = .marketing)
        -> [NewMessage]
    {
        (0..<count).map { index in
            NewMessage(key: "k-\(index)", channel: .webhook, template: "alert", recipient: Recipient(endpoint: endpoint(index)),
                       dataJSON: #"{"n": \#(index)}"#, sendAt: Timestamp.now(), category: category)
        }
    }

    @Test("20,000 webhooks, two hosts, one SIGKILLed mid-run: the other finishes everything after the lease expires; every key received, duplicates no more than were in flight")
    func hostKilledMidRun() async throws {
        let cluster = try await Cluster()
        // Long enough that host a's leases cannot lapse (and be taken back by host b) while the
        // test reads them on a loaded machine: with 5 s they once had, and none were seen held.
        _ = try cluster.configure(lease: "20s")
        try await cluster.inspect { queue in
            for chunk in stride(from: 0, to: 20_000, by: 2_000) {
                _ = try await queue.enqueue(Array(Self.webhooks(20_000)[chunk..<chunk + 2_000]))
            }
        }
        let a = try cluster.start("a")
        let b = try cluster.start("b")
        // Both hosts deliver, by Herald's record (attempts by each), before one is killed.
        let started = try await waitUntil(timeout: .seconds(120)) {
            let byHost = try await cluster.sql("SELECT split_part(worker, '/', 1), count(*) FROM attempts GROUP BY 1")
            return (try await cluster.inspect { try await $0.status().count(state: .sent) } >= 4_000 && byHost.count == 2)
                || !a.isRunning || !b.isRunning
        }
        #expect(started && a.isRunning && b.isRunning, "precondition: both hosts deliver: \(a.output().stderr.suffix(500)) \(b.output().stderr.suffix(500))")
        // Frozen first, so what it holds is read while nothing of it moves; then killed. Its
        // deliveries take milliseconds, so it may be frozen between a settlement and its next
        // claim, holding nothing: then it runs on a moment and is frozen again.
        var held: [[Int64]] = []
        for _ in 0..<50 where held.isEmpty {
            a.signal(SIGCONT)
            try await Task.sleep(for: .milliseconds(50))
            a.signal(SIGSTOP)
            // What host a held when it died, from the database: only these may arrive twice.
            held = try await cluster.sql("SELECT id, lease_until FROM messages WHERE state = 'leased' AND lease_owner LIKE 'host-a/%'")
                .map { $0.split(separator: "|").map { Int64($0)! } }
        }
        let sentAtKill = try await cluster.inspect { try await $0.status().count(state: .sent) }
        a.signal(SIGKILL)
        _ = await a.wait(timeout: .seconds(10))
        #expect(!held.isEmpty && sentAtKill < 20_000, "precondition: the kill came mid-run, with messages in flight (\(held.count) held, \(sentAtKill) sent); host a said: \(a.output().stderr.suffix(1_000))")

        let finished = try await waitUntil(timeout: .seconds(240)) {
            try await cluster.inspect { try await $0.status().count(state: .sent) } == 20_000 || !b.isRunning
        }
        #expect(finished, "host b finished everything: \(b.output().stderr.suffix(1_000))")
        let requests = try cluster.receiver.requests().filter { $0.path == "/ok" }
        let keys = Set(requests.compactMap { request -> String? in
            guard case .object(let body)? = try? JSONValue.parse(Data(request.body.utf8)), case .string(let key)? = body["key"] else { return nil }
            return key
        })
        #expect(keys.count == 20_000, "every key received: \(keys.count)")
        let duplicates = requests.count - Set(requests.map(\.id)).count
        #expect(duplicates <= held.count, "duplicates \(duplicates), in flight at the kill \(held.count)")
        print("several hosts: host a killed at \(sentAtKill) sent with \(held.count) in flight; \(keys.count) keys received, \(duplicates) twice")
        // Host b took host a's messages only once their leases had expired (Herald's own record).
        for row in held.prefix(200) {
            let starts = try await cluster.sql("SELECT started_at FROM attempts WHERE message_id = \(row[0]) AND worker LIKE 'host-b/%'")
                .compactMap { Int64($0) }
            #expect(starts.allSatisfy { $0 >= row[1] }, "message \(row[0]): host b started at \(starts), the lease ran to \(row[1])")
        }
        await cluster.stop()
    }

    @Test("a webhook rate limit of 100/s holds across both hosts, by the attempts' started_at")
    func rateLimitAcrossHosts() async throws {
        let cluster = try await Cluster()
        _ = try cluster.configure(webhook: "    rate: 100/s\n")
        try await cluster.inspect { _ = try await $0.enqueue(Self.webhooks(800)) }
        _ = try cluster.start("a")
        _ = try cluster.start("b")
        let done = try await waitUntil(timeout: .seconds(120)) {
            try await cluster.inspect { try await $0.status().count(state: .sent) } == 800
        }
        #expect(done, "all 800 sent")
        let times = try await cluster.sql("SELECT started_at FROM attempts ORDER BY started_at").compactMap { Int64($0) }
        let workers = try await cluster.sql("SELECT DISTINCT split_part(worker, '/', 1) FROM attempts ORDER BY 1")
        #expect(workers == ["host-a", "host-b"], "precondition: both hosts sent")
        var busiest = 0
        for (index, start) in times.enumerated() {
            busiest = max(busiest, times[index...].prefix { $0 < start + 1_000 }.count)
        }
        #expect(times.count == 800 && busiest <= 100, "busiest 1 s window of \(times.count) sends: \(busiest)")
        print("several hosts: 100/s across two hosts, busiest 1 s window \(busiest) of \(times.count) sends over \(Double((times.last ?? 0) - (times.first ?? 0)) / 1_000) s")
        await cluster.stop()
    }

    @Test("two hosts racing 200 marketing messages to 20 leads under a 3-per-7-days cap send exactly 60")
    func capAcrossHosts() async throws {
        let cluster = try await Cluster()
        let leads = (0..<20).map { "lead\($0)" }
        _ = try cluster.configure(endpoints: leads, topLevel: "policies: {frequency_caps: [{category: marketing, max: 3, per: 7d}]}\n")
        try await cluster.inspect { _ = try await $0.enqueue(Self.webhooks(200, endpoint: { leads[$0 % 20] })) }
        _ = try cluster.start("a")
        _ = try cluster.start("b")
        let settled = try await waitUntil(timeout: .seconds(120)) {
            let status = try await cluster.inspect { try await $0.status() }
            return status.count(state: .sent) + (status.deferred.first { $0.reason == "frequency_cap" }?.count ?? 0) == 200
        }
        #expect(settled, "every message sent or deferred by the cap")
        try await Task.sleep(for: .seconds(2))
        let status = try await cluster.inspect { try await $0.status() }
        #expect(status.count(state: .sent) == 60, "sent \(status.count(state: .sent))")
        let perLead = try await cluster.sql("""
            SELECT count(*) FROM messages WHERE state = 'sent' GROUP BY recipient
            """)
        #expect(perLead.count == 20 && perLead.allSatisfy { $0 == "3" }, "\(perLead)")
        let workers = try await cluster.sql("SELECT DISTINCT split_part(worker, '/', 1) FROM attempts ORDER BY 1")
        #expect(workers == ["host-a", "host-b"], "precondition: both hosts sent")
        await cluster.stop()
    }
}
