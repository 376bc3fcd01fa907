import Foundation

/// Files that appear whole or not at all: export batches, errors files.
enum AtomicFile {
    /// Temporary file (unique per writer, so two processes finishing one batch cannot mix their
    /// writes), fsync, rename, fsync of the folder: the file is whole or absent, also after a
    /// power loss.
    static func write(_ bytes: [UInt8], to file: URL) throws {
        let temporary = file.deletingLastPathComponent()
            .appendingPathComponent(".\(file.lastPathComponent).\(getpid())-\(UInt32.random(in: 0...UInt32.max)).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o640)
        guard fd >= 0 else { throw FileWriteError(file: temporary.path, operation: "create") }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard result > 0 else {
                close(fd)
                unlink(temporary.path)
                throw FileWriteError(file: temporary.path, operation: "write")
            }
            written += result
        }
        guard fsync(fd) == 0, close(fd) == 0 else {
            unlink(temporary.path)
            throw FileWriteError(file: temporary.path, operation: "fsync")
        }
        guard rename(temporary.path, file.path) == 0 else {
            unlink(temporary.path)
            throw FileWriteError(file: file.path, operation: "rename into place")
        }
        let folder = open(file.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }
}

/// A file could not be written; the caller tries again later.
public struct FileWriteError: Error, CustomStringConvertible {
    public let file: String
    public let operation: String
    public let reason: String

    init(file: String, operation: String) {
        self.file = file
        self.operation = operation
        reason = String(cString: strerror(errno))
    }

    public var description: String { "cannot \(operation) \(file): \(reason)" }
}
