import Foundation

/// A bounce mailbox over libcurl's IMAP.
///
/// Messages are fetched by UID with the folder's UIDVALIDITY in the URL, so libcurl refuses a
/// folder that was recreated meanwhile instead of handing back another message. Listings use
/// only data items that never come as literals (UID, FLAGS, RFC822.SIZE): libcurl passes a
/// custom command's reply through line by line and would read a literal's content as replies.
/// Reading a message marks it `\Seen`; `leave` takes that back for mail that was unread.
public struct CurlIMAPMailbox: BounceMailbox {
    let config: BounceMailboxConfig
    let multi: CurlMulti

    public init(config: BounceMailboxConfig, multi: CurlMulti) {
        self.config = config
        self.multi = multi
    }

    public var source: String { "imap" }

    public func list() async throws -> [MailboxEntry] {
        if case .move(let folder) = config.processed {
            let listed = try await command("LIST \"\" \(Self.quoted(folder))", in: nil)
            if !replyLines(listed).contains(where: { $0.hasPrefix("* LIST") }) {
                _ = try await command("CREATE \(Self.quoted(folder))", in: nil)
            }
        }
        let status = replyLines(try await command("STATUS \(Self.quoted(config.folder)) (UIDVALIDITY MESSAGES)", in: nil))
        guard let validity = status.lazy.compactMap({ Self.number(after: "UIDVALIDITY ", in: $0) }).first,
              let messages = status.lazy.compactMap({ Self.number(after: "MESSAGES ", in: $0) }).first
        else {
            throw TransportError.protocolError("the server named no UIDVALIDITY and MESSAGES for \(config.folder)")
        }
        var entries: [MailboxEntry] = []
        // By message number, in pages: libcurl 7.88 counts a command's untagged replies as
        // response headers and gives up past its header limit (a listing of about 220 messages
        // in one FETCH fails with "Too large response headers").
        var first: UInt64 = 1
        while first <= messages {
            let last = min(messages, first + UInt64(Self.listingPage) - 1)
            let listing = try await command("FETCH \(first):\(last) (UID FLAGS RFC822.SIZE)", in: config.folder)
            for line in replyLines(listing) where line.hasPrefix("* ") && line.contains(" FETCH ") {
                guard let uid = Self.number(after: "UID ", in: line) else { continue }
                let size = Self.number(after: "RFC822.SIZE ", in: line).map { Int(clamping: $0) } ?? 0
                let seen = line.range(of: "\\Seen", options: .caseInsensitive) != nil
                entries.append(MailboxEntry(sourceID: "\(folderURL);UIDVALIDITY=\(validity)/;UID=\(uid)", number: Int64(uid),
                                            size: size, seen: seen))
            }
            first = last + 1
        }
        // A message expunged by another client meanwhile shifts the numbers: a UID may repeat.
        var listed = Set<Int64>()
        return entries.sorted { $0.number < $1.number }.filter { listed.insert($0.number).inserted }
    }

    public func fetch(_ entry: MailboxEntry, limit: Int) async throws -> [UInt8] {
        // The source id is the message's IMAP URL (RFC 5092), UIDVALIDITY included.
        var spec = config.transferSpec(url: entry.sourceID)
        spec.bodyLimit = limit
        return try await multi.perform(spec).bodyPrefix
    }

    public func leave(_ entries: [MailboxEntry]) async throws {
        let unread = entries.filter { !$0.seen }.map { String($0.number) }
        guard !unread.isEmpty else { return }
        _ = try await command("UID STORE \(unread.joined(separator: ",")) -FLAGS.SILENT (\\Seen)", in: config.folder)
    }

    public func remove(_ entries: [MailboxEntry]) async throws {
        guard !entries.isEmpty else { return }
        // One command for many: a UID no longer there (moved by another host) is no error.
        let uids = entries.map { String($0.number) }.joined(separator: ",")
        switch config.processed {
        case .move(let folder):
            _ = try await command("UID MOVE \(uids) \(Self.quoted(folder))", in: config.folder)
        case .delete:
            _ = try await command("UID STORE \(uids) +FLAGS.SILENT (\\Deleted)", in: config.folder)
            _ = try await command("UID EXPUNGE \(uids)", in: config.folder)
        }
    }

    public func close() async throws {
        // Closing the connection logs out; the next session logs in afresh.
        var spec = config.transferSpec(url: "\(config.server)/")
        spec.method = "NOOP"
        spec.forbidReuse = true
        _ = try await multi.perform(spec)
    }

    private var folderURL: String {
        "\(config.server)/\(config.folder.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: ";/?#"))) ?? config.folder)"
    }

    /// Runs an IMAP command, in `folder` when given (libcurl selects it first); its untagged replies.
    private func command(_ text: String, in folder: String?) async throws -> [UInt8] {
        var spec = config.transferSpec(url: folder == nil ? "\(config.server)/" : folderURL)
        spec.method = text
        return try await multi.perform(spec).bodyPrefix
    }

    /// Messages listed per FETCH.
    static let listingPage = 100

    static func quoted(_ name: String) -> String { "\"\(name)\"" }

    /// The number right after `label` in `line`.
    static func number(after label: String, in line: String) -> UInt64? {
        guard let range = line.range(of: label) else { return nil }
        return UInt64(line[range.upperBound...].prefix { $0.isASCII && $0.isNumber })
    }
}
