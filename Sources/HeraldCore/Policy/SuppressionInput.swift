extension Suppression {
    /// One suppression from `{"channel", "address", "reason"?, "source"?}` (an API item, a CSV
    /// row); the reason defaults to `defaultReason`, the address is normalized.
    public static func parse(_ value: JSONValue, defaultSource: String, defaultReason: Reason = .manual)
        -> Result<Suppression, IntakeRejection>
    {
        Result { () throws(IntakeRejection) in
            guard case .object(let object) = value else {
                throw IntakeRejection(field: "", "expected an object, got \(value.errorDescription)")
            }
            if let unknown = object.keys.sorted().first(where: { !["channel", "address", "reason", "source"].contains($0) }) {
                throw IntakeRejection(field: unknown, "unknown field")
            }
            guard case .string(let channelText)? = object["channel"] else {
                throw IntakeRejection(field: "channel", "required: one of \(Channel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let channel = Channel(rawValue: channelText) else {
                throw IntakeRejection(field: "channel", "unknown channel \"\(channelText.prefix(40))\"")
            }
            guard case .string(let addressText)? = object["address"] else {
                throw IntakeRejection(field: "address", "required: a string")
            }
            let address = try Address(addressText, channel: channel)
            var reason = defaultReason
            if let reasonValue = object["reason"] {
                guard case .string(let text) = reasonValue, let parsed = Suppression.Reason(rawValue: text) else {
                    throw IntakeRejection(field: "reason", "expected one of \(Suppression.Reason.allCases.map(\.rawValue).joined(separator: ", ")), got \(reasonValue.errorDescription)")
                }
                reason = parsed
            }
            var source = defaultSource
            if let sourceValue = object["source"] {
                guard case .string(let text) = sourceValue else {
                    throw IntakeRejection(field: "source", "expected a string, got \(sourceValue.errorDescription)")
                }
                source = String(text.prefix(200))
            }
            return Suppression(address, reason: reason, source: source)
        }
    }
}
