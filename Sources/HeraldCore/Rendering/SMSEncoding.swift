/// How an SMS text travels: GSM 03.38 7-bit when every character is in the GSM alphabet, UCS-2
/// otherwise, and in how many segments (a concatenated message loses room to its UDH header).
public struct SMSEncoding: Sendable, Equatable, CustomStringConvertible {
    public enum Alphabet: String, Sendable { case gsm7 = "GSM-7", ucs2 = "UCS-2" }

    public let alphabet: Alphabet
    /// Septets for GSM-7 (extension characters count two), UTF-16 code units for UCS-2.
    public let units: Int
    public let segments: Int

    public init(_ text: String) {
        var septets = 0
        var gsm = true
        for scalar in text.unicodeScalars {
            if Self.basic.contains(scalar) {
                septets += 1
            } else if Self.extended.contains(scalar) {
                septets += 2
            } else {
                gsm = false
                break
            }
        }
        if gsm {
            alphabet = .gsm7
            units = septets
            segments = septets == 0 ? 1 : septets <= 160 ? 1 : (septets + 152) / 153
        } else {
            alphabet = .ucs2
            units = text.utf16.count
            segments = units <= 70 ? 1 : (units + 66) / 67
        }
    }

    public var description: String {
        "\(alphabet.rawValue), \(units) \(alphabet == .gsm7 ? "characters" : "UTF-16 units"), \(segments) segment\(segments == 1 ? "" : "s")"
    }

    /// GSM 03.38 basic character set.
    static let basic: Set<Unicode.Scalar> = Set(
        "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
            .unicodeScalars)
    /// The extension table: each costs an escape septet plus its own.
    static let extended: Set<Unicode.Scalar> = Set("^{}\\[~]|€\u{0C}".unicodeScalars)
}
