import Foundation
import Hummingbird

/// `/receipts/sms/<message id>`: what the SMS gateway reports about a text it took (Twilio's
/// status callback, a POST signed with the account's auth token over the exact URL; Kannel's
/// DLR, a GET carrying the URL's own HMAC token). A final report becomes `sms.delivered` or
/// `sms.undelivered`; interim ones (queued, sent to the carrier) are acknowledged and dropped.
/// A forged or misdirected receipt gets 403 and records nothing.
extension HeraldAPI {
    func addReceiptRoutes(to router: Router<HeraldRequestContext>) {
        router.post("/receipts/sms/{id}") { request, context in
            let body = try await request.collectBody(upTo: 64 << 10, setting: nil)
            return try await smsReceipt(request, form: FormFields.parse(String(buffer: body)), context: context)
        }
        router.get("/receipts/sms/{id}") { request, context in
            try await smsReceipt(request, form: [], context: context)
        }
    }

    private func smsReceipt(_ request: Request, form: [(name: String, value: String)], context: HeraldRequestContext)
        async throws -> Response
    {
        guard let sms = config.sms, let receipts = sms.receipts else {
            throw APIError.notFound("SMS receipts are not configured (channels.sms.receipts)")
        }
        let idText = try context.parameters.require("id")
        guard let messageID = Int64(idText) else { throw APIError.notFound("no message \(idText.prefix(40))") }
        let query = request.uri.query.map(FormFields.parse) ?? []
        func field(_ name: String) -> String? { (form + query).first { $0.name == name }?.value }
        let report: (delivered: Bool, status: String, errorCode: String?)?
        switch sms.gateway {
        case .twilio:
            guard let signature = request.headers[.init("X-Twilio-Signature")!], let token = sms.password,
                  TwilioSignature.isValid(signature, url: receipts.url(for: messageID, gateway: .twilio), parameters: form,
                                          authToken: token)
            else { throw APIError(.forbidden, code: "bad_signature", "X-Twilio-Signature does not match channels.sms.receipts.url and the auth token") }
            let status = field("MessageStatus") ?? ""
            let code = field("ErrorCode").flatMap { $0.isEmpty ? nil : $0 }
            report = switch status {
            case "delivered": (true, status, code)
            case "undelivered", "failed": (false, status, code)
            default: nil
            }
        case .kannel, .http:
            guard let key = receipts.token, let given = field("token"),
                  ConstantTime.equal(given.utf8, SMSReceiptsConfig.signature(messageID, key: key).utf8)
            else { throw APIError(.forbidden, code: "bad_token", "the token parameter does not match this message's receipt URL") }
            let type = field("type") ?? ""
            let answer = field("answer").flatMap { $0.isEmpty ? nil : String($0.prefix(200)) }
            report = switch type {
            case "1": (true, "delivered", nil)
            case "2": (false, "failed", answer)
            case "16": (false, "rejected", answer)
            default: nil
            }
        }
        guard let report else { return Response(status: .noContent) }
        guard let message = try await queue.message(String(messageID)), message.channel == .sms else {
            throw APIError.notFound("no SMS message \(messageID)")
        }
        if let event = events.smsReceipt(delivered: report.delivered, of: EventSubject(message), status: report.status,
                                         errorCode: report.errorCode, gateway: sms.gateway.rawValue, at: Timestamp.now()) {
            try await queue.record([event])
        }
        context.logger.info("SMS receipt", metadata: ["message_id": "\(messageID)", "status": "\(report.status)"])
        return Response(status: .noContent)
    }
}
