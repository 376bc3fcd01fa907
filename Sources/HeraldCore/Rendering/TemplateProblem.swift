/// Something wrong with a template file, pointing at the file and, where known, the line:
/// `Templates/welcome-guide/html.html:12: unknown filter "uppr" (known: …)`.
public struct TemplateProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Severity: String, Sendable { case error, warning }

    public var file: String
    public var line: Int?
    public var message: String
    public var severity: Severity

    public init(file: String, line: Int? = nil, _ message: String, severity: Severity = .error) {
        self.file = file
        self.line = line
        self.message = message
        self.severity = severity
    }

    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        return severity == .warning ? "\(location): warning: \(message)" : "\(location): \(message)"
    }
}
