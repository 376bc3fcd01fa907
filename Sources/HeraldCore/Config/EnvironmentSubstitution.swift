/// Expands `${NAME}` and `${NAME:-default}` in config values from the process environment,
/// the way shells and compose files do, so secrets live in the environment and not in the file.
struct EnvironmentSubstitution: Sendable {
    let environment: [String: String]
    /// Off for files that are content rather than deployment config (template manifests).
    var enabled = true
    /// The secrets whose variable was not set, in the order they were read.
    let unsetSecrets = UnsetSecretList()

    /// The variable of a value that is exactly one reference without a fallback, `${NAME}`, when
    /// that variable is not set: such a secret is recorded as unset rather than refused.
    func unsetReference(_ text: String) -> String? {
        guard enabled, text.hasPrefix("${"), text.hasSuffix("}") else { return nil }
        let name = text.dropFirst(2).dropLast()
        guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
        return (environment[String(name)] ?? "").isEmpty ? String(name) : nil
    }

    /// Returns `text` with every reference replaced, or throws naming `path` and the variable.
    func expand(_ text: String, path: String) throws(ConfigError) -> String {
        guard enabled, text.contains("${") else { return text }
        var result = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            result += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ConfigError(path: path, "unterminated ${ in \"\(text)\"")
            }
            let reference = rest[start.upperBound..<end]
            let name: Substring
            let fallback: Substring?
            if let separator = reference.range(of: ":-") {
                name = reference[..<separator.lowerBound]
                fallback = reference[separator.upperBound...]
            } else {
                name = reference
                fallback = nil
            }
            guard !name.isEmpty, name.allSatisfy({ $0 == "_" || $0.isASCII && ($0.isLetter || $0.isNumber) }) else {
                throw ConfigError(path: path, "bad environment reference ${\(reference)}")
            }
            if let value = environment[String(name)], !value.isEmpty {
                result += value
            } else if let fallback {
                result += fallback
            } else {
                throw ConfigError(path: path, "environment variable \(name) is not set")
            }
            rest = rest[rest.index(after: end)...]
        }
        return result + rest
    }
}
