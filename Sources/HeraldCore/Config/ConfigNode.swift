import Foundation
import Yams

/// One node of the YAML config together with its dotted key path, so that every error can name
/// the key at fault. Scalars are read through environment substitution.
struct ConfigNode {
    let node: Yams.Node
    let path: String
    let environment: EnvironmentSubstitution

    /// The top node of a YAML document; `emptyError` is thrown for an empty one.
    static func document(_ yaml: String, environment: EnvironmentSubstitution, emptyError: ConfigError)
        throws(ConfigError) -> ConfigNode
    {
        let document: Yams.Node?
        do {
            document = try Yams.compose(yaml: yaml)
        } catch {
            throw duplicateKeys(in: yaml, error: "\(error)") ?? ConfigError(path: "", "not valid YAML: \(error)")
        }
        guard let document else { throw emptyError }
        return ConfigNode(node: document, path: "", environment: environment)
    }

    /// Yams reports duplicate keys with the whole document as context and no line: name each key
    /// and the lines it appears on instead.
    private static func duplicateKeys(in yaml: String, error: String) -> ConfigError? {
        guard let marker = error.range(of: "duplicated key(s): ") else { return nil }
        let listed = error[marker.upperBound...].prefix { $0 != "." && $0 != "\n" }
        let names = listed.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " '\"")) }
        guard let name = names.first, !name.isEmpty else { return nil }
        let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false).enumerated().compactMap { index, line -> Int? in
            let trimmed = line.drop { $0 == " " || $0 == "-" }
            let bare = trimmed.hasPrefix("\"") || trimmed.hasPrefix("'") ? trimmed.dropFirst() : trimmed[...]
            guard bare.hasPrefix(name) else { return nil }
            let rest = bare.dropFirst(name.count).drop { $0 == "\"" || $0 == "'" || $0 == " " }
            return rest.hasPrefix(":") ? index + 1 : nil
        }
        let where_ = lines.isEmpty ? "" : " (lines \(lines.map(String.init).joined(separator: ", ")))"
        return ConfigError(path: name, "the key appears more than once in its mapping\(where_); keep one")
    }

    func error(_ reason: String) -> ConfigError {
        ConfigError(path: path, reason, line: line)
    }

    /// The node's line in its file (from 1), if the parser knows it.
    var line: Int? { node.mark?.line }

    private func childPath(_ key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }

    /// The node's entries, in file order. Throws if the node is not a mapping.
    func entries() throws(ConfigError) -> [(key: String, value: ConfigNode)] {
        guard case .mapping(let mapping) = node else {
            throw error("expected a mapping of keys, got \(describe(node))")
        }
        var result: [(key: String, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let key) = keyNode else {
                throw error("keys must be plain names")
            }
            result.append((key.string, ConfigNode(node: valueNode, path: childPath(key.string), environment: environment)))
        }
        return result
    }

    /// The items of a list, each with its index in the path. A single scalar counts as a list of one.
    func items() throws(ConfigError) -> [ConfigNode] {
        switch node {
        case .sequence(let sequence):
            return sequence.enumerated().map { index, item in
                ConfigNode(node: item, path: "\(path)[\(index)]", environment: environment)
            }
        case .scalar:
            return [self]
        default:
            throw error("expected a list, got \(describe(node))")
        }
    }

    /// The mapping's children by key, after refusing any key not in `allowed` (a typo in a key
    /// must never be silently ignored).
    func fields(allowed: Set<String>) throws(ConfigError) -> [String: ConfigNode] {
        var result: [String: ConfigNode] = [:]
        for (key, value) in try entries() {
            guard allowed.contains(key) else {
                throw ConfigError(
                    path: value.path,
                    "unknown key (expected one of: \(allowed.sorted().joined(separator: ", ")))", line: value.line)
            }
            result[key] = value
        }
        return result
    }

    var isMapping: Bool {
        if case .mapping = node { return true }
        return false
    }

    var isNull: Bool {
        if case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any {
            return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
        }
        return false
    }

    func string() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else {
            throw error("expected a text value, got \(describe(node))")
        }
        return try environment.expand(scalar.string, path: path)
    }

    func nonEmptyString() throws(ConfigError) -> String {
        let value = try string()
        guard !value.isEmpty else { throw error("must not be empty") }
        return value
    }

    func int(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try string()
        guard let value = Int(text) else { throw error("expected a whole number, got \"\(text)\"") }
        guard range.contains(value) else {
            throw error("\(value) is out of range \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    func duration() throws(ConfigError) -> Duration {
        let text = try string()
        guard let value = DurationParsing.parse(text) else {
            throw error("expected \(DurationParsing.expected), got \"\(text.prefix(40))\"")
        }
        return value
    }

    /// A size such as `16MB`, `512KB` or a plain byte count (KB = 1,024 bytes).
    func byteCount(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try string().uppercased()
        let units: [(suffix: String, factor: Int)] = [("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)]
        let unit = units.first { text.hasSuffix($0.suffix) } ?? ("", 1)
        guard let number = Int(text.dropLast(unit.suffix.count).trimmingCharacters(in: .whitespaces)) else {
            throw error("expected a size such as 16MB, 512KB or a byte count, got \"\(text)\"")
        }
        let (value, overflow) = number.multipliedReportingOverflow(by: unit.factor)
        guard !overflow, range.contains(value) else {
            throw error("\(text) is out of range \(range.lowerBound)...\(range.upperBound) bytes")
        }
        return value
    }

    func channel() throws(ConfigError) -> Channel {
        let name = try string()
        guard let channel = Channel(rawValue: name) else {
            throw error("unknown channel \"\(name)\" (\(Channel.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return channel
    }

    func category() throws(ConfigError) -> MessageCategory {
        let name = try string()
        guard let category = MessageCategory(rawValue: name) else {
            throw error("expected marketing or transactional, got \"\(name)\"")
        }
        return category
    }

    func bool() throws(ConfigError) -> Bool {
        switch try string().lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        case let other: throw error("expected true or false, got \"\(other)\"")
        }
    }

    /// A secret that keys a signature or guards a route: at least 16 bytes, so it cannot be guessed.
    func key(example: String = "openssl rand -hex 24") throws(ConfigError) -> Secret {
        let key = try secret()
        guard key.isUnset || key.exposedValue.utf8.count >= 16 else {
            throw error("must be at least 16 bytes (e.g. `\(example)`)")
        }
        return key
    }

    /// A secret: no white space or control characters, which are never part of a real key and
    /// are what a careless paste (`"                "`, a trailing newline) leaves behind.
    ///
    /// `${NAME}` with NAME not set gives an unset secret (recorded for `HeraldConfig.unsetSecrets`)
    /// instead of an error, so commands that never use it still work.
    func secret() throws(ConfigError) -> Secret {
        if case .scalar(let scalar) = node, let variable = environment.unsetReference(scalar.string) {
            environment.unsetSecrets.append(UnsetSecret(path: path, variable: variable))
            return .unset(variable: variable)
        }
        let text = try string()
        guard !text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) else {
            throw error("must not contain white space or control characters")
        }
        return Secret(text)
    }

    /// The base URL of public pages Herald serves (unsubscribe, tracking): its path may not begin
    /// with one of Herald's own first segments, so a public route can never shadow or overlap one
    /// that needs the token.
    func publicBaseURL(of what: String, example: String) throws(ConfigError) -> URL {
        let url = try url(schemes: ["http", "https"])
        if let first = url.path.split(separator: "/").first.map(String.init), HeraldAPI.reservedSegments.contains(first) {
            throw error("the path /\(first) is Herald's own (\(HeraldAPI.reservedSegments.sorted().map { "/\($0)" }.joined(separator: ", "))): "
                        + "the public \(what) would overlap routes that need the token; use a path of its own such as \(example)")
        }
        return url
    }

    func url(schemes: Set<String>) throws(ConfigError) -> URL {
        let text = try nonEmptyString()
        if text.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.properties.generalCategory == .control }) {
            throw error("a URL must not contain white space or control characters (\(text.prefix(200).debugDescription))")
        }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), schemes.contains(scheme),
              url.host != nil
        else {
            throw error("not a \(schemes.sorted().joined(separator: "/")) URL (\"\(text)\")")
        }
        return url
    }

    private func describe(_ node: Yams.Node) -> String {
        switch node {
        case .scalar(let scalar): return "\"\(scalar.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}
