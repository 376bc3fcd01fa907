import Foundation
import Testing
@testable import HeraldCore

/// The console's sign-in on a real `herald run`'s TCP listener, driven with Debian's curl.
@Suite("Console sessions", .serialized)
struct ConsoleSessionTests {
    static func curl(_ arguments: [String]) async throws -> (status: Int, headers: String) {
        let folder = try TemporaryFolder()
        let headers = folder.file("headers")
        let child = try ChildProcess("/usr/bin/curl", ["-sS", "-o", "/dev/null", "-D", headers.path, "-w", "%{http_code}"] + arguments)
        _ = await child.wait(timeout: .seconds(60))
        return (Int(child.output().stdout) ?? 0, (try? String(contentsOf: headers, encoding: .utf8)) ?? "")
    }

    static func cookie(in headers: String) -> String? {
        headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: herald_session=") }
            .map { String($0.dropFirst("set-cookie: herald_session=".count).prefix { $0 != ";" }) }
    }

    @Test("a random session per login that opens the console and not /v1, ends at logout, refuses cross-origin POSTs; failed logins throttled; Secure behind https")
    func sessions() async throws {
        let port = try FreePort.next()
        let fixture = try HeraldFixture(endpoints: ["crm": "http://127.0.0.1:9/"], topLevel: """
            intake: {drop_folder: off, http: {listen: "127.0.0.1:\(port)", token: "${TEST_API_TOKEN}"}}
            """)
        let run = try HeraldCommand.start(["run"], fixture: fixture)
        defer { run.signal(SIGKILL) }
        try #require(try await waitUntil(timeout: startupTimeout) { FreePort.isListening(port) || !run.isRunning }, "\(run.output().stderr)")
        let base = "http://127.0.0.1:\(port)"
        func login(_ token: String = HeraldFixture.apiToken, _ extra: [String] = []) async throws -> (status: Int, headers: String) {
            try await Self.curl(["-X", "POST", "--data-urlencode", "token=\(token)"] + extra + ["\(base)/console/login"])
        }

        let first = try await login()
        let second = try await login()
        #expect(first.status == 303 && second.status == 303)
        let one = try #require(Self.cookie(in: first.headers), "\(first.headers)")
        let two = try #require(Self.cookie(in: second.headers), "\(second.headers)")
        #expect(one != two, "the same cookie on every login")
        #expect(one.count == 64)
        #expect(!first.headers.contains("Secure"))
        #expect(try await Self.curl(["-H", "Cookie: herald_session=\(one)", "\(base)/console"]).status == 200)
        #expect(try await Self.curl(["-H", "Cookie: herald_session=\(two)", "\(base)/console"]).status == 200)
        // The cookie opens the console only.
        #expect(try await Self.curl(["-H", "Cookie: herald_session=\(one)", "\(base)/v1/stats"]).status == 401)

        // A POST the browser marks as coming from elsewhere is refused, the cookie notwithstanding.
        let retry = "\(base)/console/messages/1/retry"
        for header in ["Origin: http://evil.example", "Origin: null", "Sec-Fetch-Site: cross-site", "Sec-Fetch-Site: same-site"] {
            let answer = try await Self.curl(["-X", "POST", "-H", "Cookie: herald_session=\(one)", "-H", header, retry])
            #expect(answer.status == 403, "\(header): \(answer.status)")
        }
        // The same POST from the console's own origin reaches the route (no message 1: 404).
        #expect(try await Self.curl(["-X", "POST", "-H", "Cookie: herald_session=\(one)", "-H", "Origin: \(base)", retry]).status == 404)
        #expect(try await Self.curl(["-X", "POST", "-H", "Cookie: herald_session=\(one)", "-H", "Sec-Fetch-Site: same-origin", retry]).status == 404)

        // Logout ends that session only.
        let out = try await Self.curl(["-X", "POST", "-H", "Cookie: herald_session=\(one)", "\(base)/console/logout"])
        #expect(out.status == 303 && out.headers.contains("Max-Age=0"), "\(out.headers)")
        #expect(try await Self.curl(["-H", "Cookie: herald_session=\(one)", "\(base)/console"]).status == 401)
        #expect(try await Self.curl(["-H", "Cookie: herald_session=\(two)", "\(base)/console"]).status == 200)

        // Behind a proxy that speaks https, the cookie is Secure.
        #expect(try await login(HeraldFixture.apiToken, ["-H", "X-Forwarded-Proto: https"]).headers.contains("; Secure"))

        // Failed logins: 10 a minute, then 429 with Retry-After, even for the right token.
        var statuses: [Int] = []
        for _ in 0..<ConsoleSessions.failuresPerMinute { statuses.append(try await login("wrong-token").status) }
        #expect(statuses.allSatisfy { $0 == 401 } && statuses.count == 10, "\(statuses)")
        let throttled = try await login()
        #expect(throttled.status == 429 && throttled.headers.lowercased().contains("retry-after: 60"), "\(throttled)")
    }

    @Test("a session expires after 12 hours")
    func expiry() {
        let sessions = ConsoleSessions()
        let now: Int64 = 1_800_000_000_000
        let id = sessions.start(now: now)
        #expect(sessions.isValid(id, now: now + ConsoleSessions.lifetime - 1))
        #expect(!sessions.isValid(id, now: now + ConsoleSessions.lifetime))
        let other = (id.first == "0" ? "1" : "0") + id.dropFirst()
        #expect(!sessions.isValid(other, now: now))
    }
}
