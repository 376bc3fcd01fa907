import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The engine for several hosts: the queue in one PostgreSQL database, through postgres-nio (a
/// pool of connections per process, every query async).
///
/// What SQLite gets from its single writer, this engine gets from PostgreSQL's locks: claims
/// take rows with `FOR UPDATE SKIP LOCKED` (two hosts never take one message, and neither waits
/// for the other), rate schedules are row-locked while one process advances them, frequency caps
/// count a recipient's contacts under an advisory transaction lock on that recipient, and letter
/// batches open under one advisory lock. Ids come from sequences.
///
/// Use it inside `whileConnected`, which runs the connection pool and applies the migrations.
public final class PostgresQueue: MessageQueue {
    let client: PostgresClient
    let settings: PostgresSettings
    let logger: Logger
    /// Handed to postgres-nio with each query: its own notes (a query queued while the pool
    /// starts, say) are below what an operator needs; every failure reaches Herald as an error.
    let queryLogger: Logger
    /// Idle dispatchers waiting for `arrivals()`.
    private let waiting = Arrivals()
    /// Messages this process inserted since it last refreshed the table's statistics.
    private let insertedSinceAnalyze = Atomic<Int>(0)

    /// After this many inserts a process runs `ANALYZE messages` (see `noteInserted`).
    static let analyzeEvery = 5_000

    /// The LISTEN/NOTIFY channel on which enqueues announce new work (once per batch).
    static let arrivalsChannel = "herald_arrivals"

    public init(settings: PostgresSettings, logger: Logger) throws {
        self.settings = settings
        self.logger = logger
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .error)
        queryLogger = quiet
        let tls: PostgresClient.Configuration.TLS
        switch settings.sslMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(Self.tlsConfiguration(verify: false))
        case .require: tls = .require(Self.tlsConfiguration(verify: false))
        case .verifyFull: tls = .require(Self.tlsConfiguration(verify: true))
        }
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username,
            password: settings.password?.exposedValue, database: settings.database, tls: tls)
        configuration.options.maximumConnections = settings.poolSize
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = [("application_name", "herald")]
        // The pool's own notes (a query queued while it starts, a connection retried) are below
        // what an operator needs: a failure that matters reaches Herald as an error.
        client = PostgresClient(configuration: configuration, backgroundLogger: queryLogger)
    }

    /// One connection, made and closed before the pool starts: a wrong address, database or
    /// password is reported at once with the server's own words, instead of after the pool has
    /// retried for a minute.
    private func checkReachable() async throws {
        let connectionTLS: PostgresConnection.Configuration.TLS = switch settings.sslMode {
        case .disable: .disable
        case .prefer: .prefer(try NIOSSLContext(configuration: Self.tlsConfiguration(verify: false)))
        case .require: .require(try NIOSSLContext(configuration: Self.tlsConfiguration(verify: false)))
        case .verifyFull: .require(try NIOSSLContext(configuration: Self.tlsConfiguration(verify: true)))
        }
        var configuration = PostgresConnection.Configuration(
            host: settings.host, port: settings.port, username: settings.username,
            password: settings.password?.exposedValue, database: settings.database, tls: connectionTLS)
        configuration.options.connectTimeout = .seconds(10)
        do {
            let connection = try await PostgresQueueError.describing {
                try await PostgresConnection.connect(configuration: configuration, id: 0, logger: queryLogger)
            }
            try? await connection.close()
        } catch let error as PostgresQueueError {
            throw PostgresUnreachable(location: settings.location, reason: error.description)
        } catch {
            throw PostgresUnreachable(location: settings.location, reason: "\(error)")
        }
    }

    private static func tlsConfiguration(verify: Bool) -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if !verify { tls.certificateVerification = .none }
        return tls
    }

    /// Runs the connection pool while `body` runs, after applying the migrations (under an
    /// advisory lock, so hosts starting together apply each one once).
    public func whileConnected<T>(_ body: () async throws -> T) async throws -> T {
        try await checkReachable()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.client.run() }
            defer { group.cancelAll() }
            try await PostgresMigrations.apply(client, logger: logger, queryLogger: queryLogger)
            return try await body()
        }
    }

    public var location: String { settings.location }

    public var services: [any Service] {
        settings.notify ? [ArrivalsListener(queue: self)] : []
    }

    public func arrivals() -> AsyncStream<Void> { waiting.stream() }

    /// Refreshes the planner's statistics after a bulk intake. Without them (a table filled
    /// faster than autovacuum's next look, a first import) PostgreSQL estimates a handful of queued
    /// rows and sorts all of them for every claim instead of walking the due index and stopping at
    /// the LIMIT: measured on 100,000 fresh rows, every claim sorted the whole backlog.
    func noteInserted(_ count: Int) async {
        guard count > 0 else { return }
        let total = insertedSinceAnalyze.add(count, ordering: .relaxed).newValue
        guard total >= Self.analyzeEvery,
              insertedSinceAnalyze.compareExchange(expected: total, desired: 0, ordering: .relaxed).exchanged else { return }
        do {
            try await execute("ANALYZE messages")
        } catch {
            logger.warning("could not refresh the queue's statistics (ANALYZE messages)",
                           metadata: ["error": "\(error)"])
        }
    }

    /// Wakes every `arrivals()` stream of this process.
    func announceArrival() { waiting.announce() }

    public func ping() async throws {
        try await execute("SELECT 1")
    }

    /// A lost or refused connection, a full disk, a server shutting down, a deadlock or lock
    /// timeout: each may pass.
    public func isPassing(_ error: any Error) -> Bool {
        guard let error = (error as? PostgresQueueError)?.underlying ?? (error as? PSQLError) else { return false }
        switch error.code {
        case .serverClosedConnection, .connectionError, .uncleanShutdown, .clientClosedConnection:
            return true
        case .server:
            guard let state = error.serverInfo?[.sqlState] else { return false }
            // 08 connection, 53 insufficient resources (53100 disk full), 57P0x shutdown,
            // 40001 serialization, 40P01 deadlock, 55P03 lock not available.
            return state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57P0")
                || ["40001", "40P01", "55P03"].contains(state)
        default:
            return false
        }
    }

    /// Runs `body` in one transaction on one pooled connection.
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await PostgresQueueError.describing {
            try await client.withTransaction(logger: queryLogger) { connection in try await body(connection) }
        }
    }

    /// Every row of `query`, random access by column name.
    func rows(_ query: PostgresQuery, on connection: PostgresConnection? = nil) async throws -> [PostgresRandomAccessRow] {
        try await PostgresQueueError.describing {
            let sequence = if let connection {
                try await connection.query(query, logger: queryLogger)
            } else {
                try await client.query(query, logger: queryLogger)
            }
            return try await sequence.collect().map { $0.makeRandomAccess() }
        }
    }

    /// Runs `query` for its effect.
    func execute(_ query: PostgresQuery, on connection: PostgresConnection? = nil) async throws {
        _ = try await rows(query, on: connection)
    }

    /// The first column of the first row, if any.
    func value<T: PostgresDecodable>(_ query: PostgresQuery, as type: T.Type = T.self,
                                     on connection: PostgresConnection? = nil) async throws -> T? {
        guard let row = try await rows(query, on: connection).first else { return nil }
        return try row[0].decode(T.self)
    }

    /// The JSON text of `rows`, for `jsonb_to_recordset`: one parameter carries a whole batch,
    /// NULLs included (postgres-nio's arrays cannot hold them).
    static func recordset(_ rows: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(rows), as: UTF8.self)
    }
}

extension PostgresRandomAccessRow {
    func get<T: PostgresDecodable>(_ column: String, as type: T.Type = T.self) throws -> T {
        try self[column].decode(T.self)
    }
}

/// Holds one connection LISTENing for `herald_arrivals` and wakes this process's idle
/// dispatchers when another process (or this one) enqueues. A lost connection is taken up again;
/// polling covers the gap.
struct ArrivalsListener: Service, CustomStringConvertible {
    let queue: PostgresQueue

    var description: String { "ArrivalsListener" }

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await PostgresQueueError.describing {
                        try await queue.client.withConnection { connection in
                            try await connection.listen(on: PostgresQueue.arrivalsChannel) { notifications in
                                for try await _ in notifications { queue.announceArrival() }
                            }
                        }
                    }
                } catch is CancellationError {
                    return
                } catch {
                    if Task.isCancelled { return }
                    queue.logger.warning("LISTEN connection lost; idle workers poll until it is back",
                                         metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
