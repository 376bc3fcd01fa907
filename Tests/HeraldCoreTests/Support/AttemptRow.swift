import GRDB

/// A row of the attempts table, as tests read it back.
struct AttemptRow: FetchableRecord, Decodable {
    var number: Int
    var started_at: Int64
    var duration_us: Int64
    var worker: String
    var outcome: String
    var error_code: String?
    var remote_code: String?
    var remote_text: String?
    var retry_at: Int64?
    var remote_id: String?
}
