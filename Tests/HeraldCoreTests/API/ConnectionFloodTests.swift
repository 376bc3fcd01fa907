import Foundation
import Testing
@testable import HeraldCore

/// 2,000 idle connections against a `herald run` limited to 1,024 open files: the listeners cap
/// what they hold and close idle ones, so the socket API, the templates and the drop folder
/// keep working (before: /healthz unanswerable, every template "removed", a dropped message lost).
@Suite("Connection flood", .serialized)
struct ConnectionFloodTests {
    /// curl's own measure of a request (from its start of transfer), so the verdict excludes the
    /// time a busy machine takes to start curl.
    static func healthz(_ arguments: [String]) async throws -> (status: Int, seconds: Double) {
        let child = try ChildProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-m", "5", "-w", "%{http_code} %{time_total}"] + arguments)
        _ = await child.wait(timeout: .seconds(60))
        let parts = child.output().stdout.split(separator: " ")
        return (Int(parts.first ?? "") ?? 0, Double(parts.last ?? "") ?? .infinity)
    }

    @Test("ulimit -n 1024, 2,000 idle TCP connections: /healthz on the socket answers within 1 s throughout, a dropped message is delivered, the cap is logged, idle ones are closed")
    func idleFlood() async throws {
        let folder = try TemporaryFolder()
        let receiver = try await WebhookReceiver(folder: folder)
        let port = try FreePort.next()
        let fixture = try HeraldFixture(endpoints: ["hooks": receiver.url("/ok")], topLevel: """
            intake: {socket: var/herald.sock, idle_timeout: 3s, http: {listen: "127.0.0.1:\(port)", token: "${TEST_API_TOKEN}"}}
            """, folder: folder)
        let herald = SupportPaths.herald.path
        let run = try ChildProcess("/bin/sh", ["-c", "ulimit -n 1024 && exec \"$0\" run --config \"$1\"", herald, fixture.configPath],
                                   environment: HeraldCommand.environment(), currentDirectory: fixture.folder.url)
        defer { run.signal(SIGKILL) }
        let socket = fixture.folder.file("var/herald.sock").path
        try #require(try await waitUntil(timeout: startupTimeout) { FreePort.isListening(port) && FileManager.default.fileExists(atPath: socket) },
                     "herald did not come up: \(run.output().stderr)")
        // Precondition: the limit is in force in the running process.
        let limits = try String(contentsOfFile: "/proc/\(run.pid)/limits", encoding: .utf8)
        let openFiles = limits.split(separator: "\n").first { $0.hasPrefix("Max open files") } ?? ""
        #expect(openFiles.split(separator: " ", omittingEmptySubsequences: true).dropFirst(3).first == "1024", "\(openFiles)")

        let flood = try ChildProcess(SupportPaths.python, [SupportPaths.servers.appendingPathComponent("idle_connections.py").path,
                                                           "\(port)", "2000"])
        defer { flood.signal(SIGTERM) }
        let opened = await flood.line(startingWith: "OPEN ")
        #expect(Int(opened ?? "") ?? 0 >= 1_900, "the flood opened \(opened ?? "nothing"): \(flood.output().stderr)")

        // While the flood holds its connections: a message through the drop folder, and /healthz
        // on the socket every 200 ms for 4 s.
        try fixture.folder.write("var/inbox/during.ndjson",
                                 #"{"key": "during", "channel": "webhook", "template": "alert", "to": {"endpoint": "hooks"}, "data": {"n": 1}}"# + "\n")
        var slowest = 0.0
        for _ in 0..<20 {
            let answer = try await Self.healthz(["--unix-socket", socket, "http://herald/healthz"])
            #expect(answer.status == 200)
            slowest = max(slowest, answer.seconds)
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(slowest < 1.0, "slowest /healthz on the socket: \(slowest) s")
        // Herald kept descriptors to spare: the TCP listener holds at most a quarter of 1,024.
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(run.pid)/fd").count
        #expect(descriptors < 600, "herald holds \(descriptors) descriptors of 1,024")
        #expect(try await waitUntil(timeout: .seconds(30)) { try fixture.state(ofKey: "during") == "sent" },
                "the message dropped during the flood was not delivered: \(run.output().stderr.suffix(2_000))")
        let stderr = run.output().stderr
        #expect(stderr.contains("connection limit reached"), "\(stderr.suffix(2_000))")
        #expect(!stderr.contains("template removed"), "\(stderr.suffix(2_000))")
        // The connections Herald accepted are closed after idle_timeout (3 s): the flood sees
        // most of its connections end (the rest never got past the kernel's accept queue and are
        // still retrying their handshake), and TCP answers again.
        let ended = try await waitUntil(timeout: .seconds(30)) {
            let alive = flood.output().stdout.split(separator: "\n").last.flatMap { Int($0.dropFirst("ALIVE ".count)) } ?? 2_000
            return alive < 1_500
        }
        #expect(ended, "idle connections still open: \(flood.output().stdout.split(separator: "\n").last ?? "")")
        var tcp = (status: 0, seconds: 0.0)
        let deadline = ContinuousClock.now + .seconds(30)
        repeat {
            tcp = try await Self.healthz(["http://127.0.0.1:\(port)/healthz"])
            if tcp.status == 200 { break }
            try await Task.sleep(for: .milliseconds(200))
        } while ContinuousClock.now < deadline
        #expect(tcp.status == 200, "TCP /healthz after the idle timeout: \(tcp)")
        print("connection flood: \(opened ?? "?") opened, slowest /healthz on the socket \(slowest) s, "
              + "herald held \(descriptors) descriptors, \(flood.output().stdout.split(separator: "\n").last ?? "")")
    }
}
