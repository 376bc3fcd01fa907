import Foundation

/// Turns one incoming JSON object into a `NewMessage`, or a rejection that names the field.
///
/// Strict on purpose: an unknown field is refused rather than ignored, so a CRM's typo
/// (`sendat`) is caught at the door instead of silently sending now.
public struct MessageValidation: Sendable {
    /// Channels the running configuration can deliver on.
    public let channels: Set<Channel>
    /// Endpoint names configured for the webhook channel.
    public let webhookEndpoints: Set<String>

    /// The templates messages may name, with their channel and default category; nil: any name
    /// is accepted (and an unknown one fails at delivery).
    public let templates: [String: TemplateManifest]?

    public init(channels: Set<Channel>, webhookEndpoints: Set<String>, templates: [String: TemplateManifest]? = nil) {
        self.channels = channels
        self.webhookEndpoints = webhookEndpoints
        self.templates = templates
    }

    /// Validates against the configured channels and endpoints and the templates in `store`.
    public init(config: HeraldConfig, templates store: TemplateStore? = nil) {
        self.init(channels: config.channels, webhookEndpoints: Set(config.webhook?.endpoints.keys.map { $0 } ?? []),
                  templates: store.map { store in Dictionary(uniqueKeysWithValues: store.templates.map { ($0.name, $0.manifest) }) })
    }

    static let fields: Set<String> = ["key", "channel", "template", "to", "data", "send_at", "category", "campaign"]
    static let recipientFields: Set<String> = ["email", "name", "phone", "timezone", "endpoint", "address"]
    static let addressFields: Set<String> = ["line1", "line2", "city", "region", "postal_code", "country"]

    public func validate(_ value: JSONValue, now: Int64 = Timestamp.now()) -> Result<NewMessage, IntakeRejection> {
        Result { () throws(IntakeRejection) in try message(from: value, now: now) }
    }

    func message(from value: JSONValue, now: Int64) throws(IntakeRejection) -> NewMessage {
        guard case .object(let object) = value else {
            throw IntakeRejection(field: "", "expected a JSON object, got \(value.errorDescription)")
        }
        if object["enroll"] != nil {
            throw IntakeRejection(field: "enroll", "an enrollment, not a message (herald enroll, the socket API and the drop folder take enrollments)")
        }
        try Self.refuseUnknown(object, allowed: Self.fields, prefix: "")

        let key = try optionalString(object, "key")
        if let key {
            guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
                throw IntakeRejection(field: "key", "must be 1 to 255 printable ASCII characters without spaces (\"\(key.prefix(80))\")")
            }
        }

        guard let channelName = try optionalString(object, "channel") else {
            throw IntakeRejection(field: "channel", "required (email, sms, webhook or letter)")
        }
        guard let channel = Channel(rawValue: channelName) else {
            throw IntakeRejection(field: "channel", "unknown channel \"\(channelName)\" (email, sms, webhook or letter)")
        }
        guard channels.contains(channel) else {
            let configured = channels.map(\.rawValue).sorted().joined(separator: ", ")
            throw IntakeRejection(field: "channel", "\"\(channelName)\" is not configured (configured: \(configured))")
        }

        guard let template = try optionalString(object, "template") else {
            throw IntakeRejection(field: "template", "required")
        }
        guard Self.isTemplateName(template) else {
            throw IntakeRejection(field: "template", "not a template name (letters, digits, '.', '_', '-'): \"\(template.prefix(80))\"")
        }
        let manifest = templates?[template]
        if let templates {
            guard let manifest else {
                throw IntakeRejection(field: "template", "no template \"\(template)\" (\(templates.count) known, e.g. \(templates.keys.sorted().prefix(3).joined(separator: ", ")))")
            }
            guard manifest.channel == channel else {
                throw IntakeRejection(field: "template", "\"\(template)\" is a \(manifest.channel.rawValue) template, the message is for \(channel.rawValue)")
            }
        }

