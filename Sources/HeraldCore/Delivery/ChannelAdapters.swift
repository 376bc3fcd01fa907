import Foundation

/// Builds the channel adapters a configuration asks for, each on its configured transport.
public enum ChannelAdapters {
    /// - Parameter multi: the libcurl loop shared by every network transport.
    public static func make(_ config: HeraldConfig, multi: CurlMulti) -> [any ChannelAdapter] {
        var adapters: [any ChannelAdapter] = []
        if let webhook = config.webhook {
            let transport: any HTTPTransport = switch webhook.transport {
            case .network: CurlHTTPTransport(multi: multi)
            case .outbox: OutboxTransport(folder: config.resolve(config.outboxPath).appendingPathComponent("webhook"))
            }
            adapters.append(WebhookChannel(config: webhook, transport: transport))
        }
        if let email = config.email {
            let transport: any MailTransport = switch email.transport {
            case .network: CurlSMTPTransport(multi: multi)
            case .outbox: OutboxMailTransport(folder: config.resolve(config.outboxPath).appendingPathComponent("email"))
            }
            adapters.append(EmailChannel(config: email, transport: transport))
        }
        if let sms = config.sms {
            let transport: any HTTPTransport = switch sms.transport {
            case .network: CurlHTTPTransport(multi: multi)
            case .outbox: OutboxTransport(folder: config.resolve(config.outboxPath).appendingPathComponent("sms"))
            }
            adapters.append(SMSChannel(config: sms, transport: transport))
        }
        return adapters
    }
}
