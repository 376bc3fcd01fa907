import Foundation
import Logging

/// Builds the channel adapters a configuration asks for, each on its configured transport.
public enum ChannelAdapters {
    /// - Parameters:
    ///   - transports: libcurl, one `CurlMulti` per channel.
    ///   - queue: where the letter channel keeps its batches.
    public static func make(_ config: HeraldConfig, transports: CurlChannels, queue: any MessageQueue,
                            logger: Logger = Logger(label: "herald.channels")) -> [any ChannelAdapter] {
        var adapters: [any ChannelAdapter] = []
        if let webhook = config.webhook {
            let transport: any HTTPTransport = switch webhook.transport {
            case .network: CurlHTTPTransport(multi: transports.webhook)
            case .outbox: OutboxTransport(folder: config.resolve(config.outboxPath).appendingPathComponent("webhook"))
            }
            adapters.append(WebhookChannel(config: webhook, transport: transport))
        }
        if let email = config.email {
            let transport: any MailTransport = switch email.transport {
            case .network: CurlSMTPTransport(multi: transports.email)
            case .outbox: OutboxMailTransport(folder: config.resolve(config.outboxPath).appendingPathComponent("email"))
            }
            adapters.append(EmailChannel(config: email, transport: transport))
        }
        if let sms = config.sms {
            let transport: any HTTPTransport = switch sms.transport {
            case .network: CurlHTTPTransport(multi: transports.sms)
            case .outbox: OutboxTransport(folder: config.resolve(config.outboxPath).appendingPathComponent("sms"))
            }
            adapters.append(SMSChannel(config: sms, transport: transport))
        }
        if let letter = config.letter {
            adapters.append(LetterChannel(config: letter, queue: queue, export: config.letterExport(queue: queue, logger: logger)!))
        }
        return adapters
    }
}

extension HeraldConfig {
    /// What closes letter batches into `channels.letter.export_dir`; nil without a letter channel.
    public func letterExport(queue: any MessageQueue, logger: Logger) -> LetterExport? {
        letter.map {
            LetterExport(queue: queue, folder: resolve($0.exportDir), uploads: $0.upload != nil, events: eventLog, logger: logger)
        }
    }

    /// The letter channel's service (age closes, crash recovery, uploads); nil without one.
    public func letterBatcher(queue: any MessageQueue, transports: CurlChannels, logger: Logger) -> LetterBatcher? {
        guard let letter, let export = letterExport(queue: queue, logger: logger) else { return nil }
        return LetterBatcher(config: letter, queue: queue, export: export, multi: transports.letter, logger: logger)
    }
}
