import Foundation
import Testing
@testable import HeraldCore

/// `make run`'s configuration, started the way `make run` starts it (the example config and
/// templates, the Makefile's development values), signed into with the line `make run` prints.
@Suite("The console of make run")
struct MakeRunConsoleTests {
    /// The Makefile's `export NAME ?= value` lines: the development values `make run` runs with.
    static func makefileEnvironment() throws -> [String: String] {
        let makefile = try String(contentsOf: SupportPaths.packageRoot.appendingPathComponent("Makefile"), encoding: .utf8)
        var values: [String: String] = [:]
        for line in makefile.split(separator: "\n") where line.hasPrefix("export ") {
            let parts = line.dropFirst("export ".count).split(separator: "?=", maxSplits: 1)
            guard parts.count == 2 else { continue }
            values[parts[0].trimmingCharacters(in: .whitespaces)] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        return values
    }

    /// A copy of the project's Config/ and Templates/: what `make run` reads.
    static func exampleRoot() throws -> TemporaryFolder {
        let root = try TemporaryFolder("herald-make-run")
        for folder in ["Config", "Templates", "Sequences"] {
            try FileManager.default.copyItem(at: SupportPaths.packageRoot.appendingPathComponent(folder), to: root.file(folder))
        }
        return root
    }

    /// This process's environment without any Herald variable or test fixture secret: a new
    /// terminal's (`make test` itself exports the Makefile's development values).
    static func withoutHeraldVariables() -> [String: String] {
        ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("HERALD_") && !$0.key.hasPrefix("TEST_") && $0.key != "ADVISOR_HOOK_SECRET" }
    }

    /// What `make run` does in `root` with exactly `environment`: enqueue the examples, start the
    /// worker; returns it once its socket is served.
    static func startMakeRun(in root: TemporaryFolder, environment: [String: String]) async throws -> ChildProcess {
        let herald = SupportPaths.herald.path
        let enqueue = try ChildProcess(herald, ["enqueue", "Config/example-messages.ndjson"], environment: environment,
                                       currentDirectory: root.url, inheriting: false)
        #expect(await enqueue.wait(timeout: .seconds(60)) == 0, "\(enqueue.output().stderr)")
        let run = try ChildProcess(herald, ["run"], environment: environment, currentDirectory: root.url, inheriting: false)
        let socket = root.file("var/herald.sock").path
        guard try await waitUntil(timeout: startupTimeout, { UnixSocketProbe.isServed(socket) || !run.isRunning }), run.isRunning else {
            run.signal(SIGKILL)
            throw APIClient.ClientError.failed(-1, run.output().stderr)
        }
        return run
    }

    @Test("make run prints the console's address and token; headless Chromium signs in with exactly that and sees the overview")
    func signInWithThePrintedLine() async throws {
        var environment = try Self.makefileEnvironment()
        #expect(environment["HERALD_API_TOKEN"]?.hasPrefix("development-only") == true, "precondition: \(environment.keys.sorted())")
        // A port of its own (other suites run beside this one); `make run` uses 127.0.0.1:8470.
        environment["HERALD_HTTP_LISTEN"] = "127.0.0.1:\(try FreePort.next())"
        // Only what the Makefile sets: none of the test fixtures' variables.
        let clean = Self.withoutHeraldVariables().merging(environment) { _, new in new }

        let make = try ChildProcess("/usr/bin/make", ["-s", "-C", SupportPaths.packageRoot.path, "console-line"], environment: clean,
                                    inheriting: false)
        #expect(await make.wait(timeout: .seconds(60)) == 0, "\(make.output().stderr)")
        let line = make.output().stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let address = try #require(line.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init), "the line: \(line)")
        let token = try #require(line.split(separator: " ").last.map(String.init))
        #expect(address == "http://\(environment["HERALD_HTTP_LISTEN"]!)/console", "\(line)")
        #expect(line.contains("sign in with the development token"), "\(line)")

        let root = try Self.exampleRoot()
        let run = try await Self.startMakeRun(in: root, environment: clean)
        defer { run.signal(SIGKILL) }
        let port = try #require(Int(environment["HERALD_HTTP_LISTEN"]!.split(separator: ":").last!))
        try #require(try await waitUntil(timeout: startupTimeout) { FreePort.isListening(port) || !run.isRunning } && run.isRunning,
                     "herald run must listen on the printed address: \(run.output().stderr)")

        let browser = try ChildProcess(SupportPaths.python, [
            SupportPaths.servers.appendingPathComponent("console_browser.py").path,
            "--base", String(address.dropLast("/console".count)), "--token", token, "--screenshot", root.file("unused.png").path,
            "--only-overview",
        ])
        #expect(await browser.wait(timeout: .seconds(120)) == 0, "\(browser.output().stderr)")
        let seen = try JSONValue.parse(Data(browser.output().stdout.utf8))
        #expect(seen["before_login_title"]?.string == "Sign in · Herald")
        #expect(seen["overview_title"]?.string == "Overview · Herald", "signed in with the printed token: \(seen)")
        #expect(seen["overview_has_counts"] == .bool(true))
        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(30)) == 0, "\(run.output().stderr)")
    }
}
