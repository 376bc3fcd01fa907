/// Why one incoming message was refused, naming the field at fault:
/// `to.phone: not E.164 ("555-1234")`. The other messages of the same input still go through.
public struct IntakeRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// Dotted path of the field at fault; empty when the whole line is unreadable.
    public let field: String
    public let reason: String

    public init(field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }

    public var description: String {
        field.isEmpty ? reason : "\(field): \(reason)"
    }
}
