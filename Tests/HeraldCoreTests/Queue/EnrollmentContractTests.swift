import Foundation
import Testing
@testable import HeraldCore

/// The queue's side of sequences, on both engines: enrollments idempotent by key, each move
/// fenced on the step it expects (two processes moving one lead queue its step once), an exit
/// canceling the step still queued.
@Suite("Enrollments in the queue")
struct EnrollmentContractTests {
    static func enrollment(_ key: String, at now: Int64) -> NewEnrollment {
        NewEnrollment(key: key, sequence: "drip", version: "v1", recipient: Recipient(email: "\(key)@example.com"),
                      dataJSON: #"{"n":1}"#, campaign: "c", startedAt: now, firstDue: now + 1_000)
    }

    static func step(_ key: String, _ name: String, at due: Int64) -> NewMessage {
        NewMessage(key: "\(key)/\(name)", channel: .email, template: "t", recipient: Recipient(email: "\(key)@example.com"), sendAt: due)
    }

    @Test("enroll is idempotent by key and keeps each version's text once; due enrollments come soonest first with their last step",
          arguments: QueueEngine.allCases)
    func enrollAndRead(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            let version = SequenceVersion(sequence: "drip", version: "v1", definition: "steps: []")
            let first = try await queue.enroll([Self.enrollment("a", at: now), Self.enrollment("b", at: now - 500)], versions: [version], now: now)
            #expect(first.count == 2 && first.allSatisfy { if case .enrolled = $0 { true } else { false } })
            let again = try await queue.enroll([Self.enrollment("a", at: now)], versions: [SequenceVersion(sequence: "drip", version: "v1", definition: "changed")], now: now)
            guard case .enrolled(let id) = first[0] else { Issue.record("not enrolled"); return }
            #expect(again == [.duplicate(id: id)])
            #expect(try await queue.sequenceVersion("drip", version: "v1") == "steps: []", "a kept version is never replaced")
            #expect(try await queue.dueEnrollments(now: now, limit: 10).isEmpty, "none due before its first step")
            let due = try await queue.dueEnrollments(now: now + 1_000, limit: 10)
            #expect(due.map(\.key) == ["b", "a"])
            #expect(due.first?.recipient.email == "b@example.com" && due.first?.nextStep == 0 && due.first?.awaiting == nil)
        }
    }

