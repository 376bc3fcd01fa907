import Crypto
import Foundation

/// A drip sequence, one file under `Sequences/`: its steps, when a lead leaves it, and whether
/// it may come back.
///
/// ```yaml
/// # Sequences/retirement-nurture.yaml
/// description: Retirement guide download, three emails.
/// business_days: true          # the steps' default
/// holidays: [2026-12-25, 2027-01-01]
/// steps:
///   - {template: retirement-nurture-2, after: 2d, at: "09:00-11:00"}
///   - {template: retirement-nurture-5, after_previous: 2-3d}
/// exit: {goals: [booked, converted], max_age: 30d}
/// reenroll: never              # never | after_exit | a duration after the last enrollment
/// ```
public struct SequenceDefinition: Sendable, Equatable {
    /// Whether a lead whose enrollment ended may be enrolled again under the same key.
    public enum Reenrollment: Sendable, Equatable {
        case never
        case afterExit
        /// Once the earlier enrollment has ended and this long has passed since it began.
        case after(Duration)

        /// The rule as the queue applies it (`NewEnrollment.reenrollAfter`): nil never; else how
        /// long after the earlier enrollment began an ended one may start again (ms).
        var minimumAge: Int64? {
            switch self {
            case .never: nil
            case .afterExit: 0
            case .after(let wait): wait.milliseconds
            }
        }
    }

    /// The file's name without `.yaml`.
    public var name: String
    /// The first 12 hex digits of the file's SHA-256: an edit makes a new version, and enrolled
    /// leads keep the one they started on.
    public var version: String
    public var description: String?
    public var steps: [SequenceStep]
    /// Goals the CRM reports (`converted`, `booked`) that end an enrollment. Unsubscribing,
    /// bouncing and complaining always do.
    public var goals: Set<String>
    /// An enrollment older than this ends, whatever steps are left.
    public var maxAge: Duration?
    public var reenrollment: Reenrollment
    /// Days that are not business days, besides Saturdays and Sundays, in the lead's zone.
    public var holidays: Set<LocalDay>
    /// The file's text, kept with each enrollment's version.
    public var source: String

    static let keys: Set<String> = ["description", "business_days", "holidays", "steps", "exit", "reenroll"]

    /// Parses a sequence file's text; every error names the key path and line.
    public static func parse(_ text: String, name: String, templates: TemplateStore) throws(ConfigError) -> SequenceDefinition {
        let top = try ConfigNode.document(text, environment: EnvironmentSubstitution(environment: [:], enabled: false),
                                          emptyError: ConfigError(path: "", "the file is empty; a sequence needs steps"))
        let fields = try top.fields(allowed: keys)
        let businessDays = try fields["business_days"]?.bool() ?? false
        var holidays: Set<LocalDay> = []
        for item in try fields["holidays"]?.items() ?? [] {
            let text = try item.string()
            guard let day = LocalDay(text) else { throw item.error("expected a date such as 2026-12-25, got \"\(text.prefix(40))\"") }
            holidays.insert(day)
        }
        guard let stepsNode = fields["steps"] else { throw top.error("steps is required: a list of {template, after | after_previous}") }
        guard case .sequence = stepsNode.node else { throw stepsNode.error("expected a list of steps") }
        var steps: [SequenceStep] = []
        for (index, item) in try stepsNode.items().enumerated() {
            let step = try SequenceStep(item, index: index, businessDays: businessDays, templates: templates)
            if steps.contains(where: { $0.name == step.name }) {
                throw item.error("another step is named \"\(step.name)\"; names must differ")
            }
            steps.append(step)
        }
        guard !steps.isEmpty else { throw stepsNode.error("a sequence needs at least one step") }

        var goals: Set<String> = []
        var maxAge: Duration?
        if let exit = fields["exit"] {
            let exitFields = try exit.fields(allowed: ["goals", "max_age"])
            for item in try exitFields["goals"]?.items() ?? [] {
                let goal = try item.nonEmptyString()
                guard GoalName.isValid(goal) else {
                    throw item.error("a goal is \(GoalName.rule), got \"\(goal.prefix(40))\"")
                }
                goals.insert(goal)
            }
            maxAge = try exitFields["max_age"]?.duration()
        }
        var reenrollment = Reenrollment.never
        if let node = fields["reenroll"] {
            switch try node.string() {
            case "never": reenrollment = .never
            case "after_exit": reenrollment = .afterExit
            default:
                guard let wait = try? node.duration() else {
                    throw node.error("expected never, after_exit or a duration such as 90d, got \"\(try node.string().prefix(40))\"")
                }
                reenrollment = .after(wait)
            }
        }
        let digest = SHA256.hash(data: Data(text.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        return SequenceDefinition(name: name, version: digest, description: try fields["description"]?.string(), steps: steps,
                                  goals: goals, maxAge: maxAge, reenrollment: reenrollment, holidays: holidays, source: text)
    }
}
