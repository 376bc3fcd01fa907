import Foundation
import Testing
@testable import HeraldCore

@Suite("Config")
struct HeraldConfigTests {
    let root = URL(fileURLWithPath: "/srv/herald")
    let secret = "whsec_" + Data(repeating: 7, count: 32).base64EncodedString()

    func parse(_ yaml: String, environment: [String: String] = [:]) throws(ConfigError) -> HeraldConfig {
        try HeraldConfig.parse(yaml: yaml, root: root, environment: environment)
    }

    func webhookYAML(_ endpoint: String) -> String {
        """
        channels:
          webhook:
            endpoints:
              alerts: \(endpoint)
        """
    }

    @Test("the example config in Config/ is valid")
    func exampleConfig() throws {
        let file = SupportPaths.packageRoot.appendingPathComponent("Config/herald.yaml")
        let config = try HeraldConfig.load(from: file, environment: ["ADVISOR_HOOK_SECRET": secret, "HERALD_UNSUBSCRIBE_SECRET": "test-unsubscribe-key-0123456789"])
        #expect(config.webhook?.endpoints["advisor-alerts"]?.url.absoluteString == "http://127.0.0.1:9000/hook")
        #expect(config.webhook?.transport == .outbox)
        #expect(config.retry == RetryPolicy(maxAttempts: 8, initial: .seconds(30), maximum: .seconds(21_600)))
        #expect(config.resolve(config.databasePath) == SupportPaths.packageRoot.appendingPathComponent("var/herald.sqlite"))
        #expect(config.timezone == "America/New_York")
        #expect(config.retention == Retention(sent: .seconds(90 * 86_400), failed: .seconds(180 * 86_400)))
    }

    @Test("an unknown key is an error naming its path")
    func unknownKey() {
        #expect(throws: ConfigError.self) { try parse("workerz: 3\n" + webhookYAML("{url: \"http://x.test/\", secret: \"\(secret)\"}")) }
        do {
            _ = try parse(webhookYAML("{url: \"http://x.test/\", secret: \"\(secret)\", timout: 3s}"))
            Issue.record("expected an error")
        } catch {
            #expect(error.path == "channels.webhook.endpoints.alerts.timout")
            #expect(error.reason.hasPrefix("unknown key"))
        }
    }

    @Test("a bad value names the key and the value", arguments: [
        ("workers: lots", "workers", "expected a whole number, got \"lots\""),
        ("retry: {initial: soon}", "retry.initial", "expected a duration such as 250ms, 30s, 5m, 6h or 2d, at most 36500d, got \"soon\""),
        ("timezone: Mars/Olympus", "timezone", "unknown IANA time zone \"Mars/Olympus\""),
        ("retry: {initial: 1m, max: 10s}", "retry.max", "must not be shorter than retry.initial"),
        ("retention: {sent: 30m}", "retention.sent",
         "must be at least 1h, or off (a shorter period forgets keys a CRM may still retry)"),
        ("retention: {failed: forever}", "retention.failed", "expected a duration such as 250ms, 30s, 5m, 6h or 2d, at most 36500d, got \"forever\""),
        ("retention: {kept: 1d}", "retention.kept", "unknown key (expected one of: bounces, events, failed, sent)"),
    ])
    func badValue(line: String, path: String, reason: String) {
        do {
            _ = try parse(line + "\n" + webhookYAML("{url: \"http://x.test/\", secret: \"\(secret)\"}"))
            Issue.record("expected an error for \(line)")
        } catch {
            #expect(error.path == path)
            #expect(error.reason == reason)
        }
    }

    @Test("retention: durations or off; omitted keys keep their defaults")
    func retention() throws {
        let config = try parse("retention: {sent: 30d, failed: off}\n" + webhookYAML("{url: \"http://x.test/\", secret: \"\(secret)\"}"))
        #expect(config.retention == Retention(sent: .seconds(30 * 86_400), failed: nil))
        #expect(config.retention.summary == "sent 30d, failed kept forever, events 90d, bounces 180d")
    }

    @Test("a bad URL and a bad secret are named; the secret's value is not echoed")
    func badEndpoint() {
        do {
            _ = try parse(webhookYAML("{url: \"ftp://x.test/\", secret: \"\(secret)\"}"))
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "channels.webhook.endpoints.alerts.url: not a http/https URL (\"ftp://x.test/\")")
        }
        do {
            _ = try parse(webhookYAML("{url: \"http://x.test/\", secret: \"hunter2-top-secret\"}"))
            Issue.record("expected an error")
        } catch {
            #expect(error.path == "channels.webhook.endpoints.alerts.secret")
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test("${NAME} comes from the environment; ${NAME:-x} falls back; a secret whose variable is unset is recorded, any other missing variable is an error naming it")
    func environmentSubstitution() throws {
        let yaml = "database: ${DB_PATH:-var/default.sqlite}\n" + webhookYAML("{url: \"http://x.test/\", secret: \"${HOOK}\"}")
        let config = try parse(yaml, environment: ["HOOK": secret])
        #expect(config.webhook?.endpoints["alerts"]?.secret.exposedValue == secret)
        #expect(config.unsetSecrets.isEmpty)
        #expect(config.databasePath == "var/default.sqlite")
        #expect(try parse(yaml, environment: ["HOOK": secret, "DB_PATH": "/data/q.sqlite"]).databasePath == "/data/q.sqlite")

        // The secret unset: the config loads, the secret is unset and listed with its key.
        let withoutSecret = try parse(yaml)
        #expect(withoutSecret.webhook?.endpoints["alerts"]?.secret.isUnset == true)
        #expect(withoutSecret.unsetSecrets == [UnsetSecret(path: "channels.webhook.endpoints.alerts.secret", variable: "HOOK")])
        #expect(withoutSecret.unsetSecrets.first?.description
                == "channels.webhook.endpoints.alerts.secret: environment variable HOOK is not set (export HOOK=...)")

        // Anything but a secret still needs its variable.
        do {
            _ = try parse("database: ${DB_PATH}\n" + webhookYAML("{url: \"http://x.test/\", secret: \"\(secret)\"}"))
            Issue.record("expected an error")
        } catch {
            #expect(error.description == "database: environment variable DB_PATH is not set")
        }
    }

    @Test("the lease must outlast the longest delivery")
    func leaseLongerThanTimeout() {
        do {
            _ = try parse("lease: 10s\n" + webhookYAML("{url: \"http://x.test/\", secret: \"\(secret)\", timeout: 30s}"))
            Issue.record("expected an error")
        } catch {
            #expect(error.path == "lease")
        }
    }

    @Test("a secret never shows in a description")
    func secretIsRedacted() {
        let value = Secret("whsec_abc")
        #expect("\(value)" == "<redacted>")
        #expect(String(reflecting: value) == "<redacted>")
    }

    @Test("durations", arguments: [("250ms", 250), ("30s", 30_000), ("5m", 300_000), ("6h", 21_600_000), ("2d", 172_800_000), ("1.5s", 1_500)])
    func durations(text: String, milliseconds: Int64) {
        #expect(DurationParsing.parse(text)?.milliseconds == milliseconds)
    }
}