    @Test("a dropped file's batch enrolls its leads in the same transaction as its messages; a line read again after a crash is a duplicate; the file's record counts both",
          arguments: QueueEngine.allCases)
    func dropFolderBatch(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            let file = try await queue.intakeFile(name: "leads.ndjson", identity: "8:43:10:1.5", now: now).id
            let version = SequenceVersion(sequence: "drip", version: "v1", definition: "steps: []")
            let message = NewMessage(key: "m-1", channel: .email, template: "t", recipient: Recipient(email: "m@example.com"), sendAt: now)
            _ = try await queue.record(IntakeBatch(file: file, through: 3, messages: [message], rejections: [],
                                                   enrollments: [Self.enrollment("a", at: now), Self.enrollment("b", at: now)],
                                                   versions: [version]), now: now)
            let resumed = try await queue.intakeFile(name: "leads.ndjson", identity: "8:43:10:1.5", now: now)
            #expect(resumed.position == 3 && resumed.queued == 1 && resumed.enrolled == 2 && resumed.duplicates == 0)
            _ = try await queue.record(IntakeBatch(file: file, through: 4, messages: [], rejections: [],
                                                   enrollments: [Self.enrollment("b", at: now)], versions: [version]), now: now)
            let after = try await queue.intakeFile(name: "leads.ndjson", identity: "8:43:10:1.5", now: now)
            #expect(after.position == 4 && after.enrolled == 2 && after.duplicates == 1)
            #expect(try await queue.dueEnrollments(now: now + 1_000, limit: 10).map(\.key).sorted() == ["a", "b"])
            #expect(try await queue.sequenceVersion("drip", version: "v1") == "steps: []")
        }
    }

    @Test("two instances moving one enrollment from the same step queue its message once; an exit cancels the step still queued",
          arguments: QueueEngine.allCases)
    func fencedMoves(engine: QueueEngine) async throws {
        try await engine.withQueues(2) { queues in
            let now = Timestamp.now()
            _ = try await queues[0].enroll([Self.enrollment("lead", at: now)], versions: [], now: now)
            let progress = try #require(try await queues[0].dueEnrollments(now: now + 1_000, limit: 1).first)
            let move = EnrollmentAdvance(id: progress.id, expectedStep: 0,
                                         action: .queue(step: 0, message: Self.step("lead", "day-2", at: now + 1_000),
                                                        due: now + 1_000, recheck: now + 5_000, shift: 0))
            let applied = try await withThrowingTaskGroup(of: [Int64].self) { group in
                for queue in queues { group.addTask { try await queue.advance([move], now: now + 1_000) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(applied == [progress.id], "exactly one of the two moves applies")
            #expect(try await queues[1].status(now: now + 1_000).count(state: .queued) == 1, "one step message")
            let after = try #require(try await queues[1].dueEnrollments(now: now + 5_000, limit: 1).first)
            #expect(after.nextStep == 1 && after.awaiting != nil && after.awaitingState == .queued && after.awaitingDue == now + 1_000)

            // A stale move (still expecting step 0) changes nothing.
            #expect(try await queues[1].advance([EnrollmentAdvance(id: progress.id, expectedStep: 0, action: .complete)], now: now + 5_000).isEmpty)
            // The exit: the enrollment ends and its queued step is canceled with it.
            #expect(try await queues[1].advance([EnrollmentAdvance(id: progress.id, expectedStep: 1, action: .exit(reason: "booked"))],
                                                now: now + 6_000) == [progress.id])
            #expect(try await queues[0].message("lead/day-2")?.state == .canceled)
            #expect(try await queues[0].dueEnrollments(now: now + 60_000, limit: 10).isEmpty, "an exited enrollment is never due")
        }
    }

    @Test("a migration moves active enrollments fenced on their version and step, cancels a removed step's queued message, keeps the new version's text; listings page by id",
          arguments: QueueEngine.allCases)
    func migrateEnrollments(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            _ = try await queue.enroll(["a", "b", "c"].map { Self.enrollment($0, at: now) }, versions: [], now: now)
            let due = try await queue.dueEnrollments(now: now + 1_000, limit: 10)
            let moves = due.map { progress in
                EnrollmentAdvance(id: progress.id, expectedStep: 0,
                                  action: .queue(step: 0, message: Self.step(progress.key, "day-2", at: now + 1_000), due: now + 1_000,
                                                 recheck: now + 5_000, shift: 0))
            }
            #expect(try await queue.advance(moves, now: now + 1_000).count == 3)
            let listed = try await queue.enrollments(EnrollmentFilter(sequence: "drip", state: .active, versionOtherThan: "v2"), limit: 2)
            #expect(listed.map(\.key) == ["a", "b"] && listed.allSatisfy { $0.nextStep == 1 && $0.awaitingState == .queued })
            let rest = try await queue.enrollments(EnrollmentFilter(sequence: "drip", after: listed[1].id), limit: 10)
            #expect(rest.map(\.key) == ["c"])
            #expect(try await queue.enrollments(EnrollmentFilter(versionOtherThan: "v1"), limit: 10).isEmpty)

            let v2 = SequenceVersion(sequence: "drip", version: "v2", definition: "steps: [edited]")
            let moved = try await queue.migrate([
                EnrollmentMove(id: listed[0].id, fromVersion: "v1", fromStep: 1, toStep: 0, cancelAwaiting: true),
                EnrollmentMove(id: listed[1].id, fromVersion: "v1", fromStep: 1, toStep: 2, cancelAwaiting: false),
                // Planned from a step it has moved past: left alone.
                EnrollmentMove(id: rest[0].id, fromVersion: "v1", fromStep: 0, toStep: 3, cancelAwaiting: true),
            ], to: v2, now: now + 2_000)
            #expect(moved == [listed[0].id, listed[1].id])
            let a = try #require(try await queue.enrollment(key: "a"))
            #expect(a.version == "v2" && a.nextStep == 0 && a.nextDue == now + 2_000 && a.awaitingState == .canceled)
            #expect(try await queue.message("a/day-2")?.lastErrorCode == "step_removed")
            let b = try #require(try await queue.enrollment(key: "b"))
            #expect(b.version == "v2" && b.nextStep == 2 && b.awaitingState == .queued)
            let c = try #require(try await queue.enrollment(key: "c"))
            #expect(c.version == "v1" && c.nextStep == 1 && c.awaitingState == .queued)
            #expect(try await queue.sequenceVersion("drip", version: "v2") == "steps: [edited]")
            #expect(try await queue.enrollment(key: "nobody") == nil)
        }
    }

    @Test("a step being sent when its enrollment exits goes out if that attempt succeeds, and is canceled whichever way it comes back to the queue (a transient failure, a deferral, an expired lease)",
          arguments: QueueEngine.allCases)
    func exitWhileLeased(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            let leads = ["sent", "retried", "deferred", "expired"]
            _ = try await queue.enroll(leads.map { Self.enrollment($0, at: now) }, versions: [], now: now)
            let due = try await queue.dueEnrollments(now: now + 1_000, limit: 10)
            let moves = due.map { progress in
                EnrollmentAdvance(id: progress.id, expectedStep: 0,
                                  action: .queue(step: 0, message: Self.step(progress.key, "day-2", at: now + 1_000), due: now + 1_000,
                                                 recheck: now + 5_000, shift: 0))
            }
            #expect(try await queue.advance(moves, now: now + 1_000).count == 4)
            let owner = LeaseOwner(host: "host-other", pid: 4242, nonce: "x")
            let claimed = try await queue.claim(limit: 10, owner: owner, lease: .seconds(30), channels: [.email], now: now + 1_000)
            try #require(claimed.messages.count == 4, "precondition: every step is leased at the exit")
            var exits: [String: EnrollmentExit] = [:]
            for lead in leads {
                exits[lead] = try await queue.exitEnrollments(.key(lead), reason: "booked", reporting: .off, now: now + 2_000).first
            }
            #expect(leads.allSatisfy { exits[$0]?.stepInFlight == "\($0)/day-2" && exits[$0]?.canceledStep == nil }, "\(exits)")

            let byKey = Dictionary(uniqueKeysWithValues: claimed.messages.map { ($0.key!, $0) })
            func attempt(_ key: String, _ outcome: DeliveryAttempt.Outcome) -> DeliveryAttempt {
                DeliveryAttempt(messageID: byKey[key]!.id, number: 1, startedAt: now + 1_500, durationMicroseconds: 5, worker: "\(owner)",
                                outcome: outcome, errorCode: outcome == .sent ? nil : "smtp_reply", remoteCode: outcome == .sent ? "250" : "451",
                                remoteText: nil, retryAt: outcome == .sent ? nil : now + 3_000)
            }
            let lost = try await queue.settle([
                .sent(attempt("sent/day-2", .sent)),
                .retry(attempt("retried/day-2", .transient), lastError: "451 try later"),
                .deferred(messageID: byKey["deferred/day-2"]!.id, Deferral(reason: .quietHours, until: now + 3_000)),
            ], events: [], owner: owner, now: now + 2_500)
            #expect(lost.isEmpty)
            // The fourth lease runs out; a claim on another host takes it back.
            let later = try await queue.claim(limit: 10, owner: LeaseOwner(host: "host-b", pid: 1, nonce: "y"), lease: .seconds(30),
                                              channels: [.email], now: now + 40_000)
            #expect(later.messages.isEmpty, "nothing of an exited enrollment is handed out again: \(later.messages.map(\.key))")
            for (lead, expected) in [("sent", MessageState.sent), ("retried", .canceled), ("deferred", .canceled), ("expired", .canceled)] {
                let message = try await queue.message("\(lead)/day-2")
                #expect(message?.state == expected, "\(lead): \(message?.state.rawValue ?? "-")")
                if expected == .canceled {
                    #expect(message?.lastErrorCode == "enrollment_exited" && message?.lastError == "enrollment exited: booked")
                }
            }
        }
    }

    @Test("an exit by key or by recipient and sequence ends the enrollment and cancels its queued step in one transaction; a leased step is reported in flight",
          arguments: QueueEngine.allCases)
    func exits(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            _ = try await queue.enroll(["a", "b", "c"].map { Self.enrollment($0, at: now) }, versions: [], now: now)
            let due = try await queue.dueEnrollments(now: now + 1_000, limit: 10)
            try #require(due.count == 3)
            let moves = due.map { progress in
                EnrollmentAdvance(id: progress.id, expectedStep: 0,
                                  action: .queue(step: 0, message: Self.step(progress.key, "day-2", at: now + 1_000), due: now + 1_000,
                                                 recheck: now + 9_000, shift: 0))
            }
            #expect(try await queue.advance(moves, now: now + 1_000).count == 3)
            // "b"'s step is being sent.
            let claimed = try await queue.claim(limit: 3, owner: QueueContractTests.owner, lease: .seconds(60), channels: [.email], now: now + 1_000)
            try #require(claimed.messages.count == 3)
            for message in claimed.messages where message.key != "b/day-2" {
                _ = try await queue.settle([.release(messageID: message.id)], owner: QueueContractTests.owner, now: now + 1_000)
            }

            let byKey = try await queue.exitEnrollments(.key("a"), reason: "converted", reporting: .off, now: now + 2_000)
            #expect(byKey == [EnrollmentExit(key: "a", sequence: "drip", canceledStep: "a/day-2", stepInFlight: nil)])
            #expect(try await queue.message("a/day-2")?.state == .canceled)
            #expect(try await queue.exitEnrollments(.key("a"), reason: "converted", reporting: .off, now: now + 2_000).isEmpty,
                    "an ended enrollment is not ended again")

            let other = try await queue.exitEnrollments(.recipient(email: try Address("C@Example.com", channel: .email), phone: nil,
                                                                   sequences: ["another"]), reason: "booked", reporting: .off, now: now + 2_000)
            #expect(other.isEmpty, "a goal another sequence names leaves this one be")
            let byRecipient = try await queue.exitEnrollments(.recipient(email: try Address("B@Example.com ", channel: .email), phone: nil,
                                                                         sequences: ["drip"]), reason: "booked", reporting: .off, now: now + 2_000)
            #expect(byRecipient == [EnrollmentExit(key: "b", sequence: "drip", canceledStep: nil, stepInFlight: "b/day-2")])
            #expect(try await queue.message("b/day-2")?.state == .leased, "a step being sent is not taken from its worker")
            #expect(try await queue.message("c/day-2")?.state == .queued)
            #expect(try await queue.dueEnrollments(now: now + 60_000, limit: 10).map(\.key) == ["c"])
        }
    }

    @Test("each change of an enrollment records its event in the change's transaction: started only for a new enrollment, a step with the id of the message it queued, exited with what it canceled, completed; all fit the published schema",
          arguments: QueueEngine.allCases)
    func enrollmentEvents(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let log = EventLog(types: Set(EventType.allCases))
            let now = Timestamp.now()
            func enrollment(_ key: String) -> NewEnrollment {
                var enrollment = Self.enrollment(key, at: now)
                enrollment.started = log.enrollmentStarted(EnrollmentSubject(enrollment), firstDue: enrollment.firstDue, at: now)
                return enrollment
            }
            _ = try await queue.enroll([enrollment("a"), enrollment("b")], versions: [], now: now)
            _ = try await queue.enroll([enrollment("a")], versions: [], now: now)
            let due = try await queue.dueEnrollments(now: now + 1_000, limit: 10)
            try #require(due.count == 2)
            let moves = due.map { progress in
                let message = Self.step(progress.key, "day-2", at: now + 1_000)
                let event = log.enrollmentStep(EnrollmentSubject(progress), step: "day-2", number: 1, of: 1, message: message,
                                               due: now + 1_000, at: now + 1_000)
                return EnrollmentAdvance(id: progress.id, expectedStep: 0,
                                         action: .queue(step: 0, message: message, due: now + 1_000, recheck: now + 9_000, shift: 0),
                                         events: [event].compactMap { $0 })
            }
            #expect(try await queue.advance(moves, now: now + 1_000).count == 2)
            #expect(try await queue.advance(moves, now: now + 1_000).isEmpty, "a move already made records nothing again")
            _ = try await queue.exitEnrollments(.key("a"), reason: "converted", reporting: log, now: now + 2_000)
            let b = try #require(try await queue.dueEnrollments(now: now + 9_000, limit: 10).first)
            let completed = log.enrollmentCompleted(EnrollmentSubject(b), steps: 1, at: now + 9_000)
            #expect(try await queue.advance([EnrollmentAdvance(id: b.id, expectedStep: 1, action: .complete,
                                                               events: [completed].compactMap { $0 })], now: now + 9_000).count == 1)

            // On PostgreSQL an event is read once every older transaction on the server has
            // ended, and other tests share the server.
            var events: [Event] = []
            let readAll = try await waitUntil(timeout: .seconds(20)) {
                events = try await queue.events(after: .start, matching: EventFilter(), limit: 100).map(\.event)
                return events.count >= 6
            }
            #expect(readAll, "every event became readable: \(events.map(\.type))")
            #expect(events.map(\.type) == [.enrollmentStarted, .enrollmentStarted, .enrollmentStep, .enrollmentStep,
                                           .enrollmentExited, .enrollmentCompleted], "\(events.map(\.type))")
            let payloads = try events.map { try JSONValue.parse(Data($0.payload.utf8)) }
            let stepA = try #require(try await queue.message("a/day-2"))
            let step = try #require(payloads.first { $0["type"]?.string == "enrollment.step" && $0["key"]?.string == "a/day-2" })
            #expect(step["message_id"] == .integer(stepA.id) && events.contains { $0.type == .enrollmentStep && $0.messageID == stepA.id },
                    "the step names the message it queued: \(step)")
            #expect(step["enrollment"]?.string == "a" && step["step"]?.string == "day-2" && step["channel"]?.string == "email")
            let exited = try #require(payloads.first { $0["type"]?.string == "enrollment.exited" })
            #expect(exited["enrollment"]?.string == "a" && exited["reason"]?.string == "converted"
                    && exited["canceled_step"]?.string == "a/day-2" && exited["recipient"]?.string == "a@example.com", "\(exited)")
            #expect(payloads.first?["sequence"]?.string == "drip" && payloads.first?["version"]?.string == "v1"
                    && payloads.first?["campaign"]?.string == "c")
            #expect(try await EventSchema.problems(events.map(\.payload)).isEmpty)
        }
    }

    @Test("a key enrolls again only as its sequence's reenroll rule allows: never; once it ended; once it ended and began long enough ago; never while a step of the earlier round is still queued or being sent",
          arguments: QueueEngine.allCases)
    func reenrollment(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            func enroll(_ key: String, after rule: Int64?, at time: Int64) async throws -> EnrollOutcome? {
                var enrollment = Self.enrollment(key, at: time)
                enrollment.reenrollAfter = rule
                return try await queue.enroll([enrollment], versions: [], now: time).first
            }
            func isEnrolled(_ outcome: EnrollOutcome?) -> Bool { if case .enrolled? = outcome { true } else { false } }
            for key in ["never", "ended", "aged", "busy"] {
                #expect(isEnrolled(try await enroll(key, after: key == "never" ? nil : key == "aged" ? 10_000 : 0, at: now)))
            }
            #expect(!isEnrolled(try await enroll("ended", after: 0, at: now + 100)), "an active enrollment is not started again")
            // "busy" has its step being sent when it exits.
            let busy = try #require(try await queue.dueEnrollments(now: now + 1_000, limit: 10).first { $0.key == "busy" })
            #expect(try await queue.advance([EnrollmentAdvance(id: busy.id, expectedStep: 0, action: .queue(
                step: 0, message: Self.step("busy", "day-2", at: now + 1_000), due: now + 1_000, recheck: now + 9_000, shift: 0))],
                now: now + 1_000).count == 1)
            let claimed = try await queue.claim(limit: 1, owner: QueueContractTests.owner, lease: .seconds(60), channels: [.email], now: now + 1_000)
            try #require(claimed.messages.map(\.key) == ["busy/day-2"], "precondition: busy's step is leased")
            for key in ["never", "ended", "aged", "busy"] {
                #expect(try await queue.exitEnrollments(.key(key), reason: "converted", reporting: .off, now: now + 2_000).count == 1)
            }
            #expect(!isEnrolled(try await enroll("never", after: nil, at: now + 3_000)), "reenroll: never")
            #expect(!isEnrolled(try await enroll("aged", after: 10_000, at: now + 3_000)), "began less than 10 s ago")
            #expect(!isEnrolled(try await enroll("busy", after: 0, at: now + 3_000)), "its step is still being sent")

            #expect(isEnrolled(try await enroll("ended", after: 0, at: now + 3_000)), "after_exit: once it ended")
            #expect(isEnrolled(try await enroll("aged", after: 10_000, at: now + 10_000)), "10 s after it began")
            let attempt = DeliveryAttempt(messageID: claimed.messages[0].id, number: 1, startedAt: now + 3_500, durationMicroseconds: 5,
                                          worker: "w", outcome: .sent, errorCode: nil, remoteCode: "250", remoteText: nil, retryAt: nil)
            _ = try await queue.settle([.sent(attempt)], events: [], owner: QueueContractTests.owner, now: now + 4_000)
            #expect(isEnrolled(try await enroll("busy", after: 0, at: now + 10_000)), "once its step settled")

            let rounds = try await queue.dueEnrollments(now: now + 20_000, limit: 10)
            #expect(rounds.map(\.key).sorted() == ["aged", "busy", "ended"] && rounds.allSatisfy { $0.round == 2 && $0.nextStep == 0 && $0.awaiting == nil },
                    "\(rounds.map { ($0.key, $0.round, $0.nextStep) })")
            let busyAgain = try await queue.enrollment(key: "busy")
            let never = try await queue.enrollment(key: "never")
            #expect(busyAgain?.state == .active && busyAgain?.round == 2 && never?.round == 1 && never?.state == .exited)
        }
    }

    @Test("retention removes enrollments that ended longer ago than retention.sent, never an active one; a pruned key may enroll again",
          arguments: QueueEngine.allCases)
    func retention(engine: QueueEngine) async throws {
        try await engine.withQueue { queue in
            let now = Timestamp.now()
            _ = try await queue.enroll(["old", "recent", "active"].map { Self.enrollment($0, at: now) }, versions: [], now: now)
            #expect(try await queue.exitEnrollments(.key("old"), reason: "converted", reporting: .off, now: now + 1_000).count == 1)
            #expect(try await queue.exitEnrollments(.key("recent"), reason: "converted", reporting: .off, now: now + 3_000_000).count == 1)
            let retention = Retention(sent: .seconds(3_600))
            let later = now + 3_700_000  // an hour after "old" ended, not after "recent" did
            let counted = try await queue.prune(retention, now: later, dryRun: true)
            let kept = try await queue.enrollment(key: "old")
            #expect(counted.enrollments == 1 && kept != nil, "a dry run counts and keeps")
            #expect(try await queue.prune(retention, now: later).enrollments == 1)
            #expect(try await queue.enrollment(key: "old") == nil)
            #expect(try await queue.enrollment(key: "recent")?.state == .exited)
            #expect(try await queue.prune(retention, now: now + 100 * 86_400_000).enrollments == 1, "only the ended one, however old the active one is")
            #expect(try await queue.enrollment(key: "active")?.state == .active)
            let again = try await queue.enroll([Self.enrollment("old", at: later)], versions: [], now: later)
            #expect({ if case .enrolled? = again.first { true } else { false } }(), "the pruned key enrolls anew")
        }
    }
}
