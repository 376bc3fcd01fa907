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
    /// fields), in order of appearance, without repeats.
    public func messageIDs(in text: String) -> [Int64] {
        let lower = text.lowercased()
        let prefix = local.lowercased() + "+"
        var found: [Int64] = []
        var searchFrom = lower.startIndex
        while let start = lower.range(of: prefix, range: searchFrom..<lower.endIndex) {
            // The local part must start here: not inside a longer one (xbounces+…).
            let startsAddress = start.lowerBound == lower.startIndex
                || !Self.isLocalCharacter(lower[lower.index(before: start.lowerBound)])
            let end = lower[start.lowerBound...].firstIndex { !Self.isLocalCharacter($0) && $0 != "@" && $0 != "." } ?? lower.endIndex
            // A sentence's full stop after the address is not part of it.
            let candidate = lower[start.lowerBound..<end].trimmingCharacters(in: CharacterSet(charactersIn: "."))
            if startsAddress, let id = messageID(of: candidate), !found.contains(id) {
                found.append(id)
            }
            searchFrom = start.upperBound
        }
        return found
    }

    private static func isLocalCharacter(_ character: Character) -> Bool {
        character.isASCII && (character.isLetter || character.isNumber || "+-_".contains(character))
    }

    private func signature(_ messageID: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("verp:\(messageID)".utf8), using: SymmetricKey(data: keyBytes))
        return Hex.encode(mac.prefix(8))
    }
}
