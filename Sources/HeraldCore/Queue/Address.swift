import Foundation

/// A recipient on one channel, in the one form that suppressions, frequency caps, domain rate
/// limits, unsubscribe tokens and bounce handling all key on:
///
/// | channel | form | example |
/// |---|---|---|
/// | email | trimmed, lower-cased | `sarah@example.com` |
/// | sms | E.164: spaces, dashes, dots and parentheses dropped | `+15551234567` |
/// | webhook | the endpoint name, trimmed, lower-cased | `advisor-alerts` |
/// | letter | `name\|postal code`, each trimmed, runs of spaces made one, lower-cased | `sarah jones\|62701` |
///
/// Whether an address comes from an operator (`herald suppress add`), a CRM (the API), a message
/// being sent, an unsubscribe link or a bounce, it is made here, so the same recipient is the same
/// `Address` everywhere. (Email local parts are case-sensitive by the letter of RFC 5321 and by no
/// mail system Herald's users send to; lower-casing the whole address is what every peer does.)
public struct Address: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let channel: Channel
    /// The normalized text.
    public let value: String

    /// An address as someone typed it; throws naming what is wrong.
    public init(_ text: String, channel: Channel) throws(IntakeRejection) {
        let trimmed = Self.trimmed(text)
        self.channel = channel
        switch channel {
        case .email:
            guard MessageValidation.isEmailAddress(trimmed) else {
                throw IntakeRejection(field: "address", "not an email address (\"\(trimmed.prefix(80))\")")
            }
            value = trimmed.lowercased()
        case .sms:
            let phone = Self.phone(trimmed)
            guard MessageValidation.isE164(phone) else {
                throw IntakeRejection(field: "address", "not an E.164 phone number (\"\(trimmed.prefix(80))\"), e.g. \"+15551234567\"")
            }
            value = phone
        case .webhook:
            guard !trimmed.isEmpty else { throw IntakeRejection(field: "address", "must not be empty") }
            value = trimmed.lowercased()
        case .letter:
            guard !trimmed.isEmpty else { throw IntakeRejection(field: "address", "must not be empty") }
            value = Self.letter(trimmed)
        }
    }

    /// The address a message goes to. Intake validated its fields, so this only normalizes.
    public init(of recipient: Recipient, on channel: Channel) {
        self.channel = channel
        switch channel {
        case .email: value = Self.trimmed(recipient.email ?? "").lowercased()
        case .sms: value = Self.phone(recipient.phone ?? "")
        case .webhook: value = Self.trimmed(recipient.endpoint ?? "").lowercased()
        case .letter: value = Self.letter("\(recipient.name ?? "")|\(recipient.address?.postalCode ?? "")")
        }
    }

    /// `text` without the spaces and tabs around it (what `CharacterSet.whitespaces` trims), in
    /// Swift: every claimed message and every enrollment a pass moves is normalized, and
    /// Foundation's trimming bridges through NSString (4 % of a sequencer pass).
    static func trimmed(_ text: String) -> String {
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar == "\t" || scalar.properties.generalCategory == .spaceSeparator }
        let scalars = text.unicodeScalars
        guard let first = scalars.first, let last = scalars.last, isSpace(first) || isSpace(last) else { return text }
        guard let start = scalars.firstIndex(where: { !isSpace($0) }), let end = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(scalars[start...end])
    }

    /// An address read back from storage or a signed token, already in normal form.
    public init(normalized value: String, channel: Channel) {
        self.channel = channel
        self.value = value
    }

    /// The domain of an email address, lower-cased; nil on other channels.
    public var domain: String? {
        guard channel == .email, let at = value.lastIndex(of: "@") else { return nil }
        return String(value[value.index(after: at)...])
    }

    public var description: String { "\(channel.rawValue):\(value)" }

    public static func < (lhs: Address, rhs: Address) -> Bool {
        (lhs.channel, lhs.value) < (rhs.channel, rhs.value)
    }

    private static func phone(_ text: String) -> String {
        String(text.unicodeScalars.filter { !" -.()".unicodeScalars.contains($0) })
    }

    private static func letter(_ text: String) -> String {
        text.split(separator: "|", omittingEmptySubsequences: false)
            .map { $0.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
            .joined(separator: "|").lowercased()
    }
}
