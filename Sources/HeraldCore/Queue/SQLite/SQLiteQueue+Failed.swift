import Foundation
import GRDB

extension FailedFilter {
    var sql: (condition: String, arguments: StatementArguments) {
        var conditions = ["state = 'failed'"]
        var arguments: StatementArguments = []
        if let channel {
            conditions.append("channel = ?")
            arguments += [channel.rawValue]
        }
        if let campaign {
            conditions.append("campaign = ?")
            arguments += [campaign]
        }
        if let since {
            conditions.append("updated_at >= ?")
            arguments += [since]
        }
        if let error {
            // instr on lower-cased text: LIKE would read % and _ in the operator's text as wildcards.
            conditions.append("(instr(lower(coalesce(last_error, '')), ?) > 0 OR instr(lower(coalesce(last_error_code, '')), ?) > 0)")
            arguments += [error.lowercased(), error.lowercased()]
        }
        return (conditions.joined(separator: " AND "), arguments)
    }
}

extension SQLiteQueue {
    public func failed(_ filter: FailedFilter, limit: Int) async throws -> [MessageDetail] {
        let (condition, arguments) = filter.sql
        return try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT \(MessageDetail.columns) FROM messages INDEXED BY messages_state_channel
                WHERE \(condition) ORDER BY updated_at DESC, id DESC LIMIT ?
                """, arguments: arguments + [limit]).map { MessageDetail(row: $0, attempts: []) }
        }
    }

    public func failedIDs(_ filter: FailedFilter) async throws -> [Int64] {
        let (condition, arguments) = filter.sql
        return try await read { db in
            try Int64.fetchAll(db, sql: "SELECT id FROM messages WHERE \(condition) ORDER BY id", arguments: arguments)
        }
    }
}

