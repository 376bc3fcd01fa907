import Foundation
import Mustache

/// A text or number from the message as the template engine sees it: rendered as written,
/// empty counts as missing (so `{{^data.first_name}}there{{/data.first_name}}` works for `""`),
/// and filters apply to it: `{{capitalize(data.first_name)}}`, `{{date(data.appointment_at)}}`.
struct TemplateText: MustacheCustomRenderable, MustacheTransformable, MustacheParent, CustomStringConvertible, Sendable {
    let text: String

    var renderText: String { text }
    var description: String { text }
    var isNull: Bool {
        // Most values start with a visible ASCII character: that byte answers it.
        if let first = text.utf8.first, first > 0x20, first < 0x80 { return false }
        return text.allSatisfy(\.isWhitespace)
    }

    func transform(_ name: String) -> Any? {
        guard let filter = TemplateFilter(rawValue: name) else { return nil }
        return filter.apply(to: self)
    }

    func with(_ text: String) -> TemplateText { TemplateText(text: text) }

    /// A text has no fields. Saying so spares the engine a reflection (`Mirror`) of this struct
    /// for every name looked up inside `{{#data.x}}…{{/data.x}}`, which was a tenth of a render.
    func child(named: String) -> Any? { nil }
}

/// The recipient's time zone and the template's language: what date filters format with.
///
/// Bound for the duration of one render (`RecipientLocale.$current.withValue`) rather than
/// stored in every value: each value is copied many times by the engine, and a class reference
/// in each copy was a fifth of a render's time in retain/release.
struct RecipientLocale: Sendable {
    let timeZoneID: String
    let localeID: String

    @TaskLocal static var current = RecipientLocale(timeZoneID: "UTC", localeID: "en_US")

    func format(_ date: Date, date dateStyle: Date.FormatStyle.DateStyle, time timeStyle: Date.FormatStyle.TimeStyle) -> String {
        // The zone and locale are looked up only when a date filter runs: most renders never need them.
        let style = Date.FormatStyle(date: dateStyle, time: timeStyle, locale: Locale(identifier: localeID),
                                     timeZone: TimeZone(identifier: timeZoneID) ?? .gmt)
        // ICU puts a narrow no-break space before AM/PM; that one character would turn a GSM-7
        // SMS into UCS-2 and more than double its segments.
        return date.formatted(style).replacingOccurrences(of: "\u{202F}", with: " ").replacingOccurrences(of: "\u{00A0}", with: " ")
    }
}
