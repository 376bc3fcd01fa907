import Foundation
import Logging
import ServiceLifecycle

/// The long-running side of the letter channel, a swift-service-lifecycle `Service`: closes
/// batches that reached their age, finishes any a crash left half closed, and uploads closed
/// batches when an upload is configured, with retries.
public struct LetterBatcher: Service, CustomStringConvertible {
    let config: LetterChannelConfig
    let export: LetterExport
    let queue: any MessageQueue
    let upload: CurlFileUpload
    let interval: Duration
    let logger: Logger

    public init(config: LetterChannelConfig, queue: any MessageQueue, export: LetterExport, multi: CurlMulti,
                interval: Duration = .seconds(1), logger: Logger) {
        self.config = config
        self.export = export
        self.queue = queue
        self.upload = CurlFileUpload(multi: multi)
        self.interval = interval
        self.logger = logger
    }

    /// Holds upload credentials: never print more than this.
    public var description: String { "LetterBatcher" }

    public func run() async throws {
        // A round in progress finishes (its writes are short); the wait between rounds ends at once.
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            await round()
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    /// One round: close what is due, upload what is waiting. Errors are logged and tried again
    /// next round.
    public func round(closingAll: Bool = false) async {
        let cutoff = Timestamp.now() - config.batchAge.milliseconds
        do {
            try await export.closeDue(openedBefore: closingAll ? nil : cutoff)
        } catch {
            logger.error("closing letter batches failed", metadata: ["error": "\(error)"])
        }
        guard let settings = config.upload else { return }
        do {
            for batch in try await queue.uploadsDue() {
                await send(batch, settings: settings)
            }
        } catch {
            logger.error("reading letter uploads failed", metadata: ["error": "\(error)"])
        }
    }

    private func send(_ batch: LetterBatch, settings: LetterChannelConfig.Upload) async {
        let folder = export.folder
        do {
            // The CSV first: a manifest on the server means its CSV is already there.
            for file in [batch.csvFileName, batch.manifestFileName] {
                let bytes = try await BlockingWork.run { try [UInt8](Data(contentsOf: folder.appendingPathComponent(file))) }
                try await upload.put(bytes, to: settings.url(for: file), username: settings.username, password: settings.password,
                                     sshKnownHosts: settings.knownHosts, connectTimeout: settings.connectTimeout,
                                     timeout: settings.timeout)
            }
            let uploaded = export.events.isOn
                ? export.events.letters(.letterUploaded, try await queue.letters(inBatch: batch.id), of: batch, at: Timestamp.now()) : []
            try await queue.recordUpload(batch.id, error: nil, retryAt: nil, events: uploaded)
            logger.info("letter batch uploaded", metadata: ["batch": "\(batch.name)", "to": "\(settings.url.redactingUser)"])
        } catch is CancellationError {
            return
        } catch {
            let attempt = batch.uploadAttempts + 1
            let delay = settings.retry.delay(afterAttempt: attempt, retryAfter: nil)
            let retryAt = delay.map { Timestamp.now() + $0.milliseconds }
            try? await queue.recordUpload(batch.id, error: "\(error)", retryAt: retryAt)
            logger.warning(retryAt == nil ? "letter batch upload failed, giving up" : "letter batch upload failed, will retry",
                           metadata: ["batch": "\(batch.name)", "attempt": "\(attempt)", "error": "\(error)"])
        }
    }
}

extension URL {
    /// The URL without any user or password, for logs.
    var redactingUser: String {
        guard var components = URLComponents(url: self, resolvingAgainstBaseURL: false) else { return "" }
        components.user = nil
        components.password = nil
        return components.string ?? ""
    }
}
