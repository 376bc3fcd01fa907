import Foundation

/// Who holds a lease: `host/pid/nonce`. The nonce tells apart two runs that reused one PID.
public struct LeaseOwner: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let pid: Int32
    public let nonce: String

    public static func current() -> LeaseOwner {
        LeaseOwner(host: ProcessInfo.processInfo.hostName, pid: getpid(),
                   nonce: String(UInt32.random(in: 0...UInt32.max), radix: 36))
    }

    public init(host: String, pid: Int32, nonce: String) {
        self.host = host
        self.pid = pid
        self.nonce = nonce
    }

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, let pid = Int32(parts[1]) else { return nil }
        self.init(host: String(parts[0]), pid: pid, nonce: String(parts[2]))
    }

    public var description: String { "\(host)/\(pid)/\(nonce)" }

    /// True when the owner ran on this host and its process no longer exists, so its leases can
    /// be taken back at once rather than when they expire. An owner with `current`'s PID but
    /// another nonce is an earlier run of this PID (PID 1 in a container, say), gone as well.
    public func isDead(relativeTo current: LeaseOwner) -> Bool {
        guard host == current.host, pid > 0, self != current else { return false }
        if pid == current.pid { return true }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}

extension MessageQueue {
    /// Returns to the queue every lease held by a process on this host that no longer exists, so a
    /// restart after a crash (SIGKILL, OOM) picks its messages up at once instead of waiting for
    /// the leases to expire. The attempt such a message was on stays counted. Leases of other
    /// hosts' processes are left to expire: this host cannot tell whether they live.
    @discardableResult
    public func releaseLeasesOfDeadOwners(current: LeaseOwner, now: Int64 = Timestamp.now()) async throws -> Int {
        let dead = try await leaseOwners().filter { LeaseOwner($0)?.isDead(relativeTo: current) ?? false }
        return try await releaseLeases(of: dead, now: now)
    }
}
