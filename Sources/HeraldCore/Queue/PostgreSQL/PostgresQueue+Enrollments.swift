import Foundation
import PostgresNIO

extension PostgresQueue {
    public func enroll(_ enrollments: [NewEnrollment], versions: [SequenceVersion], now: Int64) async throws -> [EnrollOutcome] {
        try await transaction { connection in try await insert(enrollments, versions: versions, now: now, on: connection) }
    }

    /// Inserts enrollments and their versions inside the caller's transaction.
    func insert(_ enrollments: [NewEnrollment], versions: [SequenceVersion], now: Int64,
                on connection: PostgresConnection) async throws -> [EnrollOutcome] {
        for version in versions {
            try await execute("""
                INSERT INTO sequence_versions (sequence, version, definition, created_at)
                VALUES (\(version.sequence), \(version.version), \(version.definition), \(now))
                ON CONFLICT DO NOTHING
                """, on: connection)
        }
        var outcomes: [EnrollOutcome] = []
        var started: [Event] = []
        for enrollment in enrollments {
            let (email, phone) = enrollment.addresses
            var id = try await value("""
                INSERT INTO enrollments (key, sequence, version, recipient, email, phone, data, campaign, state, started_at,
                                         next_step, next_due, updated_at)
                VALUES (\(enrollment.key), \(enrollment.sequence), \(enrollment.version), \(enrollment.recipient.jsonText),
                        \(email), \(phone), \(enrollment.dataJSON), \(enrollment.campaign), 'active', \(enrollment.startedAt), 0,
                        \(enrollment.firstDue), \(now))
                ON CONFLICT (key) DO NOTHING
                RETURNING id
                """, as: Int64.self, on: connection)
            // A key that enrolled before starts a new round only if the sequence's reenroll rule
            // allows it (how long after the earlier start), the earlier one has ended, and no step
            // of it is still queued or being sent. An update of its own rather than an upsert: an
            // upsert locks the existing row even when it changes nothing, and a duplicate of an
            // active enrollment would then wait on (or deadlock with) the sequencer moving it.
            if id == nil, let wait = enrollment.reenrollAfter {
                id = try await value("""
                    UPDATE enrollments SET
                        sequence = \(enrollment.sequence), version = \(enrollment.version), recipient = \(enrollment.recipient.jsonText),
                        email = \(email), phone = \(phone), data = \(enrollment.dataJSON), campaign = \(enrollment.campaign),
                        state = 'active', exit_reason = NULL, started_at = \(enrollment.startedAt), next_step = 0,
                        next_due = \(enrollment.firstDue), shift = 0, awaiting = NULL, awaiting_due = NULL, ended_at = NULL,
                        updated_at = \(now), round = round + 1
                    WHERE key = \(enrollment.key) AND state <> 'active' AND started_at <= \(enrollment.startedAt - wait)
                      AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.id = enrollments.awaiting AND m.state IN ('queued', 'leased'))
                    RETURNING id
                    """, as: Int64.self, on: connection)
            }
            if let id {
                outcomes.append(.enrolled(id: id))
                if let event = enrollment.started { started.append(event) }
            } else {
                let id = try await value("SELECT id FROM enrollments WHERE key = \(enrollment.key)", as: Int64.self, on: connection)
                outcomes.append(.duplicate(id: id ?? 0))
            }
        }
        try await record(started, on: connection)
        return outcomes
    }

    public func sequenceVersion(_ sequence: String, version: String) async throws -> String? {
        try await value("SELECT definition FROM sequence_versions WHERE sequence = \(sequence) AND version = \(version)", as: String.self)
    }

    public func dueEnrollments(now: Int64, limit: Int) async throws -> [EnrollmentProgress] {
        return try await rows("""
            SELECT e.id, e.key, e.sequence, e.version, e.recipient, e.data, e.campaign, e.started_at, e.next_step, e.shift,
                   e.awaiting, e.awaiting_due, m.state AS awaiting_state, m.due_at AS awaiting_due_at,
                   (SELECT max(a.started_at) FROM attempts a WHERE a.message_id = m.id AND a.outcome = 'sent') AS awaiting_sent_at,
                   e.round
            FROM enrollments e LEFT JOIN messages m ON m.id = e.awaiting
            WHERE e.state = 'active' AND e.next_due <= \(now)
            ORDER BY e.next_due LIMIT \(Int64(limit))
            """).map { row in
            EnrollmentProgress(
                id: try row.get("id"), key: try row.get("key"), sequence: try row.get("sequence"), version: try row.get("version"),
                recipient: try Recipient(stored: try row.get("recipient", as: String.self)),
                dataJSON: try row.get("data"), campaign: try row.get("campaign"), startedAt: try row.get("started_at"),
                round: Int(try row.get("round", as: Int32.self)),
                nextStep: Int(try row.get("next_step", as: Int32.self)), shift: try row.get("shift"),
                awaiting: try row.get("awaiting"), awaitingDue: try row.get("awaiting_due"),
                awaitingState: (try row.get("awaiting_state", as: String?.self)).flatMap(MessageState.init(rawValue:)),
                awaitingDueAt: try row.get("awaiting_due_at"), awaitingSentAt: try row.get("awaiting_sent_at"))
        }
    }

