import Foundation

/// `herald templates check`: compiles every template and renders it with its sample data,
/// reporting per file and line what would go wrong with real messages.
public struct TemplateCheck: Sendable {
    /// SMS longer than this many segments is an error.
    public var maxSMSSegments: Int

    public init(maxSMSSegments: Int = 3) {
        self.maxSMSSegments = maxSMSSegments
    }

    /// Every problem in the store's folder, errors and warnings, in file order.
    public func run(_ store: TemplateStore, renderer: MessageRenderer) -> [TemplateProblem] {
        var problems = store.problems
        for template in store.templates {
            problems += check(template, renderer: renderer)
        }
        return problems.sorted { ($0.file, $0.line ?? 0) < ($1.file, $1.line ?? 0) }
    }

    func check(_ template: CompiledTemplate, renderer: MessageRenderer) -> [TemplateProblem] {
        var problems: [TemplateProblem] = []
        let samplePath = "\(template.displayPath)/\(TemplateCompiler.sampleFileName)"
        if template.channel == .email, template.parts[.html] != nil, template.parts[.text] == nil {
            problems.append(TemplateProblem(file: "\(template.displayPath)/\(TemplatePart.html.fileName)",
                "an email with an HTML part needs a text part too (text.txt): some clients and most spam filters expect one"))
        }
        guard let sample = template.sample else {
            problems.append(TemplateProblem(file: samplePath, "missing: every template carries sample data for previews and checks"))
            return problems
        }
        // Every token outside a section must be supplied by the sample (or a fallback), not only
        // the first one the renderer would stop at.
        let locale = RecipientLocale(timeZoneID: sample.recipient.timezone ?? renderer.defaultTimeZone.identifier,
                                     localeID: template.manifest.locale)
        guard let scope = try? TemplateScope(input: sample, template: template, locale: locale,
                                  unsubscribeURL: renderer.unsubscribe == nil ? nil : "https://unsubscribe.invalid/token")
        else {
            problems.append(TemplateProblem(file: samplePath, "data is not valid JSON"))
            return problems
        }
        for (_, part) in template.parts.sorted(by: { $0.key < $1.key }) {
            for tag in part.required where RecipientLocale.$current.withValue(locale, operation: { TemplateScope.isMissing(scope.lookup(tag)) }) {
                problems.append(TemplateProblem(file: part.file, line: tag.line,
                    tag.path == "unsubscribe_url" && renderer.unsubscribe == nil
                        ? "\(tag.display) needs unsubscribe.base_url in the config"
                        : "\(tag.display) has no value in \(TemplateCompiler.sampleFileName) and no fallback"))
            }
        }
        guard problems.isEmpty else { return problems }
        do {
            let rendered = try renderer.render(template, input: sample)
            if template.channel == .sms, let text = rendered[.text] {
                let encoding = SMSEncoding(text)
                if encoding.segments > maxSMSSegments {
                    problems.append(TemplateProblem(file: template.parts[.text]!.file,
                        "the sample renders to \(encoding.segments) SMS segments (\(encoding)), over the limit of \(maxSMSSegments)"))
                }
            }
        } catch {
            problems.append(TemplateProblem(file: samplePath, "rendering the sample fails: \(error.detail)"))
        }
        return problems
    }
}
