/// One message in a bounce mailbox, as its server lists it.
public struct MailboxEntry: Sendable, Equatable {
    /// Stable across sessions and restarts (IMAP: the folder's UIDVALIDITY and the UID; POP3:
    /// the UIDL): the records key the report by it, so it is recorded once however often it is read.
    public var sourceID: String
    /// IMAP: the UID; POP3: the message's number in this session.
    public var number: Int64
    public var size: Int
    /// IMAP: it was read before Herald looked (reading it marks it read; Herald puts that back).
    public var seen: Bool

    public init(sourceID: String, number: Int64, size: Int, seen: Bool) {
        self.sourceID = sourceID
        self.number = number
        self.size = size
        self.seen = seen
    }
}

/// A mailbox that bounces, complaints and replies to the return path are delivered to, seen one
/// session at a time: `list`, then `fetch` a page of messages, `leave` them as they were, record
/// them and `remove` the reports, then `close`.
public protocol BounceMailbox: Sendable {
    /// How the records name where a report came from: `imap` or `pop3`.
    var source: String { get }
    /// The messages there now, oldest first. Opens the session (and, for IMAP, the folder
    /// processed reports move to).
    func list() async throws -> [MailboxEntry]
    /// The message as stored, at most `limit` bytes of it.
    func fetch(_ entry: MailboxEntry, limit: Int) async throws -> [UInt8]
    /// Puts back the state reading changed (IMAP marks a fetched message read): those of
    /// `entries` that were unread are unread again. Done before any of them is recorded, so a
    /// crash can never leave a person's mail marked read.
    func leave(_ entries: [MailboxEntry]) async throws
    /// Moves recorded reports out of the mailbox (to the processed folder, or deleted).
    func remove(_ entries: [MailboxEntry]) async throws
    /// Ends the session; POP3 applies its deletions only now.
    func close() async throws
}