        guard let toValue = object["to"] else { throw IntakeRejection(field: "to", "required") }
        let recipient = try recipient(from: toValue, channel: channel)

        let dataJSON = try Self.dataJSON(object)

        var sendAt = now
        if let text = try optionalString(object, "send_at") {
            guard let milliseconds = RFC3339.milliseconds(text) else {
                throw IntakeRejection(field: "send_at", "not an RFC 3339 time (\"\(text.prefix(80))\"), e.g. \"2026-11-24T14:00:00Z\"")
            }
            sendAt = milliseconds
        }

        var category = manifest?.category ?? .marketing
        if let text = try optionalString(object, "category") {
            guard let value = MessageCategory(rawValue: text) else {
                throw IntakeRejection(field: "category", "expected marketing or transactional, got \"\(text.prefix(80))\"")
            }
            category = value
        }

        let campaign = try campaign(object)

        return NewMessage(key: key, channel: channel, template: template, recipient: recipient, dataJSON: dataJSON,
                          sendAt: sendAt, category: category, campaign: campaign)
    }

    /// `data`: an object (its JSON text), or `{}` when absent.
    static func dataJSON(_ object: [String: JSONValue]) throws(IntakeRejection) -> String {
        guard let data = object["data"], data != .null else { return "{}" }
        guard case .object = data else {
            throw IntakeRejection(field: "data", "expected an object, got \(data.errorDescription)")
        }
        return data.jsonText
    }

    /// `campaign`: at most 200 characters and nothing that could break a header it goes into.
    func campaign(_ object: [String: JSONValue]) throws(IntakeRejection) -> String? {
        let campaign = try optionalString(object, "campaign")
        if let campaign, !(campaign.count <= 200 && HeaderField.isValidValue(campaign)) {
            throw IntakeRejection(field: "campaign", "at most 200 characters, no control characters")
        }
        return campaign
    }

    func recipient(from value: JSONValue, channel: Channel) throws(IntakeRejection) -> Recipient {
        guard case .object(let object) = value else {
            throw IntakeRejection(field: "to", "expected an object, got \(value.errorDescription)")
        }
        try Self.refuseUnknown(object, allowed: Self.recipientFields, prefix: "to.")
        var recipient = Recipient()
        recipient.email = try optionalString(object, "email", prefix: "to.")
        recipient.name = try optionalString(object, "name", prefix: "to.")
        recipient.phone = try optionalString(object, "phone", prefix: "to.")
        recipient.timezone = try optionalString(object, "timezone", prefix: "to.")
        recipient.endpoint = try optionalString(object, "endpoint", prefix: "to.")

        if let email = recipient.email, !email.unicodeScalars.allSatisfy({ $0.isASCII }) {
            // Such an address needs SMTPUTF8 end to end, which Herald does not speak: refusing it
            // here is better than raw 8-bit in RCPT TO to a server that never offered it.
            throw IntakeRejection(field: "to.email", "non-ASCII addresses are not supported (no SMTPUTF8) (\"\(email.prefix(80))\")")
        }
        if let email = recipient.email, !Self.isEmailAddress(email) {
            throw IntakeRejection(field: "to.email", "not an email address (\"\(email.prefix(80))\")")
        }
        if let phone = recipient.phone, !Self.isE164(phone) {
            throw IntakeRejection(field: "to.phone", "not E.164 (\"\(phone.prefix(80))\"), e.g. \"+15551234567\"")
        }
        if let name = recipient.name, !HeaderField.isValidValue(name) {
            throw IntakeRejection(field: "to.name", "must not contain control characters (CR, LF, NUL)")
        }
        if let zone = recipient.timezone, TimeZone(identifier: zone) == nil {
            throw IntakeRejection(field: "to.timezone", "unknown IANA time zone (\"\(zone.prefix(80))\")")
        }
        if let address = object["address"], address != .null {
            recipient.address = try postalAddress(from: address)
        }

        switch channel {
        case .email:
            guard recipient.email != nil else { throw IntakeRejection(field: "to.email", "required for the email channel") }
        case .sms:
            guard recipient.phone != nil else { throw IntakeRejection(field: "to.phone", "required for the sms channel") }
        case .webhook:
            guard let endpoint = recipient.endpoint else {
                throw IntakeRejection(field: "to.endpoint", "required for the webhook channel")
            }
            guard webhookEndpoints.contains(endpoint) else {
                let known = webhookEndpoints.sorted().joined(separator: ", ")
                throw IntakeRejection(field: "to.endpoint", "unknown endpoint \"\(endpoint.prefix(80))\" (configured: \(known))")
            }
        case .letter:
            if let problem = PostalAddressRules.problem(name: recipient.name, address: recipient.address) { throw problem }
        }
        return recipient
    }

    private func postalAddress(from value: JSONValue) throws(IntakeRejection) -> PostalAddress {
        guard case .object(let object) = value else {
            throw IntakeRejection(field: "to.address", "expected an object, got \(value.errorDescription)")
        }
        try Self.refuseUnknown(object, allowed: Self.addressFields, prefix: "to.address.")
        let prefix = "to.address."
        return PostalAddress(
            line1: try optionalString(object, "line1", prefix: prefix),
            line2: try optionalString(object, "line2", prefix: prefix),
            city: try optionalString(object, "city", prefix: prefix),
            region: try optionalString(object, "region", prefix: prefix),
            postalCode: try optionalString(object, "postal_code", prefix: prefix),
            country: try optionalString(object, "country", prefix: prefix))
    }

    func optionalString(_ object: [String: JSONValue], _ field: String, prefix: String = "")
        throws(IntakeRejection) -> String?
    {
        switch object[field] {
        case nil, .null?:
            return nil
        case .string(let value)?:
            return value
        case let other?:
            throw IntakeRejection(field: prefix + field, "expected a string, got \(other.errorDescription)")
        }
    }

    static func refuseUnknown(_ object: [String: JSONValue], allowed: Set<String>, prefix: String)
        throws(IntakeRejection)
    {
        // Sorted only when something is wrong, so the error names the same field every time.
        guard object.keys.contains(where: { !allowed.contains($0) }) else { return }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw IntakeRejection(field: prefix + unknown, "unknown field (expected one of: \(allowed.sorted().joined(separator: ", ")))")
        }
    }

    /// ASCII letters and digits, then also `.`, `_` and `-`; at most 128 bytes.
    static func isTemplateName(_ name: String) -> Bool {
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
        }
        guard let first = name.utf8.first, name.utf8.count <= 128, isAlphanumeric(first) else { return false }
        return name.utf8.allSatisfy { byte in
            isAlphanumeric(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
    }

    /// `+` and 7 to 15 digits, the first not 0 (ITU-T E.164).
    static func isE164(_ phone: String) -> Bool {
        let digits = phone.utf8.dropFirst()
        return phone.utf8.first == UInt8(ascii: "+") && (7...15).contains(digits.count)
            && digits.first != UInt8(ascii: "0") && digits.allSatisfy { (0x30...0x39).contains($0) }
    }

    /// A deliberately modest check: one `@`, something on each side, a dot in the domain, no
    /// spaces or control characters, and none of `<`, `>` or `,` (they would break out of the
    /// SMTP envelope or the To header). The mail server has the final word.
    static func isEmailAddress(_ address: String) -> Bool {
        guard address.utf8.count <= 254, let at = address.lastIndex(of: "@") else { return false }
        let local = address[..<at]
        let domain = address[address.index(after: at)...]
        return !local.isEmpty && domain.contains(".") && !domain.hasPrefix(".") && !domain.hasSuffix(".")
            && address.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value < 0x7F && $0 != "<" && $0 != ">" && $0 != "," }
    }
}
