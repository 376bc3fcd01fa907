import Logging

/// The libcurl transports of one process: a `CurlMulti` per channel, so that a peer that is slow
/// or silent holds up only its own channel's transfers. Lanes open as transfers need them; a
/// channel that sends nothing costs no thread.
public final class CurlChannels: Sendable {
    public let webhook: CurlMulti
    /// Up to one lane per worker: libcurl waits for an SMTP server's reply to the end of DATA on
    /// its lane's thread, so a transfer that shares a lane with a stuck one would wait with it.
    public let email: CurlMulti
    public let sms: CurlMulti
    /// Letter batch uploads.
    public let letter: CurlMulti
    /// Events pushed to the CRM: their own connections, so a CRM that hangs holds up no delivery.
    public let events: CurlMulti
    /// The bounce mailbox (IMAP or POP3, one session at a time) and the certificates that sign
    /// Amazon SNS notifications.
    public let bounces: CurlMulti

    /// - Parameter workers: deliveries in flight at once, which bounds the transfers per channel.
    public init(workers: Int, logger: Logger = Logger(label: "herald.curl")) {
        let connections = max(8, workers)
        webhook = CurlMulti(maxConnections: connections, name: "herald-webhook", logger: logger)
        email = CurlMulti(maxConnections: connections, lanes: min(workers, Self.maxEmailLanes), name: "herald-smtp", logger: logger)
        sms = CurlMulti(maxConnections: connections, name: "herald-sms", logger: logger)
        letter = CurlMulti(maxConnections: 4, name: "herald-letter", logger: logger)
        events = CurlMulti(maxConnections: 2, name: "herald-events", logger: logger)
        bounces = CurlMulti(maxConnections: 2, name: "herald-bounces", logger: logger)
    }

    /// Past this, email transfers share lanes (and a stuck relay can hold a second transfer).
    static let maxEmailLanes = 256

    /// Ends every channel's transfers and threads, waiting at most `limit` for libcurl.
    public func shutdown(within limit: Duration = .seconds(2)) async {
        await withTaskGroup(of: Void.self) { group in
            for multi in [webhook, email, sms, letter, events, bounces] {
                group.addTask { await multi.shutdown(within: limit) }
            }
        }
    }
}
