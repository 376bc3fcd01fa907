import Crypto
import Foundation

/// The Message-ID header Herald gives an email: `<message id>.<identity>@<from domain>`, the
/// identity a digest of the message's key. Mail providers quote it in their events (SES's
/// `commonHeaders.messageId`, SendGrid's `smtp-id`, Mailgun's `message-id`), so an event names its
/// message; a Message-ID whose identity does not match that message's key names none.
public enum EmailMessageID {
    public static func make(id: Int64, key: String?, domain: String) -> String {
        "\(id).\(identity(id: id, key: key))@\(domain)"
    }

    static func identity(id: Int64, key: String?) -> String {
        Hex.encode(SHA256.hash(data: Data((key ?? "msg_\(id)").utf8)).prefix(10))
    }

    /// The message id and identity in a Message-ID as quoted (angle brackets or not).
    public static func parse(_ text: String) -> (id: Int64, identity: String)? {
        var value = Substring(text.trimmingCharacters(in: .whitespaces))
        if value.hasPrefix("<") { value = value.dropFirst() }
        if value.hasSuffix(">") { value = value.dropLast() }
        guard let at = value.firstIndex(of: "@") else { return nil }
        let local = value[..<at].split(separator: ".", maxSplits: 1)
        guard local.count == 2, let id = Int64(local[0]), id > 0, local[1].count == 20 else { return nil }
        return (id, String(local[1]))
    }

    /// True when `text` is the Message-ID Herald gave `message`.
    public static func names(_ text: String, _ message: MessageDetail) -> Bool {
        guard let parsed = parse(text), parsed.id == message.id else { return false }
        return ConstantTime.equal(parsed.identity.utf8, identity(id: message.id, key: message.key).utf8)
    }
}
