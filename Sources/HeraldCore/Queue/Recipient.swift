/// The message's `to`: only the fields its channel needs are required.
public struct Recipient: Sendable, Codable, Equatable {
    public var email: String?
    public var name: String?
    public var phone: String?
    public var timezone: String?
    /// Webhook: the name of an endpoint configured under `channels.webhook.endpoints`.
    public var endpoint: String?
    public var address: PostalAddress?

    public init(email: String? = nil, name: String? = nil, phone: String? = nil, timezone: String? = nil,
                endpoint: String? = nil, address: PostalAddress? = nil) {
        self.email = email
        self.name = name
        self.phone = phone
        self.timezone = timezone
        self.endpoint = endpoint
        self.address = address
    }
}

public struct PostalAddress: Sendable, Codable, Equatable {
    public var line1: String?
    public var line2: String?
    public var city: String?
    public var region: String?
    public var postalCode: String?
    public var country: String?

    enum CodingKeys: String, CodingKey {
        case line1, line2, city, region, country
        case postalCode = "postal_code"
    }

    public init(line1: String? = nil, line2: String? = nil, city: String? = nil, region: String? = nil,
                postalCode: String? = nil, country: String? = nil) {
        self.line1 = line1
        self.line2 = line2
        self.city = city
        self.region = region
        self.postalCode = postalCode
        self.country = country
    }
}
