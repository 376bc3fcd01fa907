/// `herald copy`: moves an installation's queue from one engine to another, table by table in
/// pages, into a target that holds nothing yet.
public enum QueueCopy {
    public struct TargetNotEmpty: Error, CustomStringConvertible {
        public let location: String
        public var description: String {
            "\(location) already holds a queue (messages, suppressions or other rows); copy only into an empty database, so nothing is delivered twice or mixed up"
        }
    }

    /// Copies every table; `progress` is called after each page with the table and its rows so far.
    /// Returns the rows copied per table.
    public static func copy(from source: any QueueSource, to target: any QueueTarget, targetLocation: String,
                            pageSize: Int = 5_000,
                            progress: (QueueTable, Int) -> Void = { _, _ in }) async throws -> [QueueTable: Int] {
        guard try await !target.holdsData() else { throw TargetNotEmpty(location: targetLocation) }
        var counts: [QueueTable: Int] = [:]
        for table in QueueTable.allCases {
            var after: Int64 = 0
            counts[table] = 0
            while true {
                let page = try await source.records(of: table, after: after, limit: pageSize)
                if page.records.count > 0 {
                    try await target.load(page.records)
                    counts[table, default: 0] += page.records.count
                    progress(table, counts[table, default: 0])
                }
                guard let next = page.next else { break }
                after = next
            }
        }
        try await target.finishLoad()
        return counts
    }
}
