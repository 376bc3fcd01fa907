import Synchronization

/// This process's idle dispatchers, woken when new work may be due: an engine announces after
/// every commit that queued messages (and PostgreSQL also on other hosts' NOTIFY).
final class Arrivals: Sendable {
    private let listeners = Mutex<[UInt64: AsyncStream<Void>.Continuation]>([:])
    private let nextID = Atomic<UInt64>(0)

    /// A stream that yields after each announcement (at most one waiting), until it is dropped.
    func stream() -> AsyncStream<Void> {
        let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = nextID.add(1, ordering: .relaxed).newValue
        listeners.withLock { $0[id] = continuation }
        continuation.onTermination = { [weak self] _ in _ = self?.listeners.withLock { $0.removeValue(forKey: id) } }
        return stream
    }

    func announce() {
        listeners.withLock { for continuation in $0.values { continuation.yield() } }
    }
}