    public func exitEnrollments(_ selection: EnrollmentSelection, reason: String, reporting log: EventLog,
                                now: Int64) async throws -> [EnrollmentExit] {
        try await transaction { connection in
            let found: [PostgresRandomAccessRow]
            switch selection {
            case .key(let key):
                found = try await rows("""
                    SELECT e.id, e.key, e.sequence, e.version, e.campaign, e.recipient, m.key AS step_key, m.state AS step_state
                    FROM enrollments e LEFT JOIN messages m ON m.id = e.awaiting
                    WHERE e.key = \(key) AND e.state = 'active' FOR UPDATE OF e
                    """, on: connection)
            case .recipient(let email, let phone, let sequences):
                guard !sequences.isEmpty, email != nil || phone != nil else { return [] }
                found = try await rows("""
                    SELECT e.id, e.key, e.sequence, e.version, e.campaign, e.recipient, m.key AS step_key, m.state AS step_state
                    FROM enrollments e LEFT JOIN messages m ON m.id = e.awaiting
                    WHERE e.state = 'active' AND (e.email = \(email?.value) OR e.phone = \(phone?.value))
                      AND e.sequence = ANY(\(sequences)) FOR UPDATE OF e
                    """, on: connection)
            }
            var exits: [EnrollmentExit] = []
            var events: [Event] = []
            for row in found {
                let id: Int64 = try row.get("id")
                try await execute("""
                    UPDATE enrollments SET state = 'exited', exit_reason = \(reason), next_due = NULL, ended_at = \(now),
                           updated_at = \(now)
                    WHERE id = \(id)
                    """, on: connection)
                // A claim racing this waits on the row lock or wins it: what the update finds is
                // what happened, not what the select above saw.
                let canceled = try await value("""
                    UPDATE messages SET state = 'canceled', last_error_code = 'enrollment_exited',
                           last_error = \("enrollment exited: \(reason)"), updated_at = \(now)
                    WHERE id = (SELECT awaiting FROM enrollments WHERE id = \(id)) AND state = 'queued'
                    RETURNING key
                    """, as: String?.self, on: connection)
                let stepKey = try row.get("step_key", as: String?.self)
                let inFlight = canceled == nil && stepKey != nil
                    ? try await value("SELECT state FROM messages WHERE key = \(stepKey)", as: String.self, on: connection) == "leased"
                    : false
                let exit = EnrollmentExit(key: try row.get("key"), sequence: try row.get("sequence"),
                                          canceledStep: canceled ?? nil, stepInFlight: inFlight ? stepKey : nil)
                exits.append(exit)
                let subject = EnrollmentSubject(key: exit.key, sequence: exit.sequence, version: try row.get("version"),
                                                campaign: try row.get("campaign"),
                                                recipient: try Recipient(stored: try row.get("recipient", as: String.self)))
                if let event = log.enrollmentExited(subject, reason: reason, canceledStep: exit.canceledStep,
                                                    stepInFlight: exit.stepInFlight, at: now) {
                    events.append(event)
                }
            }
            try await record(events, on: connection)
            return exits
        }
    }

    public func advance(_ advances: [EnrollmentAdvance], now: Int64) async throws -> [Int64] {
        let applied = try await transaction { connection -> [Int64] in
            var applied: [Int64] = []
            var events: [Event] = []
            for advance in advances {
                let (id, expected) = (advance.id, Int32(advance.expectedStep))
                let moved: Int64?
                switch advance.action {
                case .queue(let step, let message, let due, let recheck, let shift):
                    // Fenced first (the row stays locked to the commit), so a step another host
                    // queued is not queued again.
                    moved = try await value("""
                        UPDATE enrollments SET next_step = \(Int32(step + 1)), next_due = \(recheck), shift = \(shift),
                               awaiting_due = \(due), updated_at = \(now)
                        WHERE id = \(id) AND state = 'active' AND next_step = \(expected) RETURNING id
                        """, as: Int64.self, on: connection)
                    guard moved != nil else { continue }
                    let outcome = try await Self.insert([message], now: now, on: connection, queue: self)
                    let messageID: Int64 = switch outcome.first {
                    case .queued(let id), .duplicate(let id): id
                    case nil: 0
                    }
                    try await execute("UPDATE enrollments SET awaiting = \(messageID) WHERE id = \(id)", on: connection)
                    events += advance.events.map { $0.about(message: messageID) }
                case .wait(let until, let shift):
                    moved = try await value("""
                        UPDATE enrollments SET next_due = \(until), shift = \(shift), updated_at = \(now)
                        WHERE id = \(id) AND state = 'active' AND next_step = \(expected) RETURNING id
                        """, as: Int64.self, on: connection)
                case .complete:
                    moved = try await value("""
                        UPDATE enrollments SET state = 'completed', next_due = NULL, ended_at = \(now), updated_at = \(now)
                        WHERE id = \(id) AND state = 'active' AND next_step = \(expected) RETURNING id
                        """, as: Int64.self, on: connection)
                case .exit(let reason):
                    moved = try await value("""
                        UPDATE enrollments SET state = 'exited', exit_reason = \(reason), next_due = NULL, ended_at = \(now),
                               updated_at = \(now)
                        WHERE id = \(id) AND state = 'active' AND next_step = \(expected) RETURNING id
                        """, as: Int64.self, on: connection)
                    if moved != nil {
                        try await execute("""
                            UPDATE messages SET state = 'canceled', last_error_code = 'enrollment_exited',
                                   last_error = \("enrollment exited: \(reason)"), updated_at = \(now)
                            WHERE id = (SELECT awaiting FROM enrollments WHERE id = \(id)) AND state = 'queued'
                            """, on: connection)
                    }
                }
                if moved != nil {
                    applied.append(id)
                    if case .queue = advance.action {} else { events += advance.events }
                }
            }
            try await record(events, on: connection)
            return applied
        }
        if advances.contains(where: { if case .queue = $0.action { true } else { false } }) { announceArrival() }
        return applied
    }
}
