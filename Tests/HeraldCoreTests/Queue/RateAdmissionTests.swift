import Foundation
import Testing
@testable import HeraldCore

/// The rate limits' admission test at the moment of sending, on a real SQLite file opened twice
/// (as two processes would). The instants are the test's own, so a busy machine cannot move them.
@Suite("Rate admission")
struct RateAdmissionTests {
    @Test("10/s with burst 2: two sends at once, the third told when it would conform and not counted; a second handle sees the same schedule")
    func burstThenWait() async throws {
        let folder = try TemporaryFolder()
        let one = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let two = try SQLiteQueue(path: folder.file("q.sqlite").path)
        let limits = [RateLimitKey(key: "channel:sms", rate: try #require(RateLimit.parse("10/s", burst: 2)))]
        let t0: Int64 = 1_800_000_000_000
        func at(_ offset: Int64) -> @Sendable () -> Int64 { { t0 + offset } }

        #expect(try await one.admit(limits, clock: at(0)) == .admitted(at: t0))
        #expect(try await two.admit(limits, clock: at(0)) == .admitted(at: t0), "the burst's second send")
        // Two sends moved the schedule to t0 + 200 ms; with one slot of tolerance the third
        // conforms at t0 + 100 ms.
        #expect(try await one.admit(limits, clock: at(0)) == .wait(until: t0 + 100))
        // Asking again does not move it: a refusal counts nothing.
        #expect(try await two.admit(limits, clock: at(60)) == .wait(until: t0 + 100))
        #expect(try await two.admit(limits, clock: at(100)) == .admitted(at: t0 + 100))
        #expect(try await one.admit(limits, clock: at(150)) == .wait(until: t0 + 200))
        // A late send pushes the schedule rather than catching up: after a pause of a second,
        // two may go (the burst), then one every 100 ms again.
        #expect(try await one.admit(limits, clock: at(1_300)) == .admitted(at: t0 + 1_300))
        #expect(try await one.admit(limits, clock: at(1_300)) == .admitted(at: t0 + 1_300))
        #expect(try await one.admit(limits, clock: at(1_300)) == .wait(until: t0 + 1_400))
        // Another key is a schedule of its own.
        let other = [RateLimitKey(key: "channel:webhook", rate: try #require(RateLimit.parse("10/s")))]
        #expect(try await one.admit(other, clock: at(1_300)) == .admitted(at: t0 + 1_300))
        // Several limits: admitted only when all conform, and then counted on all.
        #expect(try await one.admit(limits + other, clock: at(1_350)) == .wait(until: t0 + 1_400))
        #expect(try await one.admit(other, clock: at(1_400)) == .admitted(at: t0 + 1_400))
    }
}
