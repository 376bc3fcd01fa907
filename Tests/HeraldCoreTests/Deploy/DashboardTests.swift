import Foundation
import Testing
@testable import HeraldCore

/// deploy/grafana/herald.json and deploy/prometheus/herald-rules.yml against a live `/metrics`:
/// every metric they query exists, and every metric Herald exports is on the dashboard.
@Suite("Dashboard and alert rules")
struct DashboardTests {
    static let deploy = SupportPaths.packageRoot.appendingPathComponent("deploy")

    /// The `herald_…` metric names an expression uses, histogram suffixes kept (they are what
    /// /metrics shows).
    static func metricNames(in text: String) -> Set<String> {
        var names = Set<String>()
        var rest = text[...]
        while let start = rest.range(of: "herald_") {
            let tail = rest[start.lowerBound...]
            let name = tail.prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            names.insert(String(name))
            rest = tail.dropFirst(name.count)
        }
        return names
    }

    @Test("promtool accepts the rules; the dashboard parses; both query only metrics a live /metrics has, and the dashboard shows every one")
    func againstLiveMetrics() async throws {
        let promtool = try ChildProcess("/usr/bin/promtool", ["check", "rules", Self.deploy.appendingPathComponent("prometheus/herald-rules.yml").path])
        #expect(await promtool.wait(timeout: .seconds(60)) == 0, "\(promtool.output().stdout)\(promtool.output().stderr)")
        #expect(promtool.output().stdout.contains("SUCCESS"))

        let dashboard = try JSONValue.parse(Data(contentsOf: Self.deploy.appendingPathComponent("grafana/herald.json")))
        guard case .array(let panels)? = dashboard["panels"] else {
            Issue.record("the dashboard has no panels")
            return
        }
        let expressions = panels.flatMap { panel -> [String] in
            guard case .array(let targets)? = panel["targets"] else { return [] }
            return targets.compactMap { $0["expr"]?.string }
        }
        #expect(expressions.count >= 7, "precondition: the dashboard's queries were found")
        let onDashboard = Set(expressions.flatMap { Self.metricNames(in: $0) })
        let rules = try String(contentsOf: Self.deploy.appendingPathComponent("prometheus/herald-rules.yml"), encoding: .utf8)
        let inRules = Self.metricNames(in: rules)
        #expect(inRules.count >= 3, "precondition: the rules' metrics were found: \(inRules)")

        // A run that has sent, retried and suppressed, so every series has appeared.
        let receiverFolder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: receiverFolder)
        let fixture = try HeraldFixture(endpoints: ["ok": receiver.url("/ok"), "down": receiver.url("/status/503")],
                                        retry: "{max_attempts: 3, initial: 1h, max: 2h}", topLevel: "intake: {drop_folder: off}")
        try await fixture.queue.suppress([Suppression(try Address("gone", channel: .webhook), reason: .manual, source: "test")])
        _ = try await fixture.queue.enqueue([
            NewMessage(key: "sent", channel: .webhook, template: "alert", recipient: Recipient(endpoint: "ok"), dataJSON: #"{"n":1}"#, sendAt: 0),
            NewMessage(key: "retried", channel: .webhook, template: "alert", recipient: Recipient(endpoint: "down"), dataJSON: #"{"n":1}"#, sendAt: 0),
            NewMessage(key: "suppressed", channel: .webhook, template: "alert", recipient: Recipient(endpoint: "gone"), dataJSON: #"{"n":1}"#, sendAt: 0),
        ])
        let run = try await SocketAPITests.start(fixture)
        defer { run.signal(SIGKILL) }
        try #require(try await waitUntil(timeout: .seconds(30)) {
            try fixture.state(ofKey: "sent") == "sent" && fixture.attempts(ofKey: "retried").count == 1
                && fixture.state(ofKey: "suppressed") == "suppressed"
        }, "precondition: one message sent, one retried, one suppressed")
        let api = try APIClient(.socket(fixture.folder.file("var/herald.sock").path))
        let response = try await api.get("/metrics")
        #expect(response.status == 200)
        let live = Set(response.body.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .compactMap { $0.split(whereSeparator: { $0 == "{" || $0 == " " }).first.map(String.init) })
        await receiver.stop()

        #expect(onDashboard.subtracting(live).isEmpty, "on the dashboard, not in /metrics: \(onDashboard.subtracting(live).sorted())")
        #expect(inRules.subtracting(live).isEmpty, "in the rules, not in /metrics: \(inRules.subtracting(live).sorted())")
        // Every family Herald exports is shown (a histogram by its _bucket or _count series).
        let families = Set(live.map { name in
            ["_bucket", "_count", "_sum"].reduce(name) { $0.hasSuffix($1) ? String($0.dropLast($1.count)) : $0 }
        }.filter { $0.hasPrefix("herald_") })
        let shown = Set(onDashboard.map { name in
            ["_bucket", "_count", "_sum"].reduce(name) { $0.hasSuffix($1) ? String($0.dropLast($1.count)) : $0 }
        })
        #expect(families.count >= 6, "precondition: /metrics had Herald's families: \(families.sorted())")
        #expect(families.subtracting(shown).isEmpty, "exported but not on the dashboard: \(families.subtracting(shown).sorted())")
    }
}
