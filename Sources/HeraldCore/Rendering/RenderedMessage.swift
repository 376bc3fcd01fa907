/// A message rendered from its template: what the channel sends.
public struct RenderedMessage: Sendable, Equatable {
    public var template: String
    public var channel: Channel
    public var parts: [TemplatePart: String]
    /// The template's defaults: sender name, reply-to, headers.
    public var manifest: TemplateManifest
    /// The signed unsubscribe link the parts show, for channels that also put it in a header.
    public var unsubscribeURL: String?

    public subscript(part: TemplatePart) -> String? { parts[part] }
}
