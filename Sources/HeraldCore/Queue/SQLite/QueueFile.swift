import Foundation

/// Which file a `MessageQueue` has open: its device and inode when it was opened.
///
/// SQLite keeps writing to the file it opened even after that file was removed or another was
/// moved over its path. Everything then acknowledged would be lost, and every other process
/// (`herald enqueue`, a second `herald run`) would be using a different queue. So the identity is
/// checked in every write transaction and once a second by `herald run`, and a change is fatal.
struct QueueFile: Sendable, Equatable {
    let device: UInt64
    let inode: UInt64

    /// The file at `path` now; nil when there is none.
    static func at(_ path: String) -> QueueFile? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return QueueFile(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
    }
}

/// The queue's file is no longer the one this process opened.
public struct QueueFileError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case removed = "database_removed"
        case replaced = "database_replaced"
    }

    public let code: Code
    public let path: String

    public var description: String {
        switch code {
        case .removed:
            "the queue database \(path) was removed while this process had it open; what it would write now would be lost. Stopping: restore the file or start again on a new one"
        case .replaced:
            "the queue database \(path) was replaced by another file while this process had it open; the two would hand out the same messages. Stopping: start again on the file now there"
        }
    }
}

extension SQLiteQueue {
    /// Throws `QueueFileError` when the file at `path` is not the one this queue opened.
    func checkFile() throws {
        guard let now = QueueFile.at(path) else { throw QueueFileError(code: .removed, path: path) }
        guard now == file else { throw QueueFileError(code: .replaced, path: path) }
    }
}
