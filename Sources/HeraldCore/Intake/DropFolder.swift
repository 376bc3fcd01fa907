import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// The drop folder: the CRM writes `.json`, `.ndjson` / `.jsonl` or `.csv` files into it (under a
/// temporary name, then renamed), and Herald queues their messages, exactly once, then archives
/// or deletes each file. A swift-service-lifecycle `Service`, polling every `poll`.
///
/// Exactly once, also across a crash: a file is known by its identity (device, inode, size,
/// mtime); each batch of its lines is queued in the transaction that records the file's new
/// position, and a file found again resumes after that position. Several `herald run`
/// processes may watch one folder: a file is read under an exclusive `flock`, which the kernel
/// releases if the reader dies.
public final class DropFolder: Service, CustomStringConvertible, Sendable {
    let folder: URL
    let archive: URL
    let deleteAfterIngest: Bool
    let poll: Duration
    let queue: any MessageQueue
    let validation: @Sendable () -> IntakeValidation
    let logger: Logger
    private let stopping = StopFlag()
    private let warned = Mutex(Set<String>())

    /// - Parameter validation: made afresh for each file, so templates added since start count.
    public init(config: IntakeConfig, root: HeraldConfig, queue: any MessageQueue,
                validation: @escaping @Sendable () -> IntakeValidation, logger: Logger) {
        folder = root.resolve(config.dropFolder ?? "var/inbox")
        archive = root.resolve(config.archiveFolder)
        deleteAfterIngest = config.deleteAfterIngest
        poll = config.poll
        self.queue = queue
        self.validation = validation
        self.logger = logger
    }

    public var description: String { "DropFolder(\(folder.path))" }

