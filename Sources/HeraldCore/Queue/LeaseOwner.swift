import Foundation

/// Who holds a lease: `host/pid/nonce`. The nonce begins with the process's start time (where
/// the system tells it, `/proc` on Linux), so a PID that a later process reused is not taken for
/// the holder, and ends with a random part that tells apart two runs started in the same tick.
public struct LeaseOwner: Sendable, Hashable, CustomStringConvertible {
    public let host: String
    public let pid: Int32
    public let nonce: String

    public static func current() -> LeaseOwner {
        let pid = getpid()
        let random = String(UInt32.random(in: 0...UInt32.max), radix: 36)
        let nonce = ProcessRecord(pid).map { "\(String($0.startTime, radix: 36)).\(random)" } ?? random
        return LeaseOwner(host: ProcessInfo.processInfo.hostName, pid: pid, nonce: nonce)
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

    /// How every owner on this one's host begins (`host/`).
    var hostPrefix: String { "\(host)/" }

    /// The start time the nonce carries, if it carries one.
    var startTime: UInt64? {
        guard let dot = nonce.firstIndex(of: ".") else { return nil }
        return UInt64(nonce[..<dot], radix: 36)
    }

    /// True when the owner ran on this host and its process no longer exists, so its leases can
    /// be taken back at once. An owner with `current`'s PID but another nonce is an earlier run of
    /// this PID (PID 1 in a container, say), gone as well; so is one whose PID now belongs to a
    /// process started at another time.
    public func isDead(relativeTo current: LeaseOwner) -> Bool {
        guard host == current.host, pid > 0, self != current else { return false }
        if pid == current.pid { return true }
        if let process = ProcessRecord(pid) {
            // A zombie has exited: only its parent has not collected it yet.
            return process.exited || startTime.map { $0 != process.startTime } ?? false
        }
        return kill(pid, 0) == -1 && errno == ESRCH
    }
}

/// What `/proc/PID/stat` says of a process: whether it has exited, and when it started (clock
/// ticks after boot). Nil where there is no such file (another system, or no such process).
struct ProcessRecord {
    let exited: Bool
    let startTime: UInt64

    init?(_ pid: Int32) {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // The command name (field 2) may hold spaces and parentheses: count from the last ")".
        // Field 3 is the state, field 22 the start time.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let started = UInt64(fields[19]) else { return nil }
        exited = fields[0] == "Z" || fields[0] == "X"
        startTime = started
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
