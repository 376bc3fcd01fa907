import Foundation
import Testing
@testable import HeraldCore

/// Email rate limits per recipient domain, through the real claim on a real SQLite queue.
@Suite("Domain rate limits")
struct DomainRateTests {
    @Test("gmail.com limited to 60/min: beyond the burst its messages get successive slots a second apart, other domains go now; a deferred message keeps its slot")
    func perDomain() async throws {
        let folder = try TemporaryFolder()
        let queue = try SQLiteQueue(path: folder.file("q.sqlite").path)
        var policies = PolicyConfig()
        policies.domainRates = ["gmail.com": try #require(RateLimit.parse("60/min", burst: 2))]
        let now = Timestamp.now()
        let addresses = (0..<5).map { "lead\($0)@Gmail.com" } + (0..<5).map { "lead\($0)@example.com" }
        _ = try await queue.enqueue(addresses.enumerated().map { index, address in
            NewMessage(key: "k\(index)", channel: .email, template: "t", recipient: Recipient(email: address), sendAt: now - 1_000 + Int64(index))
        })
        let owner = LeaseOwner.current()
        let claim = try await queue.claimScreened(limit: 20, owner: owner, lease: .seconds(60), channels: [.email], policies: policies, now: now)
        #expect(Set(claim.deliver.map(\.key)) == ["k0", "k1", "k5", "k6", "k7", "k8", "k9"])
        let slots = claim.deferred.sorted { $0.message.id < $1.message.id }.map { $0.deferral }
        #expect(slots.map(\.reason) == [.rateLimit, .rateLimit, .rateLimit])
        // Slots 1.02 s apart (paced 2 % under the limit), the first after the burst of 2.
        let offsets = slots.map { $0.until - now }
        #expect(offsets.count == 3 && offsets[0] >= 1_000 && offsets[0] <= 1_100, "\(offsets)")
        #expect(zip(offsets.dropFirst(), offsets).allSatisfy { abs(($0 - $1) - 1_020) <= 1 }, "\(offsets)")

        // When its slot comes, a deferred message goes without taking another one.
        let later = try await queue.claimScreened(limit: 20, owner: owner, lease: .seconds(60), channels: [.email], policies: policies,
                                          now: now + offsets[2])
        #expect(later.deliver.compactMap(\.key).sorted() == ["k2", "k3", "k4"])
        #expect(later.deferred.isEmpty)
        #expect(try await queue.message("k2")?.attemptCount == 1)
    }
}
