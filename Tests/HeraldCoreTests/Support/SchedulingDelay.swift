import Foundation
import Synchronization

/// How late this process's tasks run while a test's body runs: a probe task sleeping 20 ms at a
/// time records its worst oversleep. A check of a limit Herald enforces in this process adds it
/// to its allowance, so a loaded machine's delay (other suites on the two cooperative threads,
/// stress-ng) is allowed for as measured, not guessed.
enum SchedulingDelay {
    /// `body`'s result, and the worst delay (µs) a task of this process saw meanwhile.
    static func measure<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> (T, worst: Int64) {
        let worst = Worst()
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                let clock = ContinuousClock()
                while !Task.isCancelled {
                    let start = clock.now
                    try? await Task.sleep(for: .milliseconds(20))
                    let late = (clock.now - start - .milliseconds(20)).microseconds
                    worst.record(late)
                }
            }
            defer { group.cancelAll() }
            let result = try await body()
            return (result, worst.value)
        }
    }
}

private final class Worst: Sendable {
    private let worst = Mutex<Int64>(0)
    func record(_ value: Int64) { worst.withLock { $0 = Swift.max($0, value) } }
    var value: Int64 { worst.withLock { $0 } }
}

extension Duration {
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
