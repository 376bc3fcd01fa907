/// A file taken from the drop folder, as the queue remembers it.
public struct IntakeFile: Sendable, Equatable, Decodable {
    public enum State: String, Sendable, Codable {
        /// Being read; `position` says how far its outcomes are recorded.
        case reading
        /// Every line's outcome is recorded; the file is still to be archived or deleted.
        case read
        /// Archived or deleted.
        case archived
    }

    public var id: Int64
    public var name: String
    public var identity: String
    public var state: State
    public var position: Int
    public var queued: Int
    /// Lines that enrolled a lead in a sequence.
    public var enrolled: Int
    /// Messages and enrollments whose key was taken already.
    public var duplicates: Int
    public var rejected: Int
}

/// One rejected line of a dropped file, for its errors file.
public struct IntakeFileRejection: Sendable, Equatable, Decodable {
    public var position: Int
    public var field: String
    public var reason: String
    public var input: String

    public init(position: Int, field: String, reason: String, input: String) {
        self.position = position
        self.field = field
        self.reason = reason
        self.input = input
    }
}

/// One batch of a dropped file for `MessageQueue.record(_:now:)`.
public struct IntakeBatch: Sendable {
    public var file: Int64
    /// The file's position after this batch (its last line or item).
    public var through: Int
    public var messages: [NewMessage]
    public var rejections: [IntakeFileRejection]
    /// Leads the batch enrolls, and the sequence versions they follow.
    public var enrollments: [NewEnrollment]
    public var versions: [SequenceVersion]

    public init(file: Int64, through: Int, messages: [NewMessage], rejections: [IntakeFileRejection],
                enrollments: [NewEnrollment] = [], versions: [SequenceVersion] = []) {
        self.file = file
        self.through = through
        self.messages = messages
        self.rejections = rejections
        self.enrollments = enrollments
        self.versions = versions
    }
}
