import GRDB
@testable import HeraldCore

/// Tests look into the SQLite file directly to check what the queue wrote (and, rarely, to set
/// up a state no command makes). Blocking: only for test bodies, never for code under test.
extension SQLiteQueue {
    func readNow<T>(_ value: (Database) throws -> T) throws -> T {
        try pool.read(value)
    }

    func writeNow<T>(_ updates: (Database) throws -> T) throws -> T {
        try pool.write(updates)
    }
}
