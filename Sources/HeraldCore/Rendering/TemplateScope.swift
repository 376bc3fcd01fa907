import Foundation

/// The values a template sees, as a tree of dictionaries the engine walks:
///
/// - `to.name`, `to.email`, `to.phone`, `to.timezone`, `to.endpoint`, `to.address.city`…
/// - `data.*`: the message's data, as sent by the CRM.
/// - `campaign`, `message.key`, `message.id`, `message.channel`, `message.category`, `message.template`
/// - `unsubscribe_url` when the config has an unsubscribe base URL.
///
/// The manifest's fallbacks fill in values that are missing or empty.
struct TemplateScope {
    private(set) var root: [String: Any]

    init(input: RenderInput, template: CompiledTemplate, locale: RecipientLocale, unsubscribeURL: String?) {
        func text(_ value: String?) -> TemplateText? { value.map { TemplateText(text: $0, locale: locale) } }
        var to: [String: Any] = [:]
        let recipient = input.recipient
        to["name"] = text(recipient.name)
        to["email"] = text(recipient.email)
        to["phone"] = text(recipient.phone)
        to["timezone"] = text(recipient.timezone ?? locale.timeZone.identifier)
        to["endpoint"] = text(recipient.endpoint)
        if let address = recipient.address {
            var fields: [String: Any] = [:]
            fields["line1"] = text(address.line1)
            fields["line2"] = text(address.line2)
            fields["city"] = text(address.city)
            fields["region"] = text(address.region)
            fields["postal_code"] = text(address.postalCode)
            fields["country"] = text(address.country)
            to["address"] = fields
        }
        var message: [String: Any] = [
            "channel": text(template.channel.rawValue)!,
            "category": text(input.category.rawValue)!,
            "template": text(template.name)!,
        ]
        message["key"] = text(input.key)
        message["id"] = text(input.messageID.map(String.init))
        root = ["to": to, "message": message]
        root["data"] = Self.value(input.data, locale: locale)
        root["campaign"] = text(input.campaign)
        root["unsubscribe_url"] = text(unsubscribeURL)
        for (path, fallback) in template.manifest.fallbacks where Self.isMissing(lookup(path, filters: [])) {
            root = Self.setting(TemplateText(text: fallback, locale: locale), at: path.split(separator: ".").map(String.init)[...],
                                in: root)
        }
    }

    /// The value at a dotted path with `filters` (outermost first) applied, as the engine would
    /// find it from the top level.
    func lookup(_ path: String, filters: [String]) -> Any? {
        var current: Any? = root
        for component in path.split(separator: ".") {
            guard let object = current as? [String: Any] else { return nil }
            current = object[String(component)]
        }
        for filter in filters.reversed() {
            guard let value = current else { return nil }
            if let text = value as? TemplateText, let filter = TemplateFilter(rawValue: filter) {
                current = filter.apply(to: text)
            } else if let array = value as? [Any] {
                current = array.transform(filter)
            } else {
                return nil
            }
        }
        return current
    }

    /// Missing, empty text, or an empty list: what must not be rendered as if it were a value.
    static func isMissing(_ value: Any?) -> Bool {
        switch value {
        case nil: true
        case let text as TemplateText: text.isNull
        case let array as [Any]: array.isEmpty
        default: false
        }
    }

    private static func value(_ json: JSONValue, locale: RecipientLocale) -> Any? {
        switch json {
        case .null: nil
        case .bool(let value): value
        case .integer(let value): TemplateText(text: String(value), locale: locale)
        case .number(let value): TemplateText(text: value.formatted(.number.grouping(.never).locale(Locale(identifier: "en_US_POSIX"))), locale: locale)
        case .string(let value): TemplateText(text: value, locale: locale)
        case .array(let values): values.compactMap { Self.value($0, locale: locale) }
        case .object(let fields): fields.compactMapValues { Self.value($0, locale: locale) }
        }
    }

    private static func setting(_ value: Any, at path: ArraySlice<String>, in object: [String: Any]) -> [String: Any] {
        guard let first = path.first else { return object }
        var object = object
        if path.count == 1 {
            object[first] = value
        } else {
            object[first] = setting(value, at: path.dropFirst(), in: object[first] as? [String: Any] ?? [:])
        }
        return object
    }
}
