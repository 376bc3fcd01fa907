import GRDB
import GRDBSQLite

/// One row of a cached statement bound and run through SQLite's C API, for the insert that runs
/// once per queued message. GRDB's `StatementArguments` box every value in an existential and
/// convert it back, on the writer's thread.
///
/// Each `step` resets the statement and clears its bindings, so the statement goes back to
/// GRDB's cache as GRDB left it.
struct RowBinder {
    private let statement: Statement
    private var handle: OpaquePointer { statement.sqliteStatement }

    /// SQLite copies the bytes before `bind` returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
    /// Bound for an empty string, whose UTF-8 view may have no address (never written to).
    nonisolated(unsafe) private static let emptyText: UnsafeMutablePointer<CChar> = {
        let text = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
        text.initialize(to: 0)
        return text
    }()

    init(_ statement: Statement) {
        self.statement = statement
    }

    func bind(_ index: Int32, _ text: String?) {
        guard var text else {
            sqlite3_bind_null(handle, index)
            return
        }
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                _ = sqlite3_bind_text(handle, index, chars.baseAddress ?? UnsafePointer(Self.emptyText), Int32(chars.count), Self.transient)
            }
        }
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    /// Runs the statement to its end; throws what SQLite reported, as GRDB would.
    func step(_ db: Database) throws {
        let code = sqlite3_step(handle)
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
        }
    }
}
