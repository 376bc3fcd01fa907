import Crypto
import Foundation
import Logging

/// Closes letter batches: writes a batch's CSV and manifest into the export folder and records it
/// `closed`.
///
/// Crash safety: a batch stops taking letters (`closing`) in the same transaction that adds its
/// last letter or notices its age, so its content is fixed before any file is written. The files
/// are made from that content alone (letters in position order, times from the database), so
/// writing them again after a crash gives the same bytes. Each file appears whole (temporary
/// name, fsync, rename); the manifest comes last, so a reader that waits for the manifest never
/// sees a partial batch.
public struct LetterExport: Sendable {
    let queue: any MessageQueue
    let folder: URL
    let uploads: Bool
    let events: EventLog
    let logger: Logger

    public init(queue: any MessageQueue, folder: URL, uploads: Bool, events: EventLog = .off, logger: Logger) {
        self.queue = queue
        self.folder = folder
        self.uploads = uploads
        self.events = events
        self.logger = logger
    }

    /// Writes the files of a `closing` batch and marks it closed.
    public func finish(_ batch: LetterBatch) async throws {
        let letters = try await queue.letters(inBatch: batch.id)
        let folder = self.folder
        let (sha256, bytes) = try await BlockingWork.run { try Self.writeFiles(batch: batch, letters: letters, folder: folder) }
        let now = Timestamp.now()
        try await queue.markClosed(batch.id, sha256: sha256, bytes: bytes, uploadPending: uploads,
                                   events: events.letters(.letterExported, letters, of: batch, at: now), now: now)
        logger.info("letter batch closed", metadata: [
            "batch": "\(batch.name)", "letters": "\(letters.count)", "sha256": "\(sha256)",
            "csv": "\(folder.appendingPathComponent(batch.csvFileName).path)",
        ])
    }

    /// Every batch due to close (opened before `cutoff`; all non-empty ones when nil), plus any a
    /// crash left half closed, closed now. Returns how many were closed.
    @discardableResult
    public func closeDue(openedBefore cutoff: Int64?) async throws -> Int {
        let batches = try await queue.beginClosing(openedBefore: cutoff)
        for batch in batches { try await finish(batch) }
        return batches.count
    }

    /// The hex SHA-256 of a file, nil when it cannot be read (operators check a CSV against its manifest).
    public static func sha256(of file: URL) -> String? {
        guard let data = try? Data(contentsOf: file) else { return nil }
        return hex(SHA256.hash(data: data))
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        Hex.encode(digest)
    }

    static func manifest(batch: LetterBatch, count: Int, sha256: String, bytes: Int) -> [UInt8] {
        let object: [String: Any] = [
            "batch": batch.name, "count": count, "sha256": sha256, "bytes": bytes, "csv": batch.csvFileName,
            "columns": LetterCSV.columns,
            "created": Timestamp.rfc3339(batch.createdAt), "closed": Timestamp.rfc3339(batch.closingAt ?? batch.createdAt),
        ]
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return Array(data) + [0x0A]
    }

    static func writeFiles(batch: LetterBatch, letters: [Letter], folder: URL) throws -> (sha256: String, bytes: Int) {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let csv = LetterCSV.encode(letters)
        let sha256 = hex(SHA256.hash(data: csv))
        try AtomicFile.write(csv, to: folder.appendingPathComponent(batch.csvFileName))
        Failpoint.hit(Failpoint.letterAfterCSV)
        try AtomicFile.write(manifest(batch: batch, count: letters.count, sha256: sha256, bytes: csv.count),
                            to: folder.appendingPathComponent(batch.manifestFileName))
        return (sha256, csv.count)
    }
}
