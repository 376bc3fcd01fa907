import Foundation
@testable import HeraldCore

/// A real PostgreSQL server for the tests: Debian's `postgresql` binaries, a cluster made with
/// `initdb` in a temporary folder, run as the unprivileged `postgres` user (PostgreSQL refuses
/// root) on 127.0.0.1 and a free port, and stopped by PID when the test process exits.
///
/// One server per test process, started by the first test that asks; each test gets a database
/// of its own (`database()`), so tests run in parallel without seeing each other's rows. A server
/// left behind by a test process that was killed is stopped by the next one.
actor PostgresServer {
    static let shared = PostgresServer()

    struct Running: Sendable {
        let port: Int
        let folder: String
        let postmaster: Int32
    }

    private var running: Running?
    /// Tests that asked while the server was starting (actor methods interleave at `await`).
    private var waiting: [CheckedContinuation<Running, any Error>]?
    private var databases = 0

    /// The folder holding Debian's server binaries (`/usr/lib/postgresql/15/bin`).
    static func binaries() throws -> String {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.compactMap(Int.init).sorted() ?? []
        guard let newest = versions.last, FileManager.default.isExecutableFile(atPath: "\(root)/\(newest)/bin/postgres") else {
            throw PostgresServerError("no PostgreSQL server under \(root) (apt-get install postgresql; make test installs it)")
        }
        return "\(root)/\(newest)/bin"
    }

    /// A fresh, empty database on the shared server, as the engine's settings.
    func database() async throws -> PostgresSettings {
        let server = try await start()
        databases += 1
        let name = "t\(getpid())_\(databases)_\(UInt32.random(in: 0...UInt32.max))"
        try await Self.psql(port: server.port, "CREATE DATABASE \(name)")
        return PostgresSettings(host: "127.0.0.1", port: server.port, username: "postgres", password: nil, database: name,
                                sslMode: .disable, poolSize: 8, notify: true)
    }

    func port() async throws -> Int { try await start().port }

    /// Runs one statement through `psql` as the superuser.
    static func psql(port: Int, database: String = "postgres", _ sql: String) async throws {
        let child = try ChildProcess("/usr/bin/psql", ["-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-d", database,
                                                       "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql], inheriting: false)
        let status = await child.wait(timeout: .seconds(60))
        guard status == 0 else { throw PostgresServerError("psql \(sql.prefix(60)): exit \(status): \(child.output().stderr)") }
    }

    private func start() async throws -> Running {
        if let running { return running }
        if waiting != nil {
            return try await withCheckedThrowingContinuation { waiting!.append($0) }
        }
        waiting = []
        do {
            let started = try await launch()
            running = started
            for waiter in waiting ?? [] { waiter.resume(returning: started) }
            waiting = nil
            return started
        } catch {
            for waiter in waiting ?? [] { waiter.resume(throwing: error) }
            waiting = nil
            throw error
        }
    }

    private func launch() async throws -> Running {
        Self.stopAbandoned()
        let bin = try Self.binaries()
        let folder = "/tmp/herald-pg-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        try "\(getpid())".write(toFile: "\(folder)/owner.pid", atomically: true, encoding: .utf8)
        let asPostgres = getuid() == 0
        if asPostgres {
            guard let user = getpwnam("postgres") else { throw PostgresServerError("no postgres user to run the server as") }
            guard chown(folder, user.pointee.pw_uid, user.pointee.pw_gid) == 0 else { throw PostgresServerError("chown \(folder) failed") }
        }
        func command(_ program: String, _ arguments: [String]) -> (String, [String]) {
            asPostgres
                ? ("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", program] + arguments)
                : (program, arguments)
        }
        let (initdb, initdbArguments) = command("\(bin)/initdb", ["-D", "\(folder)/data", "-U", "postgres", "-A", "trust",
                                                                   "--no-sync", "-E", "UTF8", "--locale=C"])
        let setup = try ChildProcess(initdb, initdbArguments, inheriting: false)
        guard await setup.wait(timeout: .seconds(120)) == 0 else { throw PostgresServerError("initdb failed: \(setup.output().stderr)") }
        let port = try FreePort.next()
        // Durability off: these databases live for one test run.
        let (postgres, arguments) = command("\(bin)/postgres", [
            "-D", "\(folder)/data", "-p", "\(port)", "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=\(folder)",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=400",
            "-c", "shared_buffers=128MB",
        ])
        let server = try ChildProcess(postgres, arguments, inheriting: false)
        let deadline = ContinuousClock.now + startupTimeout
        while !FreePort.isListening(port) {
            guard server.isRunning, ContinuousClock.now < deadline else {
                throw PostgresServerError("postgres did not start: \(server.output().stderr.suffix(2_000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Self.keep(server)
        let started = Running(port: port, folder: folder, postmaster: server.pid)
        Self.stopAtExit(started)
        return started
    }

    /// The server process lives as long as the test process.
    nonisolated(unsafe) private static var kept: [ChildProcess] = []
    private static func keep(_ server: ChildProcess) { kept.append(server) }

    nonisolated(unsafe) private static var atExit: Running?

    private static func stopAtExit(_ running: Running) {
        atExit = running
        atexit {
            guard let running = PostgresServer.atExit else { return }
            PostgresServer.stop(postmaster: running.postmaster, folder: running.folder)
        }
    }

    /// Fast shutdown (SIGINT), then the folder goes.
    static func stop(postmaster: Int32, folder: String) {
        kill(postmaster, SIGINT)
        for _ in 0..<200 where kill(postmaster, 0) == 0 { usleep(25_000) }
        if kill(postmaster, 0) == 0 { kill(postmaster, SIGKILL) }
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Servers whose test process is gone (killed before its exit handler ran).
    private static func stopAbandoned() {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: "/tmp") else { return }
        for name in names where name.hasPrefix("herald-pg-") {
            let folder = "/tmp/\(name)"
            guard let owner = (try? String(contentsOfFile: "\(folder)/owner.pid", encoding: .utf8)).flatMap({ Int32($0) }),
                  kill(owner, 0) != 0 else { continue }
            let postmaster = (try? String(contentsOfFile: "\(folder)/data/postmaster.pid", encoding: .utf8))?
                .split(separator: "\n").first.flatMap { Int32($0) }
            if let postmaster { stop(postmaster: postmaster, folder: folder) } else { try? FileManager.default.removeItem(atPath: folder) }
        }
    }
}

struct PostgresServerError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
