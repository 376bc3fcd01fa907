import Foundation

/// A bounce mailbox over libcurl's POP3.
///
/// POP3 sees the mailbox as it was at login and applies deletions only at QUIT, so each session
/// is one connection: `close` ends it (libcurl sends QUIT when it closes the connection) and the
/// next `list` logs in afresh. A session cut short deletes nothing; the reports it recorded are
/// deleted in the next one, when they are listed again and found recorded. Messages are known by
/// their UIDL, which stays the same across sessions; their numbers are used only within one.
public struct CurlPOP3Mailbox: BounceMailbox {
    let config: BounceMailboxConfig
    let multi: CurlMulti

    public init(config: BounceMailboxConfig, multi: CurlMulti) {
        self.config = config
        self.multi = multi
    }

    public var source: String { "pop3" }

    public func list() async throws -> [MailboxEntry] {
        var sizes: [Int64: Int] = [:]
        for fields in try await listing(nil) {
            if let number = Int64(fields[0]), let size = Int(fields[1]) { sizes[number] = size }
        }
        var entries: [MailboxEntry] = []
        for fields in try await listing("UIDL") {
            guard let number = Int64(fields[0]) else { continue }
            entries.append(MailboxEntry(sourceID: "\(config.server)/;UIDL=\(fields[1])", number: number,
                                        size: sizes[number] ?? 0, seen: false))
        }
        return entries.sorted { $0.number < $1.number }
    }

    public func fetch(_ entry: MailboxEntry, limit: Int) async throws -> [UInt8] {
        var spec = config.transferSpec(url: "\(config.server)/\(entry.number)")
        spec.bodyLimit = limit
        return try await multi.perform(spec).bodyPrefix
    }

    /// POP3 changes nothing by reading.
    public func leave(_ entries: [MailboxEntry]) async throws {}

    public func remove(_ entries: [MailboxEntry]) async throws {
        for entry in entries {
            var spec = config.transferSpec(url: "\(config.server)/\(entry.number)")
            spec.method = "DELE"
            spec.noBody = true
            _ = try await multi.perform(spec)
        }
    }

    public func close() async throws {
        var spec = config.transferSpec(url: "\(config.server)/")
        spec.method = "NOOP"
        spec.noBody = true
        spec.forbidReuse = true
        _ = try await multi.perform(spec)
    }

    /// The lines of LIST (nil) or UIDL, each as its two fields.
    private func listing(_ command: String?) async throws -> [[String]] {
        var spec = config.transferSpec(url: "\(config.server)/")
        spec.method = command
        return replyLines(try await multi.perform(spec).bodyPrefix).compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            return fields.count >= 2 ? fields : nil
        }
    }

}
