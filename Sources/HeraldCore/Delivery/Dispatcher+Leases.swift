import Logging

/// The dispatcher's side of leases: renewing those in hand, giving back one whose renewals
/// failed, taking back those of crashed processes on this host.
extension Dispatcher {
    /// Returns a message whose lease is nearly over to the queue unsent: its renewals failed (the
    /// database is out of reach, or another host took it), and sending it now could send it twice.
    func giveBack(_ message: ClaimedMessage, journal: SettlementJournal, log: MessageLog) async {
        log.log(.warning, "lease nearly over and not renewed; message returned to the queue unsent")
        try? await journal.record(.release(messageID: message.id), of: message)
    }

    /// Extends the leases of the messages in hand. One no longer this process's (another host
    /// took it once it expired) is not sent by the worker holding it, whose settlement then
    /// reports the lost lease.
    func renewLeases(_ held: HeldLeases) async {
        let ids = held.ids
        let now = Timestamp.now()
        do {
            let renewed = try await queue.renewLeases(holding: ids, owner: owner, lease: settings.lease, now: now)
            held.renewed(renewed, until: now + settings.lease.milliseconds)
        } catch {
            logger.error("could not renew leases; messages in hand stop being sent while their leases run out",
                         metadata: ["error": "\(error)", "messages": "\(ids.count)"])
        }
    }

    func releaseLeasesOfDeadOwners() async {
        do {
            let released = try await queue.releaseLeasesOfDeadOwners(current: owner)
            if released > 0 {
                logger.notice("took back leases of a crashed process on this host", metadata: ["messages": "\(released)"])
            }
        } catch {
            logger.error("could not check for leases of crashed processes", metadata: ["error": "\(error)"])
        }
    }
}
