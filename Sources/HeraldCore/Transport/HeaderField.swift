/// Rules for what may go into a protocol header, shared by every channel: data must never be able
/// to smuggle a CR or LF into a header (header injection).
public enum HeaderField {
    /// RFC 9110 token characters.
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// No control characters other than horizontal tab.
    public static func isValidValue(_ value: String) -> Bool {
        value.unicodeScalars.allSatisfy { $0 == "\t" || ($0.value >= 0x20 && $0.value != 0x7F) }
    }

    /// Whether `value` holds a CR or LF. Checked on scalars: in Swift "\r\n" is one Character,
    /// equal to neither "\r" nor "\n".
    public static func containsLineBreak(_ value: String) -> Bool {
        value.unicodeScalars.contains { $0 == "\r" || $0 == "\n" }
    }

    /// Whether a header of this name carries a credential (`Authorization`, `X-Kannel-Password`,
    /// `X-Api-Key`…): its value is never written to an outbox file or a log.
    public static func isSensitive(_ name: String) -> Bool {
        let name = name.lowercased()
        return ["authorization", "password", "token", "secret", "api-key", "apikey", "cookie"].contains { name.contains($0) }
    }
}
