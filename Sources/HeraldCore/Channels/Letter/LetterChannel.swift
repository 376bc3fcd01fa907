import Foundation
import Logging

/// Delivers `letter` messages: checks the postal address, renders the letter and puts it in the
/// open batch. "Sent" means the letter has its place in a batch (and so will be in exactly one
/// export); the batch that it fills is closed right away, older ones by `LetterBatcher`.
public struct LetterChannel: ChannelAdapter {
    public let channel = Channel.letter
    let config: LetterChannelConfig
    let queue: any MessageQueue
    let export: LetterExport

    public init(config: LetterChannelConfig, queue: any MessageQueue, export: LetterExport) {
        self.config = config
        self.queue = queue
        self.export = export
    }

    public func deliver(_ message: ClaimedMessage, content: RenderedMessage) async throws -> DeliveryOutcome {
        if let problem = PostalAddressRules.problem(name: message.recipient.name, address: message.recipient.address) {
            return .permanent(DeliveryError(code: .invalidRecipient, detail: problem.description))
        }
        let (format, body): (Letter.Format, String?) = content[.html].map { (.html, $0) } ?? (.text, content[.text])
        guard let body, !body.isBlank else {
            return .permanent(DeliveryError(code: .configuration, detail: "template \(content.template) rendered no letter"))
        }
        let letter = Letter(messageID: message.id, key: message.key, name: message.recipient.name!,
                            address: message.recipient.address!, campaign: message.campaign, format: format, body: body,
                            template: message.template)
        do {
            let placement = try await queue.place(letter, batchSize: config.batchSize)
            if placement.filledBatch {
                do {
                    try await export.finish(placement.batch)
                } catch {
                    // The letter has its place; the batch stays `closing` and the batcher
                    // writes its files on its next round.
                    export.logger.error("letter batch could not be closed yet", metadata: [
                        "batch": "\(placement.batch.name)", "error": "\(error)",
                    ])
                }
            }
            return .sent(remoteCode: nil, remoteText: "batch \(placement.batch.name), row \(placement.position)",
                         remoteID: placement.batch.name)
        } catch {
            return .transient(DeliveryError(code: .transport(.local("\(error)")), detail: "cannot record the letter: \(error)"),
                              retryAfter: nil)
        }
    }
}
