/// Why a message could not be rendered, with a stable code for logs and the attempts table.
public struct RenderError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No template of that name under `Templates/`.
        public static let templateUnknown = Code("template_unknown")
        /// The template exists but does not compile: fixable by an operator, so transient.
        public static let templateUnavailable = Code("template_unavailable")
        /// The template serves another channel than the message.
        public static let channelMismatch = Code("template_channel_mismatch")
        /// A token the template needs has no value in the message and no fallback.
        public static let tokenMissing = Code("token_missing")
        /// A header part (the subject) would contain CR or LF.
        public static let headerLineBreak = Code("header_line_break")
        /// A webhook body that does not parse as JSON after rendering.
        public static let invalidJSON = Code("invalid_json_body")
        /// The message's stored data is not JSON (it was validated at enqueue: a damaged row).
        public static let invalidData = Code("invalid_data")
    }

    public let code: Code
    public let detail: String
    /// Whether fixing the template (not the message) can make the message deliverable.
    public var isTransient: Bool { code == .templateUnavailable }

    init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code): \(detail)" }
}
