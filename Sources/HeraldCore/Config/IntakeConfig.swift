import Foundation

/// `intake`: how the CRM hands Herald its messages.
///
/// ```yaml
/// intake:
///   drop_folder: var/inbox          # watched while `herald run` runs; "off" to disable
///   after_ingest: archive           # archive | delete
///   archive_folder: var/archive     # ingested files, and <file>.errors.ndjson for rejected lines
///   poll: 500ms
/// ```
public struct IntakeConfig: Sendable {
    public var dropFolder: String?
    public var deleteAfterIngest: Bool
    public var archiveFolder: String
    public var poll: Duration

    public init(dropFolder: String? = "var/inbox", deleteAfterIngest: Bool = false, archiveFolder: String = "var/archive",
                poll: Duration = .milliseconds(500)) {
        self.dropFolder = dropFolder
        self.deleteAfterIngest = deleteAfterIngest
        self.archiveFolder = archiveFolder
        self.poll = poll
    }

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["drop_folder", "after_ingest", "archive_folder", "poll"])
        self.init()
        if let folder = fields["drop_folder"] {
            let text = try folder.nonEmptyString()
            dropFolder = text == "off" ? nil : text
        }
        if let after = fields["after_ingest"] {
            switch try after.string() {
            case "archive": deleteAfterIngest = false
            case "delete": deleteAfterIngest = true
            case let other: throw after.error("expected archive or delete, got \"\(other)\"")
            }
        }
        if let archive = fields["archive_folder"] { archiveFolder = try archive.nonEmptyString() }
        if let poll = fields["poll"] {
            self.poll = try poll.duration()
            guard self.poll >= .milliseconds(10), self.poll <= .seconds(1) else {
                throw poll.error("must be between 10ms and 1s (files are picked up within one poll)")
            }
        }
    }
}
