import Foundation
import Testing
@testable import HeraldCore

/// The rate limits' admission test at the moment of sending, on a real SQLite file opened twice
/// (as two processes would).
@Suite("Rate admission")
struct RateAdmissionTests {
    @Test("10/s with burst 2: two sends at once, the third told when it would conform and not counted; a second handle sees the same schedule")
    func burstThenWait() async throws {
        let folder = try TemporaryFolder()
        let one = try MessageQueue(path: folder.file("q.sqlite").path)
        let two = try MessageQueue(path: folder.file("q.sqlite").path)
        let limits = [RateLimitKey(key: "channel:sms", rate: try #require(RateLimit.parse("10/s", burst: 2)))]

        guard case .admitted(let first) = try await one.admit(limits) else { Issue.record("first send refused"); return }
        guard case .admitted = try await two.admit(limits) else { Issue.record("second send (the burst) refused"); return }
        guard case .wait(let until) = try await one.admit(limits) else { Issue.record("third send admitted"); return }
        // Two sends advanced the schedule to first + 200 ms; with one slot of tolerance the third
        // conforms at first + 100 ms.
        #expect(until >= first + 100 && until <= Timestamp.now() + 100, "until \(until - first) ms after the first")
        // Asking again does not move it: a refusal counts nothing.
        guard case .wait(let again) = try await two.admit(limits) else { Issue.record("fourth ask admitted"); return }
        #expect(again == until || again >= until)
        #expect(again - until < 50)

        try await Task.sleep(for: .milliseconds(max(0, until - Timestamp.now()) + 1))
        guard case .admitted(let third) = try await two.admit(limits) else { Issue.record("refused after waiting"); return }
        #expect(third >= until)
        // Another key is a schedule of its own.
        let other = [RateLimitKey(key: "channel:webhook", rate: try #require(RateLimit.parse("10/s")))]
        guard case .admitted = try await one.admit(other) else { Issue.record("an unrelated limit refused"); return }
    }
}
