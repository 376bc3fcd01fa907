import Foundation
import GRDB

extension SQLiteQueue {
    public func enroll(_ enrollments: [NewEnrollment], versions: [SequenceVersion], now: Int64) async throws -> [EnrollOutcome] {
        try await write { db in try Self.insert(enrollments, versions: versions, now: now, db: db) }
    }

    /// Inserts enrollments and their versions inside the caller's transaction.
    static func insert(_ enrollments: [NewEnrollment], versions: [SequenceVersion], now: Int64, db: Database) throws -> [EnrollOutcome] {
        for version in versions {
            try db.execute(sql: """
                INSERT INTO sequence_versions (sequence, version, definition, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """, arguments: [version.sequence, version.version, version.definition, now])
        }
        let insert = try db.cachedStatement(sql: """
            INSERT INTO enrollments (key, sequence, version, recipient, email, phone, data, campaign, state, started_at,
                                     next_step, next_due, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, 0, ?, ?)
            ON CONFLICT(key) DO NOTHING
            """)
        // A key that enrolled before starts a new round only if the sequence's reenroll rule
        // allows it (how long after the earlier start), the earlier one has ended, and no step of
        // it is still queued or being sent. A statement of its own rather than an upsert: a new
        // lead, the common case, then costs a plain insert (an upsert returning its id ran at
        // 0.4 of one here, 100,000 leads).
        let restart = try db.cachedStatement(sql: """
            UPDATE enrollments SET
                sequence = ?, version = ?, recipient = ?, email = ?, phone = ?, data = ?, campaign = ?, state = 'active',
                exit_reason = NULL, started_at = ?, next_step = 0, next_due = ?, shift = 0, awaiting = NULL, awaiting_due = NULL,
                ended_at = NULL, updated_at = ?, round = round + 1
            WHERE key = ? AND state <> 'active' AND started_at <= ? - ?
              AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = enrollments.awaiting AND m.state IN ('queued', 'leased'))
            RETURNING id
            """)
        let existing = try db.cachedStatement(sql: "SELECT id FROM enrollments WHERE key = ?")
        return try enrollments.map { enrollment in
            let (email, phone) = enrollment.addresses
            try insert.execute(arguments: [
                enrollment.key, enrollment.sequence, enrollment.version, enrollment.recipient.jsonText, email, phone,
                enrollment.dataJSON, enrollment.campaign, enrollment.startedAt, enrollment.firstDue, now,
            ])
            var id: Int64? = db.changesCount > 0 ? db.lastInsertedRowID : nil
            if id == nil, let wait = enrollment.reenrollAfter {
                id = try Int64.fetchOne(restart, arguments: [
                    enrollment.sequence, enrollment.version, enrollment.recipient.jsonText, email, phone, enrollment.dataJSON,
                    enrollment.campaign, enrollment.startedAt, enrollment.firstDue, now, enrollment.key, enrollment.startedAt, wait,
                ])
            }
            guard let id else { return .duplicate(id: try Int64.fetchOne(existing, arguments: [enrollment.key]) ?? 0) }
            if let started = enrollment.started { try Self.insert([started], db: db) }
            return .enrolled(id: id)
        }
    }

