import Foundation
import Mustache

/// A template ready to render: every part parsed once, its tokens known.
public struct CompiledTemplate: Sendable {
    /// The folder name under `Templates/`.
    public let name: String
    public let manifest: TemplateManifest
    public let parts: [TemplatePart: CompiledPart]
    /// `sample.json`, for previews and checks; nil when the template has none.
    public let sample: RenderInput?
    /// The folder as operators see it (`Templates/welcome-guide`).
    public let displayPath: String

    public var channel: Channel { manifest.channel }

    /// Whether a render needs the signed unsubscribe link: a part uses `{{unsubscribe_url}}`,
    /// or the message is an email, whose List-Unsubscribe header carries it. Decided once here so
    /// no HMAC is computed for messages that never show it.
    var needsUnsubscribeURL: Bool {
        channel == .email || parts.values.contains { $0.tags.contains { $0.path == "unsubscribe_url" } }
    }
}

/// One parsed part file.
public struct CompiledPart: Sendable {
    public let part: TemplatePart
    /// The file as operators see it (`Templates/welcome-guide/html.html`).
    public let file: String
    let template: MustacheTemplate
    let tags: [TemplateTag]
    /// Output tokens outside any section, without a fallback in the manifest or an inverted
    /// section of their own: a message that has no value for one of these fails rather than
    /// sending "Hi ,".
    let required: [TemplateTag]
}
