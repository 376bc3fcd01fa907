import Foundation
import Hummingbird

/// `POST /inbound/bounces/{ses,sendgrid,mailgun,postmark}`: mail providers' bounce and complaint
/// webhooks (`channels.email.bounces.providers`). Each request proves where it came from (SNS's
/// certificate signature on a configured topic, SendGrid's ECDSA signature, Mailgun's HMAC,
/// Postmark's basic auth) and, where the provider signs a time, that it is recent; a request
/// that does not, or whose every event was received before (a replay), gets 403 and changes
/// nothing. Each event is matched to its message by Herald's Message-ID and the recipient, then
/// decided by the same processor as a bounce message, and kept once by the provider's event id.
extension HeraldAPI {
    static let bounceProviders = ["ses", "sendgrid", "mailgun", "postmark"]

    func addBounceWebhookRoutes(to router: Router<HeraldRequestContext>) {
        router.post("/inbound/bounces/{provider}") { request, context in
            let provider = try context.parameters.require("provider")
            guard Self.bounceProviders.contains(provider) else { throw APIError.notFound("no bounce webhook for \(provider.prefix(40))") }
            guard let bounces = config.email?.bounces else {
                throw APIError.notFound("bounces are not configured (channels.email.bounces)")
            }
            let body = Array(try await request.collectBody(upTo: 4 << 20, setting: nil).readableBytesView)
            do {
                let reports = try await providerReports(provider, request: request, body: body, config: bounces.providers, context: context)
                guard let reports else { return Response(status: .ok) }
                let processor = BounceProcessor(queue: queue, config: bounces, events: events)
                let now = Timestamp.now()
                var recorded = 0
                for var item in reports {
                    try await match(&item)
                    let outcome = try await processor.process(item.report, raw: item.raw, source: provider, sourceID: item.sourceID, now: now)
                    if outcome.recorded { recorded += 1 }
                }
                if !reports.isEmpty, recorded == 0 {
                    throw WebhookRefusal(code: "replayed", reason: "every event in it was received before")
                }
                context.logger.info("bounce webhook", metadata: ["provider": "\(provider)", "events": "\(reports.count)",
                                                                 "recorded": "\(recorded)"])
                let answer = Array(#"{"recorded":\#(recorded)}"#.utf8)
                return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: answer)))
            } catch let refusal as WebhookRefusal {
                context.logger.notice("bounce webhook refused", metadata: ["provider": "\(provider)", "code": "\(refusal.code)"])
                let status: HTTPResponse.Status = refusal.code == "bad_request" ? .badRequest
                    : refusal.code == "certificate_unavailable" ? .serviceUnavailable : .forbidden
                throw APIError(status, code: refusal.code, refusal.reason)
            }
        }
    }

    /// The request's events once it proved itself; nil for a request that carries none and
    /// needs only an answer (SNS's subscription confirmations).
    private func providerReports(_ provider: String, request: Request, body: [UInt8], config: BounceProvidersConfig,
                                 context: HeraldRequestContext) async throws -> [ProviderReport]? {
        func header(_ name: String) -> String? { request.headers[.init(name)!] }
        func fresh(_ milliseconds: Int64?) throws(WebhookRefusal) {
            guard let milliseconds, abs(Timestamp.now() - milliseconds) <= config.maxAge.milliseconds else {
                throw WebhookRefusal(code: "stale", reason: "the signed timestamp is more than \(config.maxAge.configText) away (a replay?)")
            }
        }
        switch provider {
        case "ses":
            guard let ses = config.ses else { throw APIError.notFound("SES is not configured (channels.email.bounces.providers.ses)") }
            guard let certificates = snsCertificates else {
                throw APIError(.serviceUnavailable, code: "unavailable", "SNS certificates cannot be fetched by this process")
            }
            let message = try SNSMessage(body)
            guard ses.topicARNs.contains(message.topicARN) else {
                throw WebhookRefusal(code: "unknown_topic", reason: "TopicArn is not one of providers.ses.topic_arns")
            }
            guard message.isSigned(by: try await certificates.key(at: message.signingCertURL)) else {
                throw WebhookRefusal(code: "bad_signature", reason: "Signature does not verify with the SNS signing certificate")
            }
            try fresh(RFC3339.milliseconds(message.timestamp))
            switch message.kind {
            case .notification:
                return message.reports()
            case .subscriptionConfirmation:
                try await confirm(message, certificates: certificates, context: context)
                return nil
            case .unsubscribeConfirmation:
                context.logger.notice("SNS: the topic's subscription was removed", metadata: ["topic": "\(message.topicARN)"])
                return nil
            }
        case "sendgrid":
            guard let sendGrid = config.sendGrid else {
                throw APIError.notFound("SendGrid is not configured (channels.email.bounces.providers.sendgrid)")
            }
            let seconds = try SendGridEvents.verify(body: body, signature: header(SendGridEvents.signatureHeader),
                                                    timestamp: header(SendGridEvents.timestampHeader), key: sendGrid.publicKey)
            try fresh(seconds * 1_000)
            return try SendGridEvents.reports(body)
        case "mailgun":
            guard let mailgun = config.mailgun else {
                throw APIError.notFound("Mailgun is not configured (channels.email.bounces.providers.mailgun)")
            }
            guard let json = try? JSONValue.parse(body) else { throw WebhookRefusal(code: "bad_request", reason: "the body is not JSON") }
            let signed = try MailgunEvent.verify(json, key: mailgun.signingKey)
            try fresh(signed.timestamp * 1_000)
            return MailgunEvent.reports(json, raw: body)
        default:
            guard let postmark = config.postmark else {
                throw APIError.notFound("Postmark is not configured (channels.email.bounces.providers.postmark)")
            }
            let expected = "Basic " + Data("\(postmark.username):\(postmark.password.exposedValue)".utf8).base64EncodedString()
            guard let given = header("Authorization"), ConstantTime.equal(given.utf8, expected.utf8) else {
                throw WebhookRefusal(code: "bad_credentials", reason: "the basic auth does not match providers.postmark")
            }
            guard let json = try? JSONValue.parse(body) else { throw WebhookRefusal(code: "bad_request", reason: "the body is not JSON") }
            return PostmarkEvent.reports(json, raw: body)
        }
    }

    /// SNS asks once per subscription: GET its SubscribeURL (on SNS's own host) to confirm.
    private func confirm(_ message: SNSMessage, certificates: SNSCertificates, context: HeraldRequestContext) async throws {
        guard let text = message.subscribeURL, let url = URL(string: text), certificates.isAllowed(url), let transport = bounceTransport else {
            throw WebhookRefusal(code: "bad_request", reason: "SubscribeURL is not an Amazon SNS URL")
        }
        let response = try? await transport.send(OutboundRequest(method: "GET", url: url, timeout: .seconds(10),
                                                                 caFile: certificates.config.caFile))
        guard response?.status == 200 else {
            throw APIError(.serviceUnavailable, code: "confirmation_failed", "SNS did not confirm the subscription; it will ask again")
        }
        context.logger.notice("SNS: subscription confirmed", metadata: ["topic": "\(message.topicARN)"])
    }

    /// Names the event's message when Herald's Message-ID quoted in it is that message's and the
    /// event's recipient is its recipient; otherwise the event is kept for review.
    private func match(_ item: inout ProviderReport) async throws {
        guard [.bounce, .complaint].contains(item.report.kind) else { return }
        let quoted = item.messageReference.map { String($0.prefix(200)) } ?? "none"
        guard let reference = item.messageReference, let parsed = EmailMessageID.parse(reference),
              let message = try await queue.message(String(parsed.id)), message.id == parsed.id, message.channel == .email,
              EmailMessageID.names(reference, message)
        else {
            item.report.problem = "names no message of Herald's (Message-ID \(quoted))"
            item.report.kind = .review
            return
        }
        let recipient = EventSubject(message).recipient.map { Address(normalized: $0, channel: .email).value }
        let reported = item.report.recipients.first?.address.map { Address(normalized: $0, channel: .email).value }
        guard let recipient, recipient == reported else {
            item.report.problem = "is about \(reported ?? "no address"), not message \(message.id)'s recipient"
            item.report.kind = .review
            return
        }
        item.report.messageIDs = [message.id]
    }
}
