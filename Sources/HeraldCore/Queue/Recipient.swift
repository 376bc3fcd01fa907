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

extension Recipient {
    /// The stored form: compact JSON, keys sorted, absent fields left out (what `JSONEncoder`
    /// with sorted keys writes, without its cost on every enqueued message).
    var jsonText: String {
        var fields = JSONFields(out: [UInt8(ascii: "{")])
        if let address {
            fields.key("address")
            var inner = JSONFields(out: [UInt8(ascii: "{")])
            inner.add("city", address.city)
            inner.add("country", address.country)
            inner.add("line1", address.line1)
            inner.add("line2", address.line2)
            inner.add("postal_code", address.postalCode)
            inner.add("region", address.region)
            fields.out += inner.out + [UInt8(ascii: "}")]
        }
        fields.add("email", email)
        fields.add("endpoint", endpoint)
        fields.add("name", name)
        fields.add("phone", phone)
        fields.add("timezone", timezone)
        fields.out.append(UInt8(ascii: "}"))
        return String(decoding: fields.out, as: UTF8.self)
    }
}

/// Writes the members of a JSON object, commas between them.
private struct JSONFields {
    var out: [UInt8]
    var count = 0

    mutating func key(_ name: String) {
        if count > 0 { out.append(UInt8(ascii: ",")) }
        count += 1
        JSONStringEscaping.append(name, to: &out)
        out.append(UInt8(ascii: ":"))
    }

    mutating func add(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONStringEscaping.append(value, to: &out)
    }
}

extension Recipient {
    /// Reads the stored form back (see `jsonText`) with Herald's own JSON parser: the sequencer
    /// reads one per enrollment it moves, and `JSONDecoder` cost a quarter of a pass.
    init(stored text: String) throws {
        var text = text
        let value = try text.withUTF8 { bytes throws(JSONParser.SyntaxError) in try JSONParser.parse(UnsafeRawBufferPointer(bytes)) }
        guard case .object = value else { throw StoredRecipientError() }
        self.init(email: value["email"]?.string, name: value["name"]?.string, phone: value["phone"]?.string,
                  timezone: value["timezone"]?.string, endpoint: value["endpoint"]?.string)
        if let address = value["address"], case .object = address {
            self.address = PostalAddress(line1: address["line1"]?.string, line2: address["line2"]?.string, city: address["city"]?.string,
                                         region: address["region"]?.string, postalCode: address["postal_code"]?.string,
                                         country: address["country"]?.string)
        }
    }
}

/// A stored recipient that is not a JSON object (the queue's file was edited by hand).
struct StoredRecipientError: Error, CustomStringConvertible {
    var description: String { "a stored recipient is not a JSON object" }
}
