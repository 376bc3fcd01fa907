/// A lead entering a sequence, as intake hands it to the queue.
public struct NewEnrollment: Sendable, Equatable {
    /// Idempotency: a second enrollment under one key is a duplicate.
    public var key: String
    public var sequence: String
    /// The sequence's version when the lead entered; its steps are the ones the lead gets.
    public var version: String
    public var recipient: Recipient
    public var dataJSON: String
    public var campaign: String?
    /// Unix ms.
    public var startedAt: Int64
    /// When the first step is due (unix ms).
    public var firstDue: Int64
    /// `enrollment.started`, recorded with the enrollment if it is new (nil when not recorded).
    public var started: Event?
    /// The sequence's `reenroll` rule: nil, never (a second enrollment under the key is a
    /// duplicate); else the key enrolls again once its enrollment has ended and began at least
    /// this long ago (ms; 0: as soon as it ended).
    public var reenrollAfter: Int64?

    public init(key: String, sequence: String, version: String, recipient: Recipient, dataJSON: String = "{}",
                campaign: String? = nil, startedAt: Int64, firstDue: Int64, started: Event? = nil, reenrollAfter: Int64? = nil) {
        self.started = started
        self.reenrollAfter = reenrollAfter
        self.key = key
        self.sequence = sequence
        self.version = version
        self.recipient = recipient
        self.dataJSON = dataJSON
        self.campaign = campaign
        self.startedAt = startedAt
        self.firstDue = firstDue
    }
}

/// The text of one version of a sequence, kept so enrolled leads follow the version they
/// started on after the file changes.
public struct SequenceVersion: Sendable, Equatable {
    public var sequence: String
    public var version: String
    public var definition: String

    public init(sequence: String, version: String, definition: String) {
        self.sequence = sequence
        self.version = version
        self.definition = definition
    }
}

public enum EnrollOutcome: Sendable, Equatable {
    /// A new enrollment, or a new round of an ended one its sequence's `reenroll` rule allowed.
    case enrolled(id: Int64)
    /// An enrollment with this key exists already (active, or ended and not to be enrolled again yet).
    case duplicate(id: Int64)
}

/// Where an active enrollment stands, for the sequencer to decide its next move.
public struct EnrollmentProgress: Sendable, Equatable {
    public enum State: String, Sendable {
        case active, completed, exited
    }

    public var id: Int64
    public var key: String
    public var sequence: String
    public var version: String
    public var recipient: Recipient
    public var dataJSON: String
    public var campaign: String?
    public var startedAt: Int64
    /// How many times this key has enrolled; a later round's step messages carry it in their keys.
    public var round: Int = 1
    /// Index of the next step to queue.
    public var nextStep: Int
    /// How much later than planned the steps run, because policies deferred earlier ones (ms).
    public var shift: Int64
    /// The step message sent last and when that step was due; its state and when it was sent.
    public var awaiting: Int64?
    public var awaitingDue: Int64?
    public var awaitingState: MessageState?
    public var awaitingDueAt: Int64?
    public var awaitingSentAt: Int64?
}

/// What the sequencer does with an active enrollment; applied only if the enrollment is still
/// active at `expectedStep` (another process may have moved it first).
public struct EnrollmentAdvance: Sendable, Equatable {
    public enum Action: Sendable, Equatable {
        /// Queue `step`'s message; the enrollment is looked at again at `recheck`.
        case queue(step: Int, message: NewMessage, due: Int64, recheck: Int64, shift: Int64)
        /// Nothing to send yet: look again at `until`.
        case wait(until: Int64, shift: Int64)
        case complete
        /// Leave the sequence; a step message still queued is canceled.
        case exit(reason: String)
    }

    public var id: Int64
    public var expectedStep: Int
    public var action: Action
    /// Recorded with the move when it applies; with `.queue`, each is given the step message's id.
    public var events: [Event]

    public init(id: Int64, expectedStep: Int, action: Action, events: [Event] = []) {
        self.id = id
        self.expectedStep = expectedStep
        self.action = action
        self.events = events
    }
}

