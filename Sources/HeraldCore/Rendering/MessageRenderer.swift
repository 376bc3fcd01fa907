import Foundation

/// Renders messages from the compiled templates in a `TemplateStore`: the one place where a
/// template, a message's data and the escaping rules meet.
public struct MessageRenderer: Sendable {
    public let store: TemplateStore
    let defaultTimeZone: TimeZone
    let unsubscribe: UnsubscribeLinks?

    /// - Parameters:
    ///   - defaultTimeZone: for recipients whose message has no `to.timezone`.
    ///   - unsubscribe: makes `unsubscribe_url`; without it templates cannot use that token.
    public init(store: TemplateStore, defaultTimeZone: TimeZone, unsubscribe: UnsubscribeLinks? = nil) {
        self.store = store
        self.defaultTimeZone = defaultTimeZone
        self.unsubscribe = unsubscribe
    }

    /// Renders a claimed message with the template it names.
    public func render(_ message: ClaimedMessage) throws(RenderError) -> RenderedMessage {
        guard let template = store.template(named: message.template) else {
            if let problem = store.problem(named: message.template) {
                throw RenderError(.templateUnavailable, "template \(message.template) does not compile: \(problem)")
            }
            throw RenderError(.templateUnknown, "no template \"\(message.template)\" under \(store.displayRoot)")
        }
        guard template.channel == message.channel else {
            throw RenderError(.channelMismatch,
                "template \(template.name) is for \(template.channel.rawValue), the message is for \(message.channel.rawValue)")
        }
        let input: RenderInput
        do {
            input = try RenderInput(message)
        } catch {
            throw RenderError(.invalidData, "data: \(error)")
        }
        return try render(template, input: input)
    }

    /// Renders `template` with `input`: what `herald preview` prints and what a channel sends.
    public func render(_ template: CompiledTemplate, input: RenderInput) throws(RenderError) -> RenderedMessage {
        let zone = input.recipient.timezone.flatMap(TimeZone.init(identifier:)) ?? defaultTimeZone
        let locale = RecipientLocale(timeZone: zone, locale: Locale(identifier: template.manifest.locale))
        let url = unsubscribe.map { $0.url(channel: template.channel, recipient: input.recipient, campaign: input.campaign) }
        let scope = TemplateScope(input: input, template: template, locale: locale, unsubscribeURL: url)

        var parts: [TemplatePart: String] = [:]
        for (part, compiled) in template.parts {
            for tag in compiled.required where TemplateScope.isMissing(scope.lookup(tag.path, filters: tag.filters)) {
                let hint = tag.path == "unsubscribe_url" && unsubscribe == nil
                    ? " (configure unsubscribe.base_url to provide it)" : " and no fallback in \(TemplateManifest.fileName)"
                throw RenderError(.tokenMissing, "\(compiled.file):\(tag.line): \(tag.display) has no value\(hint)")
            }
            var text = compiled.template.render(scope.root)
            switch part {
            case .subject:
                guard !HeaderField.containsLineBreak(text) else {
                    throw RenderError(.headerLineBreak, "\(compiled.file): the subject would contain CR or LF from the data")
                }
            case .body:
                guard (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil else {
                    throw RenderError(.invalidJSON,
                        "\(compiled.file): the rendered body is not valid JSON (put string tokens inside quotes: \"{{data.name}}\")")
                }
            case .text where template.channel == .sms:
                // A file's final newline is not part of the message.
                while text.last?.isNewline == true { text.removeLast() }
            default: break
            }
            parts[part] = text
        }
        return RenderedMessage(template: template.name, channel: template.channel, parts: parts, manifest: template.manifest)
    }
}
