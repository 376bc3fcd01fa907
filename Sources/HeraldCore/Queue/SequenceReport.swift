/// One sequence at a glance, for the console: how many leads are in it and how they left, and
/// what became of each step's messages.
public struct SequenceReport: Sendable, Equatable {
    /// Enrollments by state, on every version.
    public var states: [EnrollmentProgress.State: Int]
    /// Ended enrollments by exit reason (`booked`, `unsubscribed`, `max_age`…).
    public var exits: [String: Int]
    /// Active enrollments by the version they follow.
    public var activeByVersion: [String: Int]
    /// Each step's messages by state, by step name.
    public var steps: [String: [MessageState: Int]]
    /// Active enrollments on the current version by the index of the step they queue next.
    public var activeAtStep: [Int: Int]

    public init(states: [EnrollmentProgress.State: Int] = [:], exits: [String: Int] = [:], activeByVersion: [String: Int] = [:],
                steps: [String: [MessageState: Int]] = [:], activeAtStep: [Int: Int] = [:]) {
        self.states = states
        self.exits = exits
        self.activeByVersion = activeByVersion
        self.steps = steps
        self.activeAtStep = activeAtStep
    }

    public var enrolled: Int { states.values.reduce(0, +) }
}
