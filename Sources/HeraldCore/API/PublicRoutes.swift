import Foundation
import Hummingbird

/// The routes recipients and gateways reach without the API token: unsubscribe pages and the
/// SMS gateway's inbound webhook. Each proves itself another way (a signed token, the gateway's
/// signature or shared token), and each answers a forgery with 4xx and changes nothing.
extension HeraldAPI {
    func addPublicRoutes(to router: Router<HeraldRequestContext>) {
        router.get("\(unsubscribePath)/{token}") { _, context in
            guard let subject = try unsubscribeSubject(context) else { return Self.html(UnsubscribePage.invalid, status: .badRequest) }
            return Self.html(UnsubscribePage.confirm(subject))
        }
        // The button on the page, and RFC 8058 one-click (`List-Unsubscribe=One-Click` from the
        // mailbox provider): either way, a POST with a valid token suppresses at once.
        router.post("\(unsubscribePath)/{token}") { request, context in
            guard let subject = try unsubscribeSubject(context) else { return Self.html(UnsubscribePage.invalid, status: .badRequest) }
            // RFC 8058: the mailbox provider posts exactly this; the page's button posts nothing.
            let body = try await request.collectBody(upTo: 4 << 10, setting: nil)
            let oneClick = FormFields.parse(String(buffer: body)).contains { $0.name == "List-Unsubscribe" && $0.value == "One-Click" }
            let suppression = Suppression(subject.address, reason: .unsubscribed,
                                          source: "unsubscribe link" + (subject.campaign.map { " (\($0))" } ?? ""))
            let event = events.unsubscribed(suppression, how: oneClick ? .oneClick : .linkPage,
                                            subject: EventSubject(subject.address, campaign: subject.campaign), at: Timestamp.now())
            try await queue.suppress([suppression], events: [event].compactMap { $0 })
            context.logger.info("unsubscribed by link", metadata: ["channel": "\(subject.channel.rawValue)"])
            return Self.html(UnsubscribePage.done(subject))
        }
        router.post("/inbound/sms") { request, context in
            let body = try await request.collectBody(upTo: 64 << 10, setting: nil)
            let form = FormFields.parse(String(buffer: body))
            return try await inboundSMS(request, fields: form, context: context)
        }
        // Kannel's sms-service get-url calls with the fields in the query string.
        router.get("/inbound/sms") { request, context in
            try await inboundSMS(request, fields: [], context: context)
        }
    }

    private func unsubscribeSubject(_ context: HeraldRequestContext) throws -> UnsubscribeLinks.Subject? {
        guard let links = config.unsubscribe else {
            throw APIError.notFound("unsubscribe links are not configured (unsubscribe.base_url)")
        }
        return links.verify(try context.parameters.require("token"))
    }

    private func inboundSMS(_ request: Request, fields form: [(name: String, value: String)], context: HeraldRequestContext)
        async throws -> Response
    {
        guard let sms = config.sms, let inbound = sms.inbound else {
            throw APIError.notFound("inbound SMS is not configured (channels.sms.inbound)")
        }
        let query = request.uri.query.map(FormFields.parse) ?? []
        switch sms.gateway {
        case .twilio:
            guard let signature = request.headers[.init("X-Twilio-Signature")!], let url = inbound.publicURL,
                  let token = sms.password, TwilioSignature.isValid(signature, url: url, parameters: form, authToken: token)
            else { throw APIError(.forbidden, code: "bad_signature", "X-Twilio-Signature does not match channels.sms.inbound.url and the auth token") }
        case .kannel, .http:
            guard let given = query.first(where: { $0.name == "token" })?.value, let token = inbound.token,
                  ConstantTime.equal(given.utf8, token.exposedValue.utf8)
            else { throw APIError(.forbidden, code: "bad_token", "the token parameter does not match channels.sms.inbound.token") }
        }
        let fields = form + query
        guard let fromText = fields.first(where: { $0.name == "From" })?.value,
              let from = try? Address(fromText, channel: .sms)
        else { throw APIError.badRequest("From: expected the sender's E.164 number") }
        let reply = SMSReply(body: fields.first(where: { $0.name == "Body" })?.value ?? "")
        switch reply {
        case .optOut:
            let suppression = Suppression(from, reason: .unsubscribed, source: "inbound sms STOP")
            try await queue.suppress([suppression],
                                     events: [events.unsubscribed(suppression, how: .smsStop, at: Timestamp.now())].compactMap { $0 })
            context.logger.info("SMS opt-out by reply")
        case .optIn:
            // START lifts only what STOP set: a bounce or an operator's block stays.
            if try await queue.suppression(of: from)?.reason == .unsubscribed {
                _ = try await queue.unsuppress(from, events: [events.resubscribed(from, how: .smsStart, at: Timestamp.now())].compactMap { $0 })
                context.logger.info("SMS opt-in by reply")
            }
        case .other:
            break
        }
        // Twilio wants TwiML; an empty <Response/> sends no reply (its opt-out handling answers STOP).
        if sms.gateway == .twilio {
            return Response(status: .ok, headers: [.contentType: "text/xml"], body: .init(byteBuffer: ByteBuffer(
                string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>")))
        }
        let action = switch reply {
        case .optOut: "opted_out"
        case .optIn: "opted_in"
        case .other: "none"
        }
        return APIJSON.response(["action": action])
    }

    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8",
            .cacheControl: "no-store",
            // The token is in the URL: keep it out of Referer headers.
            .init("Referrer-Policy")!: "no-referrer",
            .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
        ], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
