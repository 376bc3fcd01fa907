import Foundation
import Mustache

/// A text or number from the message as the template engine sees it: rendered as written,
/// empty counts as missing (so `{{^data.first_name}}there{{/data.first_name}}` works for `""`),
/// and filters apply to it: `{{capitalize(data.first_name)}}`, `{{date(data.appointment_at)}}`.
struct TemplateText: MustacheCustomRenderable, MustacheTransformable, CustomStringConvertible, Sendable {
    let text: String
    let locale: RecipientLocale

    var renderText: String { text }
    var description: String { text }
    var isNull: Bool { text.allSatisfy(\.isWhitespace) }

    func transform(_ name: String) -> Any? {
        guard let filter = TemplateFilter(rawValue: name) else { return nil }
        return filter.apply(to: self)
    }

    func with(_ text: String) -> TemplateText { TemplateText(text: text, locale: locale) }
}

/// The recipient's time zone and the template's language: what date filters format with. One
/// per rendered message, shared by all its values.
final class RecipientLocale: Sendable {
    let timeZone: TimeZone
    let locale: Locale

    init(timeZone: TimeZone, locale: Locale) {
        self.timeZone = timeZone
        self.locale = locale
    }

    func format(_ date: Date, date dateStyle: Date.FormatStyle.DateStyle, time timeStyle: Date.FormatStyle.TimeStyle) -> String {
        // ICU puts a narrow no-break space before AM/PM; that one character would turn a GSM-7
        // SMS into UCS-2 and more than double its segments.
        date.formatted(Date.FormatStyle(date: dateStyle, time: timeStyle, locale: locale, timeZone: timeZone))
            .replacingOccurrences(of: "\u{202F}", with: " ").replacingOccurrences(of: "\u{00A0}", with: " ")
    }
}
