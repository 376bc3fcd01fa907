import Crypto
import Foundation

/// VERP: each email's envelope sender is `<local>+<id>-<signature>@<domain>`, so a bounce,
/// which goes back to the envelope sender, names its message by the address it was sent to,
/// whatever its text claims. The signature (64 bits of HMAC-SHA256, hex, so a relay that
/// lower-cases local parts keeps it valid) means nobody can make a bounce that names a
/// message of their choosing.
public struct ReturnPath: Sendable, CustomStringConvertible {
    /// `bounces` of `bounces@bounce.harbor.example`.
    public let local: String
    /// `bounce.harbor.example`, lower-cased.
    public let domain: String
    private let keyBytes: [UInt8]

    /// - Parameter address: the bounce mailbox, `bounces@bounce.harbor.example`.
    public init?(address: String, secret: Secret) {
        let pieces = address.split(separator: "@")
        guard pieces.count == 2, !pieces[0].isEmpty, !pieces[1].isEmpty, !pieces[0].contains("+") else { return nil }
        local = String(pieces[0])
        domain = pieces[1].lowercased()
        keyBytes = Array(secret.exposedValue.utf8)
    }

    public var description: String { "ReturnPath(\(local)@\(domain), <redacted>)" }

    /// The envelope sender of message `messageID`.
    public func address(for messageID: Int64) -> String {
        "\(local)+\(messageID)-\(signature(messageID))@\(domain)"
    }

    /// The message a VERP address names, when its signature holds; nil for any other address.
    public func messageID(of address: String) -> Int64? {
        let lower = address.lowercased()
        let prefix = local.lowercased() + "+", suffix = "@" + domain
        guard lower.hasPrefix(prefix), lower.hasSuffix(suffix) else { return nil }
        let token = lower.dropFirst(prefix.count).dropLast(suffix.count)
        let pieces = token.split(separator: "-")
        guard pieces.count == 2, let id = Int64(pieces[0]), id > 0,
              ConstantTime.equal(pieces[1].utf8, signature(id).utf8)
        else { return nil }
        return id
    }

    /// Every message named by a valid VERP address anywhere in `text` (header values, report
    /// fields), in order of appearance, without repeats. Scanned as ASCII bytes: addresses are.
    public func messageIDs(in text: String) -> [Int64] {
        let bytes = Array(text.utf8)
        let prefix = Array((local.lowercased() + "+").utf8)
        var found: [Int64] = []
        var from = 0
        while from < bytes.count, let range = Self.caseInsensitiveRange(of: prefix, in: bytes, from: from) {
            // The local part must start here: not inside a longer one (xbounces+…).
            let startsAddress = range.lowerBound == 0 || !Self.isLocalByte(bytes[range.lowerBound - 1])
            var end = range.upperBound
            while end < bytes.count, Self.isLocalByte(bytes[end]) || bytes[end] == UInt8(ascii: "@") || bytes[end] == UInt8(ascii: ".") {
                end += 1
            }
            // A sentence's full stop after the address is not part of it.
            while end > range.upperBound, bytes[end - 1] == UInt8(ascii: ".") { end -= 1 }
            if startsAddress, let id = messageID(of: String(decoding: bytes[range.lowerBound..<end], as: UTF8.self)),
               !found.contains(id)
            {
                found.append(id)
            }
            from = range.upperBound
        }
        return found
    }

    private static func caseInsensitiveRange(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Range<Int>? {
        guard let first = needle.first, bytes.count >= needle.count else { return nil }
        var index = start
        while index <= bytes.count - needle.count {
            if lowered(bytes[index]) == first {
                var matched = 1
                while matched < needle.count, lowered(bytes[index + matched]) == needle[matched] { matched += 1 }
                if matched == needle.count { return index..<(index + needle.count) }
            }
            index += 1
        }
        return nil
    }

    private static func lowered(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }

    private static func isLocalByte(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
            || byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
    }

    private func signature(_ messageID: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("verp:\(messageID)".utf8), using: SymmetricKey(data: keyBytes))
        return Hex.encode(mac.prefix(8))
    }
}
