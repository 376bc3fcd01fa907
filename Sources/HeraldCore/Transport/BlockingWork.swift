import Dispatch

/// Runs blocking work (file writes with fsync) on a Dispatch queue and awaits it, so it never
/// occupies one of the cooperative pool's few threads.
enum BlockingWork {
    private static let queue = DispatchQueue(label: "herald.blocking-io", attributes: .concurrent)

    static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }
}
