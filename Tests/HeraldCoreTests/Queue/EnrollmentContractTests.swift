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
}
