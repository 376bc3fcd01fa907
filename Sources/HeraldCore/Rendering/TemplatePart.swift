/// One file of a template: what it becomes in the delivered message.
///
/// The file's name says the part (`subject.txt`, `text.txt`, `html.html`, `body.json`) and its
/// extension says how data is escaped into it.
public enum TemplatePart: String, Sendable, CaseIterable, Codable, Comparable {
    /// The email subject line: a header, so a CR or LF in the result is refused.
    case subject
    /// Plain text: the email's text part, the SMS text, a plain-text letter. Data goes in raw.
    case text
    /// HTML: the email's HTML part or an HTML letter. Data is HTML-escaped.
    case html
    /// The webhook's JSON body. Data is JSON-escaped, and the result must parse as JSON.
    case body

    /// The file that holds this part, relative to the template's folder.
    public var fileName: String {
        switch self {
        case .subject: "subject.txt"
        case .text: "text.txt"
        case .html: "html.html"
        case .body: "body.json"
        }
    }

    var escaping: TemplateEscaping {
        switch self {
        case .subject, .text: .none
        case .html: .html
        case .body: .json
        }
    }

    /// The parts a template of `channel` may have.
    public static func allowed(for channel: Channel) -> [TemplatePart] {
        switch channel {
        case .email: [.subject, .text, .html]
        case .sms: [.text]
        case .webhook: [.body]
        case .letter: [.text, .html]
        }
    }

    public static func < (lhs: TemplatePart, rhs: TemplatePart) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
