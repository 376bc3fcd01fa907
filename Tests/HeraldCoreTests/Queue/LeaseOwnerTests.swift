import Foundation
import Testing
@testable import HeraldCore

/// Whether a lease holder on this host still lives: what lets a restart take back a crashed
/// process's messages at once, and what keeps a live one's messages its own whatever the clock says.
@Suite("Lease owners")
struct LeaseOwnerTests {
    @Test("a holder on this host is dead once it exits (a zombie too) or its PID belongs to a process started at another time; another host's holder is never judged")
    func liveness() async throws {
        let me = LeaseOwner.current()
        #expect(LeaseOwner(me.description) == me, "the owner reads back from its text")
        let started = try #require(me.startTime, "precondition: this system tells process start times (\(me))")
        #expect(started == ProcessRecord(getpid())?.startTime)

        // A Python parent with two children: one sleeping, one that exits at once and is never
        // collected (a zombie until the parent goes).
        let parent = try ChildProcess(SupportPaths.python, ["-c", """
            import os, sys, time
            alive = os.fork()
            if alive == 0:
                time.sleep(60); os._exit(0)
            zombie = os.fork()
            if zombie == 0:
                os._exit(0)
            time.sleep(0.5)
            print("CHILDREN", alive, zombie, flush=True)
            time.sleep(60)
            """])
        let line = await parent.line(startingWith: "CHILDREN")
        let pids = (line ?? "").split(separator: " ").compactMap { Int32($0) }
        // The sleeping child holds the parent's output open: it goes too, whatever happens.
        defer {
            if let alive = pids.first { kill(alive, SIGKILL) }
            parent.signal(SIGKILL)
        }
        try #require(pids.count == 2, "precondition: \(line ?? "") \(parent.output().stderr)")
        let (alive, zombie) = (pids[0], pids[1])
        let aliveStart = try #require(ProcessRecord(alive)?.startTime)
        let zombieRecord = try #require(ProcessRecord(zombie), "precondition: the zombie is still listed")
        #expect(zombieRecord.exited, "precondition: the child exited")

        func owner(_ pid: Int32, started: UInt64?, host: String = me.host) -> LeaseOwner {
            LeaseOwner(host: host, pid: pid, nonce: started.map { "\(String($0, radix: 36)).x" } ?? "x")
        }
        #expect(!owner(alive, started: aliveStart).isDead(relativeTo: me))
        #expect(owner(alive, started: aliveStart + 1).isDead(relativeTo: me), "the PID belongs to a later process")
        #expect(!owner(alive, started: nil).isDead(relativeTo: me), "an owner from before start times were recorded: the PID decides")
        #expect(owner(zombie, started: zombieRecord.startTime).isDead(relativeTo: me), "a zombie has exited")
        #expect(owner(me.pid, started: started + 1).isDead(relativeTo: me), "an earlier run of this PID")
        #expect(!me.isDead(relativeTo: me))
        #expect(!owner(zombie, started: zombieRecord.startTime, host: "elsewhere").isDead(relativeTo: me),
                "another host's processes cannot be seen from here")

        kill(alive, SIGKILL)
        parent.signal(SIGKILL)
        _ = await parent.wait(timeout: .seconds(10))
        let gone = try await waitUntil(timeout: .seconds(10)) { ProcessRecord(alive).map(\.exited) ?? true }
        #expect(gone, "precondition: the child is gone")
        #expect(owner(alive, started: aliveStart).isDead(relativeTo: me))
    }
}
