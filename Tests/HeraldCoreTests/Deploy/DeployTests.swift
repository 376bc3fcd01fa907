import Foundation
import Testing
@testable import HeraldCore

/// deploy/: the README's install step into a scratch root, the unit checked by systemd-analyze,
/// and the service's own command line started from there and stopped by SIGTERM.
@Suite("Deployment", .serialized)
struct DeployTests {
    @Test("install.sh into a scratch root: files and modes right, systemd-analyze verify passes, ExecStart serves the API and stops cleanly on SIGTERM")
    func scratchInstall() async throws {
        let scratch = try TemporaryFolder("herald-deploy")
        let root = scratch.file("root")
        let install = try ChildProcess("/bin/bash", [SupportPaths.packageRoot.appendingPathComponent("deploy/install.sh").path, "--root", root.path],
                                       environment: ["HERALD_BINARY": SupportPaths.herald.path])
        #expect(await install.wait(timeout: .seconds(120)) == 0, "\(install.output().stdout)\(install.output().stderr)")
        #expect(install.output().stdout.contains("systemd-analyze verify"))

        let prefix = root.appendingPathComponent("opt/herald")
        let env = root.appendingPathComponent("etc/herald/herald.env")
        let unitFile = root.appendingPathComponent("etc/systemd/system/herald.service")
        func mode(_ url: URL) throws -> Int { try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as! Int }
        #expect(try mode(prefix.appendingPathComponent("bin/herald")) == 0o755)
        #expect(try mode(env) == 0o600)
        #expect(try mode(prefix.appendingPathComponent("var")) == 0o750)
        #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("Templates/welcome-guide/manifest.yaml").path))
        #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("Sequences/retirement-nurture.yaml").path))
        let bash = try String(contentsOf: root.appendingPathComponent("usr/share/bash-completion/completions/herald"), encoding: .utf8)
        #expect(bash.contains("complete") && bash.contains("enqueue"), "a bash completion naming the commands")
        let zsh = try String(contentsOf: root.appendingPathComponent("usr/share/zsh/vendor-completions/_herald"), encoding: .utf8)
        #expect(zsh.hasPrefix("#compdef herald"), "\(zsh.prefix(80))")
        #expect(FileManager.default.fileExists(atPath: prefix.appendingPathComponent("deploy/grafana/herald.json").path))
        let unit = try String(contentsOf: unitFile, encoding: .utf8)
        for line in ["User=herald", "NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=\(prefix.path)/var",
                     "EnvironmentFile=\(env.path)", "UMask=0007", "CapabilityBoundingSet="] {
            #expect(unit.contains("\n\(line)\n"), "missing \(line)")
        }

        // The check is a real one: a unit whose ExecStart is missing fails it.
        try unit.replacingOccurrences(of: "/bin/herald run", with: "/bin/no-such-herald run")
            .write(to: scratch.file("broken.service"), atomically: true, encoding: .utf8)
        let broken = try ChildProcess("/usr/bin/systemd-analyze", ["verify", scratch.file("broken.service").path])
        #expect(await broken.wait(timeout: .seconds(60)) != 0)

        // Fill in the environment file as an operator would, then run the unit's ExecStart with it.
        var secrets = try String(contentsOf: env, encoding: .utf8)
        secrets = secrets.replacingOccurrences(of: "HERALD_UNSUBSCRIBE_SECRET=\n", with: "HERALD_UNSUBSCRIBE_SECRET=scratch-unsubscribe-key-0123456789\n")
            .replacingOccurrences(of: "ADVISOR_HOOK_SECRET=\n", with: "ADVISOR_HOOK_SECRET=\(WebhookReceiver.secret)\n")
            .replacingOccurrences(of: "HERALD_API_TOKEN=\n", with: "HERALD_API_TOKEN=scratch-api-token-0123456789abcdef\n")
            // A port of its own: other suites run beside this one.
            .replacingOccurrences(of: "HERALD_HTTP_LISTEN=127.0.0.1:8470\n", with: "HERALD_HTTP_LISTEN=127.0.0.1:\(try FreePort.next())\n")
        try secrets.write(to: env, atomically: true, encoding: .utf8)
        var environment: [String: String] = [:]
        for line in secrets.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { environment[String(parts[0])] = String(parts[1]) }
        }
        let execStart = try #require(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        let command = execStart.dropFirst("ExecStart=".count).split(separator: " ").map(String.init)
        let service = try ChildProcess(command[0], Array(command.dropFirst()), environment: environment, currentDirectory: prefix)
        let socket = prefix.appendingPathComponent("var/herald.sock").path
        #expect(try await waitUntil(timeout: .seconds(20)) { UnixSocketProbe.isServed(socket) || !service.isRunning },
                "\(service.output().stderr)")
        let health = try await APIClient(.socket(socket)).get("/healthz")
        #expect(health.status == 200)
        service.signal(SIGTERM)
        #expect(await service.wait(timeout: .seconds(30)) == 0, "\(service.output().stderr)")
        #expect(!FileManager.default.fileExists(atPath: socket))
    }
}
