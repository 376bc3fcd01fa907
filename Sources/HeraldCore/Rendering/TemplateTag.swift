import Foundation

/// One `{{…}}` tag of a template file, as far as Herald needs to know it: which data it reads and
/// on which line. swift-mustache keeps its parsed tokens to itself, so this small scanner reads
/// the tags again for the checks that need names and lines (missing tokens, unknown filters).
struct TemplateTag: Sendable, Equatable {
    enum Kind: Sendable, Equatable {
        /// `{{name}}`, `{{{name}}}`, `{{&name}}`: output.
        case variable
        /// `{{#name}}`: a conditional or a loop.
        case section
        /// `{{^name}}`: rendered when the value is missing, empty or false (an explicit fallback).
        case invertedSection
        /// `{{/name}}`.
        case close
        /// Comments, partials, pragmas: nothing to check.
        case other
    }

    var kind: Kind
    /// The dotted data path, e.g. `data.first_name`, with filters stripped.
    var path: String {
        didSet { components = path.split(separator: ".").map(String.init) }
    }
    /// `path` split at the dots, once, rather than on every render.
    private(set) var components: [String] = []
    /// Filters applied, outermost first: `{{upper(trim(data.city))}}` → `["upper", "trim"]`.
    var filters: [String]
    /// 1-based line of the tag in its file.
    var line: Int
    /// How many sections enclose the tag.
    var depth: Int

    /// The tag as written, for messages: `{{upper(data.city)}}`.
    var display: String {
        filters.reversed().reduce(path) { inner, filter in "\(filter)(\(inner))" }.wrappedInBraces
    }

    /// Scans `text` for tags. Custom delimiters (`{{=<% %>=}}`) are not supported in Herald
    /// templates and are reported by the compiler, so the scanner need not follow them.
    static func scan(_ text: String) -> [TemplateTag] {
        var tags: [TemplateTag] = []
        var depth = 0
        var line = 1
        var index = text.startIndex
        while let open = text[index...].range(of: "{{") {
            line += text[index..<open.lowerBound].count(where: \.isNewline)
            let triple = text[open.upperBound...].hasPrefix("{")
            let closing = triple ? "}}}" : "}}"
            let contentStart = triple ? text.index(after: open.upperBound) : open.upperBound
            guard let close = text[contentStart...].range(of: closing) else { break }
            let content = text[contentStart..<close.lowerBound]
            let tagLine = line
            line += content.count(where: \.isNewline)
            index = close.upperBound

            var body = Substring(content.trimmingCharacters(in: .whitespaces))
            var kind = Kind.variable
            if !triple, let sigil = body.first {
                switch sigil {
                case "#": kind = .section
                case "^": kind = .invertedSection
                case "/": kind = .close
                case "&": kind = .variable
                case "!", ">", "<", "$", "=", "%": kind = .other
                default: break
                }
                if "#^/&!><$=%".contains(sigil) { body = Substring(body.dropFirst().trimmingCharacters(in: .whitespaces)) }
            }
            if kind == .other { continue }
            let (path, filters) = splitFilters(body)
            if kind == .close { depth = max(0, depth - 1) }
            var tag = TemplateTag(kind: kind, path: "", filters: filters, line: tagLine, depth: depth)
            tag.path = path
            tags.append(tag)
            if kind == .section || kind == .invertedSection { depth += 1 }
        }
        return tags
    }

    /// `upper(trim(data.city))` → (`data.city`, [`upper`, `trim`]).
    private static func splitFilters(_ expression: Substring) -> (String, [String]) {
        var rest = expression
        var filters: [String] = []
        while let paren = rest.firstIndex(of: "("), rest.hasSuffix(")") {
            filters.append(String(rest[..<paren]).trimmingCharacters(in: .whitespaces))
            rest = rest[rest.index(after: paren)..<rest.index(before: rest.endIndex)]
        }
        return (String(rest).trimmingCharacters(in: .whitespaces), filters)
    }
}

private extension String {
    var wrappedInBraces: String { "{{\(self)}}" }
}
