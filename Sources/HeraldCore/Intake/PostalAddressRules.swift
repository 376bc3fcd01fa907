/// What a letter needs to be printable and deliverable: checked at intake (so the CRM hears about
/// a bad address at once) and again by the letter channel before the letter joins a batch.
public enum PostalAddressRules {
    /// Countries whose postal format requires a region (state, province, prefecture) line.
    public static let countriesWithRegion: Set<String> = ["US", "CA", "AU", "BR", "MX", "IN", "CN", "JP", "IT", "ES", "AR", "MY"]

    /// The first problem with a letter's recipient, naming the field; nil when it is complete.
    public static func problem(name: String?, address: PostalAddress?) -> IntakeRejection? {
        guard let name, !name.isBlank else { return IntakeRejection(field: "to.name", "required for the letter channel") }
        guard let address else { return IntakeRejection(field: "to.address", "required for the letter channel") }
        for (field, value) in [("line1", address.line1), ("city", address.city), ("postal_code", address.postalCode),
                               ("country", address.country)] where value?.isBlank ?? true {
            return IntakeRejection(field: "to.address.\(field)", "required for the letter channel")
        }
        let country = address.country!
        guard country.count == 2, country.unicodeScalars.allSatisfy({ ("A"..."Z").contains($0) }) else {
            return IntakeRejection(field: "to.address.country", "not an ISO 3166-1 alpha-2 code in capitals (\"\(country.prefix(40))\"), e.g. \"US\"")
        }
        if countriesWithRegion.contains(country), address.region?.isBlank ?? true {
            return IntakeRejection(field: "to.address.region", "required for addresses in \(country)")
        }
        let postalCode = address.postalCode!
        if country == "US", !isUSZIP(postalCode) {
            return IntakeRejection(field: "to.address.postal_code", "not a US ZIP code (\"\(postalCode.prefix(40))\"), e.g. \"62701\" or \"62701-1234\"")
        }
        for (field, value) in [("to.name", name), ("to.address.line1", address.line1), ("to.address.line2", address.line2),
                               ("to.address.city", address.city), ("to.address.region", address.region),
                               ("to.address.postal_code", postalCode)] {
            if let value, !HeaderField.isValidValue(value) {
                return IntakeRejection(field: field, "must be one line without control characters")
            }
        }
        return nil
    }

    static func isUSZIP(_ code: String) -> Bool {
        let digits = code.utf8.map { (0x30...0x39).contains($0) }
        return (code.utf8.count == 5 && digits.allSatisfy { $0 })
            || (code.utf8.count == 10 && code.utf8[code.utf8.index(code.utf8.startIndex, offsetBy: 5)] == UInt8(ascii: "-")
                && digits.enumerated().allSatisfy { $0.offset == 5 || $0.element })
    }
}

extension String {
    var isBlank: Bool { allSatisfy(\.isWhitespace) }
}
