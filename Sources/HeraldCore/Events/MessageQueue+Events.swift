/// The operators' and recipients' changes with the events they report, for the API, the
/// console and the commands alike.
extension MessageQueue {
    /// Cancels a message, recording `message.canceled` with it.
    public func cancel(_ reference: String, reporting log: EventLog) async throws -> MessageChange {
        guard log.isOn, let message = try await message(reference) else { return try await cancel(reference) }
        let event = log.event(.messageCanceled, about: EventSubject(message), at: Timestamp.now())
        return try await cancel(String(message.id), events: [event].compactMap { $0 })
    }

    /// Suppresses `entries`, recording `recipient.unsubscribed` (how: `how`) for each.
    public func suppress(_ entries: [Suppression], reporting log: EventLog, how: EventLog.Method) async throws {
        let now = Timestamp.now()
        try await suppress(entries, events: entries.compactMap { log.unsubscribed($0, how: how, at: now) }, now: now)
    }

    /// Lifts a suppression, recording `recipient.resubscribed` when there was one.
    public func unsuppress(_ address: Address, reporting log: EventLog, how: EventLog.Method) async throws -> Bool {
        try await unsuppress(address, events: [log.resubscribed(address, how: how, at: Timestamp.now())].compactMap { $0 })
    }
}