    public func run() async throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        logger.info("watching the drop folder", metadata: ["folder": "\(folder.path)"])
        await withGracefulShutdownHandler {
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                await scan()
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: self.poll) }
            }
        } onGracefulShutdown: {
            // A file being read stops after its current batch; the next run resumes it.
            self.stopping.set()
        }
    }

    /// Reads every file ready in the folder (file system calls off the cooperative pool, on
    /// `BlockingWork`'s threads). Returns how many files were finished.
    @discardableResult
    public func scan() async -> Int {
        guard let names = try? await BlockingWork.run({ [folder] in try FileManager.default.contentsOfDirectory(atPath: folder.path) })
        else { return 0 }
        var finished = 0
        for name in names.sorted() where Self.isReady(name) {
            if stopping.isSet { break }
            guard let format = Self.format(name) else {
                let first = warned.withLock { $0.insert(name).inserted }
                if first, !isDirectory(name) {
                    logger.warning("drop folder: not a .json, .ndjson, .jsonl or .csv file, left alone", metadata: ["file": "\(name)"])
                }
                continue
            }
            do {
                if try await ingest(name, format: format) { finished += 1 }
            } catch let stop as Stopped {
                logger.notice("drop folder: stopped mid-file, the next run resumes it", metadata: ["file": "\(name)", "line": "\(stop.position)"])
                break
            } catch {
                logger.error("drop folder: cannot ingest file, will retry", metadata: ["file": "\(name)", "error": "\(error)"])
            }
        }
        return finished
    }

    /// Files a writer has finished: not hidden, not `.tmp` / `.part`, regular files.
    static func isReady(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.hasSuffix(".tmp") && !name.hasSuffix(".part")
    }

    static func format(_ name: String) -> InputFormat? {
        switch (name as NSString).pathExtension.lowercased() {
        case "json", "ndjson", "jsonl": .json
        case "csv": .csv
        default: nil
        }
    }

    /// Logs once per name why a file in the folder is not read.
    private func leftAlone(_ name: String, _ kind: String) {
        guard warned.withLock({ $0.insert(name).inserted }) else { return }
        logger.warning("drop folder: \(kind), left alone; only regular files are read", metadata: ["file": "\(name)"])
    }

    private func isDirectory(_ name: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &directory)
            && directory.boolValue
    }

    struct Stopped: Error {
        let position: Int
    }

    /// A dropped file opened and locked for reading.
    private struct OpenedFile: Sendable {
        let descriptor: Int32
        let identity: String
        let path: String
    }

    /// Opens and locks `name`; nil when another process holds it, it vanished, or it is not a
    /// regular file of the folder's own.
    ///
    /// Opened without following a symlink (one could point anywhere, `/etc/shadow` included, and
    /// its lines would be copied into the errors file) and without blocking (opening a FIFO for
    /// reading would wait for a writer forever, stalling the folder and shutdown); only then is
    /// the kind of file checked, on the descriptor itself.
    private func open(_ name: String) -> OpenedFile? {
        let path = folder.appendingPathComponent(name).path
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ELOOP { leftAlone(name, "a symbolic link") }
            return nil
        }
        var info = stat()
        var current = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, flock(fd, LOCK_EX | LOCK_NB) == 0,
              // Another process may have finished and archived it between our listing and our lock.
              stat(path, &current) == 0, current.st_ino == info.st_ino, current.st_dev == info.st_dev
        else {
            if (info.st_mode & S_IFMT) != S_IFREG, info.st_mode != 0 {
                leftAlone(name, (info.st_mode & S_IFMT) == S_IFIFO ? "a FIFO" : "not a regular file")
            }
            close(fd)
            return nil
        }
        let identity = "\(info.st_dev):\(info.st_ino):\(info.st_size):\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)"
        return OpenedFile(descriptor: fd, identity: identity, path: path)
    }

    /// Ingests one file; false when it is not to be read now (see `open`).
    private func ingest(_ name: String, format: InputFormat) async throws -> Bool {
        guard let file = try await BlockingWork.run({ self.open(name) }) else { return false }
        defer { close(file.descriptor) }
        var record = try await queue.intakeFile(name: name, identity: file.identity)

        if record.state == .reading {
            if record.position > 0 {
                logger.notice("drop folder: resuming file", metadata: ["file": "\(name)", "after": "\(record.position)"])
            }
            let started = ContinuousClock.now
            var lastReport = started
            var read = record.position
            let validation = validation()
            let resumeAfter = record.position
            let fileID = record.id
            let handle = FileHandle(fileDescriptor: file.descriptor, closeOnDealloc: false)
            // Validated on the reading thread, while the batch before is written.
            let batches = InputBatches(handle, format: format) { items -> IntakeBatch? in
                let fresh = resumeAfter > 0 ? items.filter { $0.position.number > resumeAfter } : items
                guard let last = fresh.last?.position.number else { return nil }
                return ValidatedBatch(fresh, validation: validation, now: Timestamp.now()).intakeBatch(file: fileID, through: last)
            }
            try await batches.forEach { batch in
                if stopping.isSet { throw Stopped(position: read) }
                guard let batch else { return }
                _ = try await queue.record(batch, now: Timestamp.now())
                read = batch.through
                if ContinuousClock.now - lastReport >= .seconds(5) {
                    lastReport = ContinuousClock.now
                    let seconds = (ContinuousClock.now - started) / .seconds(1)
                    logger.info("drop folder: ingesting", metadata: [
                        "file": "\(name)", "position": "\(read)",
                        "per_second": "\(Int(Double(read - resumeAfter) / max(seconds, 0.001)))",
                    ])
                }
            }
            try await queue.markIntakeFile(record.id, .read)
            record = try await queue.intakeFile(name: name, identity: file.identity)
            logger.info("drop folder: file ingested", metadata: [
                "file": "\(name)", "queued": "\(record.queued)", "enrolled": "\(record.enrolled)", "duplicates": "\(record.duplicates)",
                "rejected": "\(record.rejected)",
            ])
        }
        try await finish(record, path: file.path)
        return true
    }

    /// Writes the errors file (if any line was rejected) and archives or deletes the file. Both
    /// steps can be repeated after a crash with the same result.
    private func finish(_ record: IntakeFile, path: String) async throws {
        let rejections = try await queue.intakeRejections(file: record.id)
        try await BlockingWork.run { try self.archive(record, path: path, rejections: rejections) }
        try await queue.markIntakeFile(record.id, .archived)
    }

    private func archive(_ record: IntakeFile, path: String, rejections: [IntakeFileRejection]) throws {
        let stem = "\(record.id)-\(record.name)"
        if !rejections.isEmpty || !deleteAfterIngest {
            try FileManager.default.createDirectory(at: archive, withIntermediateDirectories: true)
        }
        if !rejections.isEmpty {
            var text = ""
            for rejection in rejections {
                let line: JSONValue = .object([
                    "line": .integer(Int64(rejection.position)), "field": .string(rejection.field),
                    "reason": .string(rejection.reason), "input": .string(rejection.input),
                ])
                text += line.jsonText + "\n"
            }
            try AtomicFile.write(Array(text.utf8), to: archive.appendingPathComponent("\(stem).errors.ndjson"))
        }
        if deleteAfterIngest {
            guard unlink(path) == 0 || errno == ENOENT else { throw FileWriteError(file: path, operation: "delete") }
        } else {
            guard rename(path, archive.appendingPathComponent(stem).path) == 0 else {
                throw FileWriteError(file: path, operation: "archive")
            }
        }
    }
}

/// Set once, read from any thread: tells a blocking loop to stop at its next check.
final class StopFlag: Sendable {
    private let flag = Atomic(false)
    func set() { flag.store(true, ordering: .releasing) }
    var isSet: Bool { flag.load(ordering: .acquiring) }
}
