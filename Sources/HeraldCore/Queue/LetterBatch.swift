import Foundation

/// A group of letters exported together: one CSV and one manifest in the export folder.
///
/// `open` takes letters; `closing` takes no more and its files are being written (a batch left
/// `closing` by a crash is finished by the next `herald run`); `closed` has its files in place.
public struct LetterBatch: Sendable, Equatable, Codable {
    public enum State: String, Sendable, Codable {
        case open, closing, closed
    }

    public enum UploadState: String, Sendable, Codable {
        case pending, uploaded, failed
    }

    public var id: Int64
    /// The export files' stem, e.g. `2026-11-22-000003`.
    public var name: String
    public var state: State
    public var letters: Int
    /// Unix milliseconds.
    public var createdAt: Int64
    public var closingAt: Int64?
    public var closedAt: Int64?
    public var sha256: String?
    public var bytes: Int?
    public var uploadState: UploadState?
    public var uploadAttempts: Int
    public var uploadNextAt: Int64?
    public var uploadError: String?

    enum CodingKeys: String, CodingKey {
        case id, name, state, letters, sha256, bytes
        case createdAt = "created_at", closingAt = "closing_at", closedAt = "closed_at"
        case uploadState = "upload_state", uploadAttempts = "upload_attempts", uploadNextAt = "upload_next_at"
        case uploadError = "upload_error"
    }

    /// `2026-11-22-000003`: the day the batch opened (UTC) and its number, so export files sort
    /// by age and never collide.
    static func name(id: Int64, openedAt now: Int64) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: Date(timeIntervalSince1970: Double(now) / 1000))
        let number = String(id)
        return String(format: "%04d-%02d-%02d-", parts.year!, parts.month!, parts.day!)
            + String(repeating: "0", count: max(0, 6 - number.count)) + number
    }

    public var csvFileName: String { "letters-\(name).csv" }
    public var manifestFileName: String { "letters-\(name).manifest.json" }
}

/// One letter as it is exported: a row of the batch's CSV.
public struct Letter: Sendable, Equatable, Codable {
    public enum Format: String, Sendable, Codable {
        case text, html
    }

    public var messageID: Int64
    public var key: String?
    public var name: String
    public var line1: String
    public var line2: String
    public var city: String
    public var region: String
    public var postalCode: String
    public var country: String
    public var campaign: String
    public var format: Format
    /// The rendered letter.
    public var body: String
    /// The message's template, while the message is kept (not a column of the letter's own).
    public var template: String?

    enum CodingKeys: String, CodingKey {
        case key, name, line1, line2, city, region, country, campaign, format, body, template
        case messageID = "message_id", postalCode = "postal_code"
    }

    public init(messageID: Int64, key: String?, name: String, address: PostalAddress, campaign: String?, format: Format,
                body: String, template: String? = nil) {
        self.messageID = messageID
        self.key = key
        self.name = name
        line1 = address.line1 ?? ""
        line2 = address.line2 ?? ""
        city = address.city ?? ""
        region = address.region ?? ""
        postalCode = address.postalCode ?? ""
        country = address.country ?? ""
        self.campaign = campaign ?? ""
        self.format = format
        self.body = body
        self.template = template
    }
}
