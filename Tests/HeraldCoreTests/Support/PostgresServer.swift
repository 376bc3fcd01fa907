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

    /// The network namespace it runs in (nil: this one) and the addresses it listens on.
    let namespace: String?
    let listen: [String]

    init(namespace: String? = nil, listen: [String] = ["127.0.0.1"]) {
        self.namespace = namespace
        self.listen = listen
    }

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
        try await psql(port: server.port, "CREATE DATABASE \(name)")
        return PostgresSettings(host: listen[0], port: server.port, username: "postgres", password: nil, database: name,
                                sslMode: .disable, poolSize: 8, notify: true)
    }

    func port() async throws -> Int { try await start().port }

    /// One statement's result rows through `psql` (unaligned, `|` between columns).
    func query(database: String, _ sql: String) async throws -> [String] {
        let port = try await start().port
        return try await psql(port: port, database: database, sql).split(separator: "\n").map(String.init)
    }

    /// Runs one statement through `psql` as the superuser; returns what it printed.
    @discardableResult
    func psql(port: Int, database: String = "postgres", _ sql: String) async throws -> String {
        let arguments = ["-h", listen[0], "-p", "\(port)", "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql]
        let child = if let namespace {
            try ChildProcess("/usr/sbin/ip", ["netns", "exec", namespace, "/usr/bin/psql"] + arguments, inheriting: false)
        } else {
            try ChildProcess("/usr/bin/psql", arguments, inheriting: false)
        }
        let status = await child.wait(timeout: .seconds(60))
        guard status == 0 else { throw PostgresServerError("psql \(sql.prefix(60)): exit \(status): \(child.output().stderr)") }
        return child.output().stdout
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
        let namespace = namespace
        func command(_ program: String, _ arguments: [String], inNamespace: Bool = false) -> (String, [String]) {
            let user = asPostgres
                ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", program] + arguments
                : [program] + arguments
            if inNamespace, let namespace { return ("/usr/sbin/ip", ["netns", "exec", namespace] + user) }
            return (user[0], Array(user.dropFirst()))
        }
        let (initdb, initdbArguments) = command("\(bin)/initdb", ["-D", "\(folder)/data", "-U", "postgres", "-A", "trust",
                                                                   "--no-sync", "-E", "UTF8", "--locale=C"])
        let setup = try ChildProcess(initdb, initdbArguments, inheriting: false)
        guard await setup.wait(timeout: .seconds(120)) == 0 else { throw PostgresServerError("initdb failed: \(setup.output().stderr)") }
        if listen != ["127.0.0.1"] {
            // Hosts in the test's namespaces connect from their own addresses.
            let hba = "\(folder)/data/pg_hba.conf"
            try (try String(contentsOfFile: hba, encoding: .utf8) + "host all all 10.0.0.0/8 trust\n")
                .write(toFile: hba, atomically: false, encoding: .utf8)
        }
        let port = try FreePort.next()
        // Durability off: these databases live for one test run.
        let (postgres, arguments) = command("\(bin)/postgres", [
            "-D", "\(folder)/data", "-p", "\(port)", "-c", "listen_addresses=\(listen.joined(separator: ","))",
            "-c", "unix_socket_directories=\(folder)",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=400",
            "-c", "shared_buffers=128MB",
        ], inNamespace: true)
        let server = try ChildProcess(postgres, arguments, inheriting: false)
        let deadline = ContinuousClock.now + startupTimeout
        while !(try await isReady(port: port)) {
            guard server.isRunning, ContinuousClock.now < deadline else {
                throw PostgresServerError("postgres did not start: \(server.output().stderr.suffix(2_000))")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Self.keep(server)
        let postmaster = (try? String(contentsOfFile: "\(folder)/data/postmaster.pid", encoding: .utf8))?
            .split(separator: "\n").first.flatMap { Int32($0) } ?? server.pid
        let started = Running(port: port, folder: folder, postmaster: postmaster)
        Self.stopAtExit(started)
        return started
    }

    /// Whether the server accepts connections (from the namespace it runs in).
    private func isReady(port: Int) async throws -> Bool {
        guard namespace != nil else { return FreePort.isListening(port) }
        do {
            try await psql(port: port, "SELECT 1")
            return true
        } catch {
            return false
        }
    }

    /// Stops the server now (a namespace must be emptied before it is deleted).
    func stop() {
        guard let running else { return }
        Self.stop(postmaster: running.postmaster, folder: running.folder)
        Self.atExit.removeAll { $0.folder == running.folder }
        self.running = nil
    }

    /// The server process lives as long as the test process.
    nonisolated(unsafe) private static var kept: [ChildProcess] = []
    private static func keep(_ server: ChildProcess) { kept.append(server) }

    nonisolated(unsafe) private static var atExit: [Running] = []

    private static func stopAtExit(_ running: Running) {
        if atExit.isEmpty {
            atexit {
                for running in PostgresServer.atExit { PostgresServer.stop(postmaster: running.postmaster, folder: running.folder) }
            }
        }
        atExit.append(running)
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
