import Foundation

/// Renders messages from the compiled templates in a `TemplateStore`: the one place where a
/// template, a message's data and the escaping rules meet.
public struct MessageRenderer: Sendable {
    public let store: TemplateStore
    let defaultTimeZone: TimeZone
    let unsubscribe: UnsubscribeLinks?
    let tracking: TrackingLinks?

    /// - Parameters:
    ///   - defaultTimeZone: for recipients whose message has no `to.timezone`.
    ///   - unsubscribe: makes `unsubscribe_url`; without it templates cannot use that token.
    ///   - tracking: adds the open pixel and click links to queued emails' HTML (not to previews,
    ///     which have no message to record against).
    public init(store: TemplateStore, defaultTimeZone: TimeZone, unsubscribe: UnsubscribeLinks? = nil,
                tracking: TrackingLinks? = nil) {
        self.store = store
        self.defaultTimeZone = defaultTimeZone
        self.unsubscribe = unsubscribe
        self.tracking = tracking
    }

    /// This renderer without tracking, for showing a queued message to an operator: the console's
    /// frame would fetch the pixel, and an operator's look must not count as the recipient's open.
    public var forPreview: MessageRenderer {
        MessageRenderer(store: store, defaultTimeZone: defaultTimeZone, unsubscribe: unsubscribe)
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
        return try render(template, input: RenderInput(message))
    }

    /// Renders `template` with `input`: what `herald preview` prints and what a channel sends.
    public func render(_ template: CompiledTemplate, input: RenderInput) throws(RenderError) -> RenderedMessage {
        // to.timezone was checked against the IANA database when the message was enqueued.
        let locale = RecipientLocale(timeZoneID: input.recipient.timezone ?? defaultTimeZone.identifier,
                                     localeID: template.manifest.locale)
        let url = template.needsUnsubscribeURL
            ? unsubscribe.map { $0.url(channel: template.channel, recipient: input.recipient, campaign: input.campaign) } : nil
        let scope = try TemplateScope(input: input, template: template, locale: locale, unsubscribeURL: url)
        let result = RecipientLocale.$current.withValue(locale) {
            Result { () throws(RenderError) in try render(template, scope: scope) }
        }
        var rendered = try result.get()
        rendered.unsubscribeURL = url
        if let tracking, let messageID = input.messageID, template.channel == .email, template.manifest.tracking,
           let html = rendered.parts[.html]
        {
            rendered.parts[.html] = TrackedHTML.rewrite(html, messageID: messageID, links: tracking) { link in
                // The recipient must be able to leave without Herald counting it as a click.
                link == url || unsubscribe.map { link.hasPrefix($0.baseURL + "/") } == true
                    || link.hasPrefix(tracking.baseURL + "/")
            }
        }
        return rendered
    }

    private func render(_ template: CompiledTemplate, scope: TemplateScope) throws(RenderError) -> RenderedMessage {
        var parts: [TemplatePart: String] = [:]
        for (part, compiled) in template.parts {
            for tag in compiled.required where TemplateScope.isMissing(scope.lookup(tag)) {
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
                guard JSONParser.isValid(text) else {
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
