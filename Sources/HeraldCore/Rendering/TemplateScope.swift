import Foundation
import Mustache

/// The values a template sees, as a tree of dictionaries the engine walks:
///
/// - `to.name`, `to.email`, `to.phone`, `to.timezone`, `to.endpoint`, `to.address.city`…
/// - `data.*`: the message's data, as sent by the CRM.
/// - `campaign`, `message.key`, `message.id`, `message.channel`, `message.category`, `message.template`
/// - `unsubscribe_url` when the config has an unsubscribe base URL.
///
/// The manifest's fallbacks fill in values that are missing or empty.
struct TemplateScope {
    private(set) var root: TemplateObject

    init(input: RenderInput, template: CompiledTemplate, locale: RecipientLocale, unsubscribeURL: String?) throws(RenderError) {
        func text(_ value: String?) -> TemplateText? { value.map { TemplateText(text: $0) } }
        var to: [String: Any] = [:]
        let recipient = input.recipient
        to["name"] = text(recipient.name)
        to["email"] = text(recipient.email)
        to["phone"] = text(recipient.phone)
        to["timezone"] = text(locale.timeZoneID)
        to["endpoint"] = text(recipient.endpoint)
        if let address = recipient.address {
            var fields: [String: Any] = [:]
            fields["line1"] = text(address.line1)
            fields["line2"] = text(address.line2)
            fields["city"] = text(address.city)
            fields["region"] = text(address.region)
            fields["postal_code"] = text(address.postalCode)
            fields["country"] = text(address.country)
            to["address"] = TemplateObject(fields)
        }
        var message: [String: Any] = [
            "channel": text(template.channel.rawValue)!,
            "category": text(input.category.rawValue)!,
            "template": text(template.name)!,
        ]
        message["key"] = text(input.key)
        message["id"] = text(input.messageID.map(String.init))
        var root: [String: Any] = ["to": TemplateObject(to), "message": TemplateObject(message)]
        // The intake's own parser rather than JSONSerialization: going through Foundation's
        // objects (NSNumber, bridged dictionaries) was a fifth of a render.
        let parsed: JSONValue
        do {
            var json = input.dataJSON
            parsed = try json.withUTF8 { buffer throws(JSONParser.SyntaxError) in try JSONParser.parse(UnsafeRawBufferPointer(buffer)) }
        } catch {
            throw RenderError(.invalidData, "data: not valid JSON (\(error))")
        }
        root["data"] = Self.value(parsed)
        root["campaign"] = text(input.campaign)
        root["unsubscribe_url"] = text(unsubscribeURL)
        self.root = TemplateObject(root)
        for (path, fallback) in template.manifest.fallbacks {
            let components = path.split(separator: ".").map(String.init)
            if Self.isMissing(lookup(components, filters: [])) {
                self.root.set(TemplateText(text: fallback), at: components[...])
            }
        }
    }

    /// The value at a dotted path with `filters` (outermost first) applied, as the engine would
    /// find it from the top level.
    func lookup(_ tag: TemplateTag) -> Any? {
        lookup(tag.components, filters: tag.filters)
    }

    func lookup(_ components: [String], filters: [String]) -> Any? {
        var current: Any? = root
        for component in components {
            guard let object = current as? TemplateObject else { return nil }
            current = object.fields[component]
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

    /// A JSON value as the engine should see it: text and numbers as `TemplateText`, booleans
    /// as `Bool` (for sections), null as missing.
    private static func value(_ json: JSONValue) -> Any? {
        switch json {
        case .null: nil
        case .bool(let flag): flag
        case .string(let text): TemplateText(text: text)
        case .integer(let integer): TemplateText(text: String(integer))
        case .number(let number): TemplateText(text: number.formatted(Self.numberStyle))
        case .array(let elements): elements.compactMap { value($0) }
        case .object(let members): TemplateObject(members.compactMapValues { value($0) })
        }
    }

    /// Numbers as a CRM wrote them: no grouping, a point for the decimals, whatever the locale.
    private static let numberStyle = FloatingPointFormatStyle<Double>.number.grouping(.never).locale(Locale(identifier: "en_US_POSIX"))
}

/// A JSON object or a group of tokens (`to`, `message`) as the engine sees it.
///
/// A struct of its own rather than `[String: Any]`: the engine asks every value it meets whether
/// it is a `MustacheParent`, and answering that for a dictionary (a conditional conformance)
/// costs a generic metadata lookup each time; for a plain struct it is a cached check. (A final
/// class measured slower still: every copy of the value is a retain.)
struct TemplateObject: MustacheParent, MustacheCustomRenderable {
    private(set) var fields: [String: Any]

    init(_ fields: [String: Any]) {
        self.fields = fields
    }

    func child(named name: String) -> Any? { fields[name] }

    var renderText: String { "" }
    var isNull: Bool { fields.isEmpty }

    /// Puts `value` at a dotted path, creating the objects on the way.
    mutating func set(_ value: Any, at path: ArraySlice<String>) {
        guard let first = path.first else { return }
        if path.count == 1 {
            fields[first] = value
        } else {
            var next = fields[first] as? TemplateObject ?? TemplateObject([:])
            next.set(value, at: path.dropFirst())
            fields[first] = next
        }
    }
}
