import Foundation
import Testing
@testable import HeraldCore

/// A newcomer's second terminal: `make run`'s configuration is running (with the Makefile's
/// development values), and every command the README shows is run in the README's order with
/// **no** Herald variable in the environment. Each must do what the README says; the one that
/// needs the secrets (`herald run`) must refuse naming each variable and its export line.
@Suite("The README's commands in a second terminal")
struct ReadmeCommandsTests {
    /// The commands in the README's code blocks, as written (comments dropped, `$ ` prompts
    /// removed), in order.
    static func readmeCommands() throws -> [String] {
        let readme = try String(contentsOf: SupportPaths.packageRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var inBlock = false
        var commands: [String] = []
        for raw in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if raw.hasPrefix("```") {
                inBlock.toggle()
                continue
            }
            guard inBlock else { continue }
            var line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("$ ") { line.removeFirst(2) }
            guard line.hasPrefix("herald ") || line.hasPrefix("curl --unix-socket") || line.hasPrefix("sudo -u herald ") else { continue }
            if let comment = line.range(of: #"\s+#\s"#, options: .regularExpression) { line = String(line[..<comment.lowerBound]) }
            commands.append(line)
        }
        return commands
    }

    /// What each README command is run as here (placeholders filled in) and what it must do.
    struct Step {
        var readme: String
        var arguments: [String]
        /// The exit status the README describes.
        var status: Int32 = 0
        /// Text the output must hold.
        var says: [String] = []
    }

    static let example = #"{"key": "lead-4711/hot-lead/1", "channel": "webhook", "template": "hot-lead-alert", "to": {"endpoint": "advisor-alerts", "name": "Sarah Jones"}, "data": {"lead": "Sarah Jones", "event": "downloaded the guide and read 3 posts"}, "send_at": "2026-11-24T14:00:00Z", "category": "transactional", "campaign": "hot-leads"}"#

    static func steps(batch: String) -> [Step] {
        [
            Step(readme: "herald enqueue messages.ndjson", arguments: ["herald", "enqueue", "messages.ndjson"], status: 1,
                 says: ["line 4: rejected to.endpoint: unknown endpoint \"nope\" (configured: advisor-alerts)",
                        "line 3: rejected not valid JSON", "enqueue: 0 queued, 2 duplicate, 4 rejected"]),
            Step(readme: "curl --unix-socket var/herald.sock -H 'Content-Type: application/json' \\",
                 arguments: ["curl", "-s", "--unix-socket", "var/herald.sock", "-H", "Content-Type: application/json",
                             "-d", "@message.json", "http://localhost/v1/messages"],
                 says: [#""status":"queued""#]),
            Step(readme: "curl --unix-socket var/herald.sock -H 'Content-Type: application/x-ndjson' -H 'Expect:' \\",
                 arguments: ["curl", "-s", "--unix-socket", "var/herald.sock", "-H", "Content-Type: application/x-ndjson", "-H", "Expect:",
                             "-X", "POST", "-T", "stream.ndjson", "http://localhost/v1/messages"],
                 says: [#"{"line":1,"status":"queued""#, #"unknown endpoint \"nope\" (configured: advisor-alerts)"#]),
            Step(readme: "herald letters list", arguments: ["herald", "letters", "list"], says: [batch, "open"]),
            Step(readme: "herald letters show 2026-11-22-000003", arguments: ["herald", "letters", "show", batch], says: ["batch:     \(batch) (open)"]),
            Step(readme: "herald letters close", arguments: ["herald", "letters", "close"], says: ["closed 1 batch"]),
            // The example config uploads nowhere: the command says what is missing.
            Step(readme: "herald letters retry-upload 2026-11-22-000003", arguments: ["herald", "letters", "retry-upload", batch], status: 1,
                 says: ["channels.letter.upload is not configured"]),
            // Without the signing key the link is a marked placeholder, not an error.
            Step(readme: "herald preview welcome-guide", arguments: ["herald", "preview", "welcome-guide"],
                 says: ["UNSIGNED-unsubscribe.secret-is-not-set"]),
            // xdg-open needs a desktop: the page is written and read back instead.
            Step(readme: "herald preview welcome-guide --part html > /tmp/w.html && xdg-open /tmp/w.html",
                 arguments: ["herald", "preview", "welcome-guide", "--part", "html"], says: ["</html>"]),
            Step(readme: "herald preview consultation-reminder", arguments: ["herald", "preview", "consultation-reminder"], says: ["segments"]),
            Step(readme: "herald preview hot-lead-alert --data lead.json --json",
                 arguments: ["herald", "preview", "hot-lead-alert", "--data", "lead.json", "--json"], says: [#""channel" : "webhook""#]),
            Step(readme: "herald templates check", arguments: ["herald", "templates", "check"], says: ["0 errors"]),
            Step(readme: "herald sequences check", arguments: ["herald", "sequences", "check"],
                 says: ["retirement-nurture: 3 steps", "0 with problems"]),
            Step(readme: "herald sequences preview retirement-nurture --start 2026-12-04T16:30:00-05:00 --timezone America/New_York",
                 arguments: ["herald", "sequences", "preview", "retirement-nurture", "--start", "2026-12-04T16:30:00-05:00",
                             "--timezone", "America/New_York"],
                 says: ["1 day-2  2026-12-09T14:30:35.000Z  Wed 2026-12-09 09:30 EST  retirement-nurture-2  email"]),
            // No one is enrolled in make run's example: the goal names the sequence and ends nothing.
            Step(readme: #"curl --unix-socket var/herald.sock -H 'Content-Type: application/json' -d '{"goal": "booked", "to": {"email": "sarah.jones@example.com"}}' http://localhost/v1/goals"#,
                 arguments: ["curl", "-s", "--unix-socket", "var/herald.sock", "-H", "Content-Type: application/json",
                             "-d", #"{"goal": "booked", "to": {"email": "sarah.jones@example.com"}}"#, "http://localhost/v1/goals"],
                 says: [#""goal":"booked""#, #""sequences":["retirement-nurture"]"#, #""exited":[]"#]),
            Step(readme: "herald status", arguments: ["herald", "status"], says: ["state", "total"]),
            Step(readme: "herald failed list [--channel C] [--campaign X] [--since 6h|2026-11-22T00:00:00Z] [--error TEXT] [--json]",
                 arguments: ["herald", "failed", "list", "--channel", "webhook", "--since", "6h", "--error", "token", "--json"],
                 says: ["readme-broken"]),
            Step(readme: "herald failed show ID|KEY", arguments: ["herald", "failed", "show", "readme-broken"], says: ["state:     failed"]),
            Step(readme: "herald failed retry ID|KEY...", arguments: ["herald", "failed", "retry", "readme-broken"], says: ["1 requeued"]),
            Step(readme: "herald failed cancel ID|KEY...", arguments: ["herald", "failed", "cancel", "readme-broken"], says: ["1 canceled"]),
            Step(readme: "herald prune --dry-run", arguments: ["herald", "prune", "--dry-run"], says: ["would remove"]),
            Step(readme: "herald prune [--json]", arguments: ["herald", "prune", "--json"], says: [#""attempts""#]),
            // The installed form of the same check: here, the project's own config.
            Step(readme: "sudo -u herald /opt/herald/bin/herald config check --config /opt/herald/Config/herald.yaml",
                 arguments: ["herald", "config", "check"],
                 says: ["Config/herald.yaml: ok", "warning:   unsubscribe.secret: environment variable HERALD_UNSUBSCRIBE_SECRET is not set (export HERALD_UNSUBSCRIBE_SECRET=...)"]),
        ]
    }

    @Test("every command in the README works copy-pasted with no Herald variable set while make run's worker runs; herald run refuses naming each variable")
    func secondTerminal() async throws {
        let steps = Self.steps(batch: "BATCH")
        #expect(try Self.readmeCommands() == steps.map(\.readme),
                "the README's commands and this test's list must match, in order (update both together)")

        let root = try MakeRunConsoleTests.exampleRoot()
        var development = try MakeRunConsoleTests.makefileEnvironment()
        development["HERALD_HTTP_LISTEN"] = "127.0.0.1:\(try FreePort.next())"
        let base = MakeRunConsoleTests.withoutHeraldVariables()
        // Exactly these reach the children (`make test` itself exports the development values).
        let secondTerminal = base
        let first = base.merging(development) { _, new in new }
        #expect(!secondTerminal.keys.contains { $0.hasPrefix("HERALD_") || $0 == "ADVISOR_HOOK_SECRET" }, "precondition: no Herald variable")
        let herald = SupportPaths.herald.path

        // The first terminal: make run's enqueue and worker.
        let run = try await MakeRunConsoleTests.startMakeRun(in: root, environment: first)
        defer { run.signal(SIGKILL) }

        // What the README's examples read, and a message that fails (a token the data lacks).
        try root.write("messages.ndjson", [
            Self.example, Self.example, "{nope",
            #"{"channel": "webhook", "template": "hot-lead-alert", "to": {"endpoint": "nope"}}"#,
            #"{"template": "hot-lead-alert", "to": {"endpoint": "advisor-alerts"}}"#,
            #"{"channel": "webhook", "template": "hot-lead-alert", "to": {"endpoint": "advisor-alerts"}, "send_at": 12}"#,
        ].joined(separator: "\n") + "\n")
        try root.write("message.json", Self.example.replacingOccurrences(of: "lead-4711/hot-lead/1", with: "readme/curl-one"))
        try root.write("stream.ndjson", Self.example.replacingOccurrences(of: "lead-4711/hot-lead/1", with: "readme/stream-1") + "\n"
                       + #"{"key": "readme/stream-2", "channel": "webhook", "template": "hot-lead-alert", "to": {"endpoint": "nope"}}"# + "\n")
        try FileManager.default.copyItem(at: root.file("Templates/hot-lead-alert/sample.json"), to: root.file("lead.json"))
        try root.write("broken.ndjson", #"{"key": "readme-broken", "channel": "webhook", "template": "hot-lead-alert", "to": {"endpoint": "advisor-alerts"}, "data": {}}"# + "\n")
        let broken = try ChildProcess(herald, ["enqueue", "broken.ndjson"], environment: secondTerminal, currentDirectory: root.url,
                                      inheriting: false)
        #expect(await broken.wait(timeout: .seconds(60)) == 0, "enqueue needs no secret: \(broken.output().stderr)")
        let queue = try SQLiteQueue(path: root.file("var/herald.sqlite").path)
        func state(_ key: String) throws -> String? {
            try queue.readNow { db in try String.fetchOne(db, sql: "SELECT state FROM messages WHERE key = ?", arguments: [key]) }
        }
        try #require(try await waitUntil(timeout: .seconds(60)) {
            try state("readme-broken") == "failed" && state("lead-4711/offer-letter/2026-q4") == "sent"
        }, "precondition: the failing message failed and the letter is in the open batch")
        let batch = try #require(try queue.readNow { db in try String.fetchOne(db, sql: "SELECT name FROM letter_batches WHERE state = 'open'") })

        for step in Self.steps(batch: batch) {
            let executable = step.arguments[0] == "herald" ? herald : "/usr/bin/curl"
            let command = try ChildProcess(executable, Array(step.arguments.dropFirst()), environment: secondTerminal,
                                           currentDirectory: root.url, inheriting: false)
            let status = await command.wait(timeout: .seconds(60))
            let output = command.output().stdout + command.output().stderr
            #expect(status == step.status, "\(step.readme): exit \(status)\n\(output)")
            for text in step.says {
                #expect(output.contains(text), "\(step.readme): expected \(text.debugDescription) in\n\(output)")
            }
            #expect(!output.contains("is not set\n") || step.arguments.contains("check"), "\(step.readme) asked for a secret:\n\(output)")
        }

        // The second terminal's `herald run`: refused, naming every variable and how to set it.
        let secondRun = try ChildProcess(herald, ["run"], environment: secondTerminal, currentDirectory: root.url, inheriting: false)
        #expect(await secondRun.wait(timeout: .seconds(60)) == 1)
        let refusal = secondRun.output().stderr
        for (path, variable) in [("unsubscribe.secret", "HERALD_UNSUBSCRIBE_SECRET"), ("intake.http.token", "HERALD_API_TOKEN"),
                                 ("channels.webhook.endpoints.advisor-alerts.secret", "ADVISOR_HOOK_SECRET")] {
            #expect(refusal.contains("\(path): environment variable \(variable) is not set"), "\(refusal)")
            #expect(refusal.contains("  export \(variable)=..."), "\(refusal)")
        }
        #expect(run.isRunning, "the first terminal's worker is untouched")
        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(30)) == 0, "\(run.output().stderr)")
    }
}
