import PostgresNIO

/// A PostgreSQL failure as Herald logs it: the SQLSTATE (or postgres-nio's own code for a
/// connection problem) and the server's message. postgres-nio's errors describe themselves
/// generically, so that no SQL or row data leaks through a careless log line; an operator still
/// needs "53100 could not extend file" or "28P01 password authentication failed" to act.
/// Neither the query nor bound values are kept.
public struct PostgresQueueError: Error, CustomStringConvertible {
    /// `53100`, `40P01`… for the server's errors; `connectionError`, `serverClosedConnection`… for
    /// the client's.
    public let code: String
    public let message: String
    let underlying: PSQLError

    init(_ error: PSQLError) {
        underlying = error
        if let state = error.serverInfo?[.sqlState] {
            code = state
            message = error.serverInfo?[.message] ?? "server error"
        } else {
            code = error.code.description
            message = error.underlying.map { "\($0)" } ?? "the connection to the server failed"
        }
    }

    public var description: String { "PostgreSQL \(code): \(message)" }

    /// Runs `body`, giving any postgres-nio error its code and message.
    static func describing<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PSQLError {
            throw PostgresQueueError(error)
        }
    }
}

/// The database could not be reached at start: where, and the server's or the network's words.
public struct PostgresUnreachable: Error, CustomStringConvertible {
    public let location: String
    public let reason: String
    public var description: String { "cannot connect to the queue database \(location): \(reason)" }
}