/// Which active enrollments an exit ends.
public enum EnrollmentSelection: Sendable, Equatable {
    /// The one with this key.
    case key(String)
    /// Those of this recipient (by email or phone, in Address's normal form) in these sequences:
    /// a goal ends every enrollment whose sequence names it.
    case recipient(email: Address?, phone: Address?, sequences: [String])
}

/// An enrollment an exit ended.
public struct EnrollmentExit: Sendable, Equatable {
    public var key: String
    public var sequence: String
    /// The key of its step message that was still queued and is canceled with the exit.
    public var canceledStep: String?
    /// The key of its step message that was being sent (leased) at the exit: it goes out if that
    /// attempt succeeds, and is canceled instead of going back to the queue.
    public var stepInFlight: String?
}

extension NewEnrollment {
    /// The recipient's email and phone in Address's normal form, as the queue indexes them.
    var addresses: (email: String?, phone: String?) {
        (recipient.email.map { _ in Address(of: recipient, on: .email).value },
         recipient.phone.map { _ in Address(of: recipient, on: .sms).value })
    }
}

/// One enrollment as operators see it (`herald enrollments`, `herald sequences migrate`).
public struct EnrollmentDetail: Sendable, Equatable {
    public var id: Int64
    public var key: String
    public var sequence: String
    public var version: String
    public var state: EnrollmentProgress.State
    public var exitReason: String?
    public var recipient: Recipient
    public var campaign: String?
    public var startedAt: Int64
    /// Index of the next step to queue.
    public var nextStep: Int
    /// When the sequencer looks at it again; nil once it ended.
    public var nextDue: Int64?
    public var endedAt: Int64?
    /// How many times this key has enrolled (a sequence's `reenroll` rule allows more than once).
    public var round: Int
    /// The step message queued last, and its state.
    public var awaitingKey: String?
    public var awaitingState: MessageState?

    public init(id: Int64, key: String, sequence: String, version: String, state: EnrollmentProgress.State, exitReason: String?,
                recipient: Recipient, campaign: String?, startedAt: Int64, nextStep: Int, nextDue: Int64?, endedAt: Int64?,
                round: Int = 1, awaitingKey: String?, awaitingState: MessageState?) {
        self.round = round
        self.id = id
        self.key = key
        self.sequence = sequence
        self.version = version
        self.state = state
        self.exitReason = exitReason
        self.recipient = recipient
        self.campaign = campaign
        self.startedAt = startedAt
        self.nextStep = nextStep
        self.nextDue = nextDue
        self.endedAt = endedAt
        self.awaitingKey = awaitingKey
        self.awaitingState = awaitingState
    }
}

/// Which enrollments a listing returns, by id after `after`.
public struct EnrollmentFilter: Sendable, Equatable {
    public var sequence: String?
    public var state: EnrollmentProgress.State?
    /// Only those on another version than this one.
    public var versionOtherThan: String?
    public var after: Int64

    public init(sequence: String? = nil, state: EnrollmentProgress.State? = nil, versionOtherThan: String? = nil, after: Int64 = 0) {
        self.sequence = sequence
        self.state = state
        self.versionOtherThan = versionOtherThan
        self.after = after
    }
}

/// Moving one active enrollment to another version of its sequence; applied only if it is still
/// active on `fromVersion` at `fromStep`.
public struct EnrollmentMove: Sendable, Equatable {
    public var id: Int64
    public var fromVersion: String
    public var fromStep: Int
    /// Its next step in the new version.
    public var toStep: Int
    /// Cancel its step message if still queued: that step is not in the new version.
    public var cancelAwaiting: Bool

    public init(id: Int64, fromVersion: String, fromStep: Int, toStep: Int, cancelAwaiting: Bool) {
        self.id = id
        self.fromVersion = fromVersion
        self.fromStep = fromStep
        self.toStep = toStep
        self.cancelAwaiting = cancelAwaiting
    }
}
