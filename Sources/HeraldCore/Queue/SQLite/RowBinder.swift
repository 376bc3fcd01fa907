import GRDB
import GRDBSQLite

/// One row of a cached statement bound and run through SQLite's C API, for the insert that runs
/// once per queued message. GRDB's `StatementArguments` box every value in an existential and
/// convert it back, on the writer's thread.
///
/// The row's texts are gathered in one buffer, kept from row to row, and bound in place
/// (`SQLITE_STATIC`) only while the statement runs: bound as copies, SQLite allocated for each.
/// Each `step` resets the statement and clears its bindings, so the statement goes back to
/// GRDB's cache as GRDB left it.
final class RowBinder {
    private let statement: Statement
    private var handle: OpaquePointer { statement.sqliteStatement }
    private var bytes: [UInt8] = []
    private var texts: [(index: Int32, start: Int, count: Int)] = []

    init(_ statement: Statement) {
        self.statement = statement
    }

    func bind(_ index: Int32, _ text: String?) {
        guard let text else {
            sqlite3_bind_null(handle, index)
            return
        }
        let start = bytes.count
        bytes.append(contentsOf: text.utf8)
        texts.append((index, start, bytes.count - start))
    }

    func bind(_ index: Int32, _ value: Int64) {
        sqlite3_bind_int64(handle, index, value)
    }

    /// Runs the statement to its end; throws what SQLite reported, as GRDB would.
    func step(_ db: Database) throws {
        // A byte past the texts, so an empty buffer still has an address.
        bytes.append(0)
        let code = bytes.withUnsafeBufferPointer { buffer -> Int32 in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                for text in texts {
                    // SQLITE_STATIC (nil): the bytes outlive the step, and the bindings are cleared below.
                    sqlite3_bind_text(handle, text.index, chars.baseAddress! + text.start, Int32(text.count), nil)
                }
                let code = sqlite3_step(handle)
                sqlite3_reset(handle)
                sqlite3_clear_bindings(handle)
                return code
            }
        }
        bytes.removeAll(keepingCapacity: true)
        texts.removeAll(keepingCapacity: true)
        guard code == SQLITE_DONE || code == SQLITE_ROW else {
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: db.lastErrorMessage, sql: statement.sql)
        }
    }
}
