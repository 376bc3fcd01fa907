@testable import HeraldCore

extension MessageQueue {
    /// What the dispatcher does with a claim before delivering: the policies screen it, and the
    /// messages they suppress or put off leave their leases at once.
    func claimScreened(limit: Int, owner: LeaseOwner, lease: Duration, channels: Set<Channel>, policies: PolicyConfig,
                       now: Int64 = Timestamp.now()) async throws -> Screening {
        let claimed = try await claim(limit: limit, owner: owner, lease: lease, channels: channels, now: now)
        let screening = try await policies.screen(claimed.messages, queue: self, now: now)
        try await settle(screening.settlements.map(\.settlement), owner: owner, now: now)
        return screening
    }
}