    public func sequenceVersion(_ sequence: String, version: String) async throws -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT definition FROM sequence_versions WHERE sequence = ? AND version = ?",
                                arguments: [sequence, version])
        }
    }

    public func dueEnrollments(now: Int64, limit: Int) async throws -> [EnrollmentProgress] {
        try await read { db in
            // Columns read by index: a pass reads every due enrollment, and GRDB's lookup by name
            // lower-cases the name on every read.
            let statement = try db.cachedStatement(sql: """
                SELECT e.id, e.key, e.sequence, e.version, e.recipient, e.data, e.campaign, e.started_at, e.next_step, e.shift,
                       e.awaiting, e.awaiting_due, m.state, m.due_at,
                       (SELECT max(a.started_at) FROM attempts a WHERE a.message_id = m.id AND a.outcome = 'sent'), e.round
                FROM enrollments e INDEXED BY enrollments_due
                LEFT JOIN messages m ON m.id = e.awaiting
                WHERE e.state = 'active' AND e.next_due <= ?
                ORDER BY e.next_due LIMIT ?
                """)
            return try Row.fetchAll(statement, arguments: [now, limit]).map { row in
                EnrollmentProgress(
                    id: row[0], key: row[1], sequence: row[2], version: row[3], recipient: try Recipient(stored: row[4]),
                    dataJSON: row[5], campaign: row[6], startedAt: row[7], round: row[15], nextStep: row[8], shift: row[9],
                    awaiting: row[10], awaitingDue: row[11], awaitingState: (row[12] as String?).flatMap(MessageState.init(rawValue:)),
                    awaitingDueAt: row[13], awaitingSentAt: row[14])
            }
        }
    }

    public func exitEnrollments(_ selection: EnrollmentSelection, reason: String, reporting log: EventLog,
                                now: Int64) async throws -> [EnrollmentExit] {
        try await write { db in
            let rows: [Row]
            let columns = "e.id, e.key, e.sequence, e.version, e.campaign, e.recipient, m.key AS step_key, m.state AS step_state"
            switch selection {
            case .key(let key):
                rows = try Row.fetchAll(db, sql: """
                    SELECT \(columns) FROM enrollments e LEFT JOIN messages m ON m.id = e.awaiting
                    WHERE e.key = ? AND e.state = 'active'
                    """, arguments: [key])
            case .recipient(let email, let phone, let sequences):
                guard !sequences.isEmpty, email != nil || phone != nil else { return [] }
                rows = try Row.fetchAll(db, sql: """
                    SELECT \(columns) FROM enrollments e LEFT JOIN messages m ON m.id = e.awaiting
                    WHERE e.state = 'active' AND (e.email = ? OR e.phone = ?)
                      AND e.sequence IN (\(databaseQuestionMarks(count: sequences.count)))
                    """, arguments: [email?.value, phone?.value] + StatementArguments(sequences))
            }
            return try rows.map { row in
                let id: Int64 = row["id"]
                try db.execute(sql: """
                    UPDATE enrollments SET state = 'exited', exit_reason = ?, next_due = NULL, ended_at = ?, updated_at = ?
                    WHERE id = ?
                    """, arguments: [reason, now, now, id])
                try db.execute(sql: """
                    UPDATE messages SET state = 'canceled', last_error_code = 'enrollment_exited', last_error = ?, updated_at = ?
                    WHERE id = (SELECT awaiting FROM enrollments WHERE id = ?) AND state = 'queued'
                    """, arguments: ["enrollment exited: \(reason)", now, id])
                let state = (row["step_state"] as String?).flatMap(MessageState.init(rawValue:))
                let exit = EnrollmentExit(key: row["key"], sequence: row["sequence"],
                                          canceledStep: state == .queued ? row["step_key"] : nil,
                                          stepInFlight: state == .leased ? row["step_key"] : nil)
                let subject = EnrollmentSubject(key: exit.key, sequence: exit.sequence, version: row["version"],
                                                campaign: row["campaign"], recipient: try Recipient(stored: row["recipient"]))
                if let event = log.enrollmentExited(subject, reason: reason, canceledStep: exit.canceledStep,
                                                    stepInFlight: exit.stepInFlight, at: now) {
                    try Self.insert([event], db: db)
                }
                return exit
            }
        }
    }

    public func advance(_ advances: [EnrollmentAdvance], now: Int64) async throws -> [Int64] {
        let applied = try await write { db -> [Int64] in
            var applied: [Int64] = []
            let guardSQL = "WHERE id = ? AND state = 'active' AND next_step = ?"
            // Cached: a pass moves every due enrollment, and compiling each statement again cost
            // more than running it.
            func run(_ sql: String, _ arguments: StatementArguments) throws {
                try db.cachedStatement(sql: sql).execute(arguments: arguments)
            }
            for advance in advances {
                let fence: StatementArguments = [advance.id, advance.expectedStep]
                switch advance.action {
                case .queue(let step, let message, let due, let recheck, let shift):
                    // Fenced first, so a step another process queued is not queued again.
                    try run("UPDATE enrollments SET next_step = ?, next_due = ?, shift = ?, awaiting_due = ?, updated_at = ? \(guardSQL)",
                        [step + 1, recheck, shift, due, now] + fence)
                    guard db.changesCount > 0 else { continue }
                    let outcome = try Self.insert([message], now: now, db: db)
                    let messageID: Int64 = switch outcome.first {
                    case .queued(let id), .duplicate(let id): id
                    case nil: 0
                    }
                    try run("UPDATE enrollments SET awaiting = ? WHERE id = ?", [messageID, advance.id])
                    try Self.insert(advance.events.map { $0.about(message: messageID) }, db: db)
                case .wait(let until, let shift):
                    try run("UPDATE enrollments SET next_due = ?, shift = ?, updated_at = ? \(guardSQL)", [until, shift, now] + fence)
                    guard db.changesCount > 0 else { continue }
                case .complete:
                    try run("UPDATE enrollments SET state = 'completed', next_due = NULL, ended_at = ?, updated_at = ? \(guardSQL)",
                            [now, now] + fence)
                    guard db.changesCount > 0 else { continue }
                case .exit(let reason):
                    try run("UPDATE enrollments SET state = 'exited', exit_reason = ?, next_due = NULL, ended_at = ?, updated_at = ? \(guardSQL)",
                            [reason, now, now] + fence)
                    guard db.changesCount > 0 else { continue }
                    try run("""
                        UPDATE messages SET state = 'canceled', last_error_code = 'enrollment_exited', last_error = ?, updated_at = ?
                        WHERE id = (SELECT awaiting FROM enrollments WHERE id = ?) AND state = 'queued'
                        """, ["enrollment exited: \(reason)", now, advance.id])
                }
                if case .queue = advance.action {} else { try Self.insert(advance.events, db: db) }
                applied.append(advance.id)
            }
            return applied
        }
        if advances.contains(where: { if case .queue = $0.action { true } else { false } }) { waiting.announce() }
        return applied
    }
}
