import Foundation

/// Postmark's bounce and spam-complaint webhooks: one JSON record, authenticated by the basic
/// auth written into the webhook's URL. Postmark does not quote the Message-ID, so Herald sends
/// it along as metadata (`X-PM-Metadata-herald-message-id`) and reads it back from `Metadata`.
enum PostmarkEvent {
    static let metadataKey = "herald-message-id"

    static func reports(_ body: JSONValue, raw: [UInt8]) -> [ProviderReport] {
        guard let id = body["ID"].map({ $0.int.map(String.init) ?? $0.string ?? "" }), !id.isEmpty else { return [] }
        let email = body["Email"]?.string
        let reference = body["Metadata"]?[metadataKey]?.string.map { "<\($0)>" }
        let details = body["Details"]?.string ?? body["Description"]?.string
        let report: BounceReport
        switch (body["RecordType"]?.string, body["Type"]?.string) {
        case ("SpamComplaint", _), ("Bounce", "SpamComplaint"):
            report = .provider("postmark", kind: .complaint, recipient: email, action: nil, status: nil, diagnostic: nil,
                               feedbackType: "abuse")
        case ("Bounce", "HardBounce"), ("Bounce", "BadEmailAddress"):
            report = .provider("postmark", kind: .bounce, recipient: email, action: "failed",
                               status: BounceClassification.enhancedCode(in: details ?? "") ?? "5.1.0", diagnostic: details)
        case ("Bounce", "SoftBounce"), ("Bounce", "Transient"), ("Bounce", "DnsError"):
            report = .provider("postmark", kind: .bounce, recipient: email, action: "failed",
                               status: BounceClassification.enhancedCode(in: details ?? "") ?? "4.0.0", diagnostic: details)
        case ("Bounce", "AutoResponder"):
            report = .provider("postmark", kind: .autoReply, recipient: email, action: nil, status: nil, diagnostic: nil)
        case ("Bounce", _):
            report = .provider("postmark", kind: .bounce, recipient: email, action: "failed",
                               status: BounceClassification.enhancedCode(in: details ?? ""), diagnostic: details)
        default:
            return []
        }
        return [ProviderReport(sourceID: id, report: report, messageReference: reference, raw: raw)]
    }
}
