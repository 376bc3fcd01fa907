import Synchronization

/// The messages a dispatcher holds leases on, from the claim until their settlement is recorded,
/// each with the time (unix ms, this host's clock) through which its lease is known to hold.
///
/// The dispatcher renews these leases every third of the lease while it works on them, so a
/// slow delivery or an outcome the database refuses for a while does not outlive its lease; a
/// worker sends only while its message's lease has a quarter of its length left, so a holder cut
/// off from the database stops sending before another host may take its messages.
final class HeldLeases: Sendable {
    private let validThrough = Mutex<[Int64: Int64]>([:])

    /// Claimed messages, their leases holding through `until`.
    func hold(_ ids: [Int64], until: Int64) {
        validThrough.withLock { held in
            for id in ids { held[id] = until }
        }
    }

    /// The message's settlement is recorded (or given up): its lease is no longer this holder's concern.
    func end(_ id: Int64) {
        _ = validThrough.withLock { $0.removeValue(forKey: id) }
    }

    /// The messages held now.
    var ids: [Int64] {
        validThrough.withLock { Array($0.keys) }
    }

    /// A renewal committed: the leases of `ids` hold through `until`. Held messages left out of
    /// it are not extended: they were settled, or another host has them now.
    func renewed(_ ids: [Int64], until: Int64) {
        validThrough.withLock { held in
            for id in ids where held[id] != nil { held[id] = until }
        }
    }

    /// Whether the message's lease holds for at least `margin` ms after `now`.
    func holds(_ id: Int64, for margin: Int64, after now: Int64) -> Bool {
        validThrough.withLock { ($0[id] ?? 0) - now >= margin }
    }
}
