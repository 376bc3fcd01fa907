import Foundation

/// What a template is rendered with: the message's recipient, data and labels. A queued message
/// provides one; so do a template's `sample.json` and `herald preview --data FILE`, in the same
/// shape as a message: `{"to": {...}, "data": {...}, "campaign": "...", "key": "..."}`.
public struct RenderInput: Sendable, Equatable {
    public var recipient: Recipient
    /// The message's `data` object as JSON text, the way the queue stores it.
    public var dataJSON: String
    public var campaign: String?
    public var key: String?
    public var messageID: Int64?
    public var category: MessageCategory

    public init(recipient: Recipient, dataJSON: String = "{}", campaign: String? = nil, key: String? = nil,
                messageID: Int64? = nil, category: MessageCategory = .marketing) {
        self.recipient = recipient
        self.dataJSON = dataJSON
        self.campaign = campaign
        self.key = key
        self.messageID = messageID
        self.category = category
    }

    public init(recipient: Recipient, data: JSONValue, campaign: String? = nil, key: String? = nil,
                messageID: Int64? = nil, category: MessageCategory = .marketing) {
        self.init(recipient: recipient, dataJSON: data.jsonText, campaign: campaign, key: key, messageID: messageID,
                  category: category)
    }

    /// A claimed message's fields.
    public init(_ message: ClaimedMessage) {
        self.init(recipient: message.recipient, dataJSON: message.dataJSON, campaign: message.campaign, key: message.key,
                  messageID: message.id, category: message.category)
    }

    private struct File: Decodable {
        var to: Recipient?
        var data: JSONValue?
        var campaign: String?
        var key: String?
        var category: MessageCategory?
    }

    static let fields: Set<String> = ["to", "data", "campaign", "key", "category", "channel", "template", "send_at"]

    /// Parses a sample or preview file. The message fields `channel`, `template` and `send_at` are
    /// accepted and ignored, so an NDJSON line from a real export can be previewed as it is.
    public static func parse(_ bytes: Data) throws(RenderInputError) -> RenderInput {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw RenderInputError("not valid JSON: \(error)")
        }
        guard case .object(let object) = value else { throw RenderInputError("expected a JSON object with to and data") }
        if let unknown = object.keys.sorted().first(where: { !fields.contains($0) }) {
            throw RenderInputError("\(unknown): unknown field (expected \(fields.sorted().joined(separator: ", ")))")
        }
        if let data = object["data"], case .object = data {} else if object["data"] != nil {
            throw RenderInputError("data: expected an object")
        }
        do {
            let file = try JSONDecoder().decode(File.self, from: bytes)
            return RenderInput(recipient: file.to ?? Recipient(), dataJSON: (file.data ?? .object([:])).jsonText, campaign: file.campaign,
                               key: file.key, category: file.category ?? .marketing)
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw RenderInputError("\(path): \(context.debugDescription)")
        } catch {
            throw RenderInputError("\(error)")
        }
    }
}

/// Why a sample or preview data file cannot be used.
public struct RenderInputError: Error, CustomStringConvertible, Sendable {
    public let description: String
    init(_ description: String) { self.description = description }
}
