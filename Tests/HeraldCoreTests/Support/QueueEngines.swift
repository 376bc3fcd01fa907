import Foundation
import Logging
@testable import HeraldCore

/// The two engines the queue's behaviour tests run against, on real storage: an SQLite file in a
/// temporary folder, and a fresh database on a real PostgreSQL server (`PostgresServer`).
enum QueueEngine: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    var description: String { rawValue }

    /// Runs `body` with `count` queue instances over one store — as many processes (or hosts)
    /// sharing it: separate SQLite connections to one file, separate connection pools to one
    /// database.
    func withQueues(_ count: Int = 1, _ body: ([any MessageQueue]) async throws -> Void) async throws {
        var logger = Logger(label: "test.queue")
        logger.logLevel = .warning
        switch self {
        case .sqlite:
            let folder = try TemporaryFolder()
            let path = folder.file("queue.sqlite").path
            try await body(try (0..<count).map { _ in try SQLiteQueue(path: path, logger: logger) })
        case .postgres:
            let settings = try await PostgresServer.shared.database()
            let queues = try (0..<count).map { _ in try PostgresQueue(settings: settings, logger: logger) }
            try await Self.connected(queues[...], body: { try await body(queues) })
        }
    }

    /// One queue.
    func withQueue(_ body: (any MessageQueue) async throws -> Void) async throws {
        try await withQueues(1) { try await body($0[0]) }
    }

    private static func connected(_ queues: ArraySlice<PostgresQueue>, body: () async throws -> Void) async throws {
        guard let first = queues.first else { return try await body() }
        try await first.whileConnected { try await connected(queues.dropFirst(), body: body) }
    }
}
