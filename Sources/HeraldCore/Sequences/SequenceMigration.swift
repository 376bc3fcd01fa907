/// Where an enrollment on an older version of a sequence lands in the current one, matched by
/// step name: a step the lead already had is never sent again, a step added before the lead's
/// place is not back-filled, and a removed step is never sent (its message still queued is
/// canceled).
public struct SequenceMigration: Sendable {
    public let from: SequenceDefinition
    public let to: SequenceDefinition

    public init(from: SequenceDefinition, to: SequenceDefinition) {
        self.from = from
        self.to = to
    }

    /// Where an enrollment lands that had queued the first `nextStep` steps of `from`.
    public struct Landing: Sendable, Equatable, Hashable {
        /// Its next step in `to` (`to.steps.count`: none left; it completes).
        public var toStep: Int
        /// Its step message in `from` is not in `to`: canceled if still queued.
        public var cancelAwaiting: Bool
    }

    public func landing(nextStep: Int) -> Landing {
        // A lead that has had nothing yet has nothing to back-fill: the new version from its start.
        guard nextStep > 0 else { return Landing(toStep: 0, cancelAwaiting: false) }
        let index = Dictionary(to.steps.enumerated().map { ($0.element.name, $0.offset) }, uniquingKeysWith: { first, _ in first })
        let done = from.steps.prefix(nextStep).map(\.name)
        // Past every step the lead had, wherever the edit moved them.
        let pastDone = (done.compactMap { index[$0] }.max() ?? -1) + 1
        // At the first step still ahead of the lead that the new version keeps.
        let anchor = from.steps.dropFirst(nextStep).lazy.compactMap { index[$0.name] }.first
        let toStep: Int
        if let anchor {
            toStep = max(anchor, pastDone)
        } else if pastDone > 0 {
            // Nothing ahead is kept: on after the last step it had (a step added at the end is
            // ahead of it).
            toStep = pastDone
        } else {
            // Neither what it had nor what was ahead is in the new version: no place to stand on
            // that is not a guess, so it gets nothing more rather than a step twice.
            toStep = to.steps.count
        }
        let awaiting = from.steps[min(nextStep, from.steps.count) - 1].name
        return Landing(toStep: toStep, cancelAwaiting: index[awaiting] == nil)
    }

    /// "next day-5 (2 of 3)", or "all 3 steps queued".
    public static func describe(_ step: Int, in definition: SequenceDefinition) -> String {
        step < definition.steps.count
            ? "next \(definition.steps[step].name) (\(step + 1) of \(definition.steps.count))"
            : "all \(definition.steps.count) steps queued"
    }
}

/// What `herald sequences migrate` did or, with `--dry-run`, would do.
public struct MigrationReport: Sendable, Equatable {
    /// Enrollments that move from one place in an old version to one in the current version.
    public struct Group: Sendable, Equatable {
        public var fromVersion: String
        /// "next day-5 (2 of 3)" in the old version.
        public var from: String
        /// The same in the current version.
        public var to: String
        public var count: Int
        /// Their step message of a removed step, canceled if still queued.
        public var cancelsAwaiting: Bool
    }

    public var sequence: String
    public var version: String
    public var groups: [Group] = []
    /// Moved (or that would move).
    public var moved = 0
    /// Moved along by the sequencer while this ran (their step changed): run it again for them.
    public var skipped = 0
    /// Versions whose kept text does not load today (a template they send is gone), with how
    /// many enrollments stay on each.
    public var unreadable: [(version: String, count: Int, reason: String)] = []

    public static func == (lhs: MigrationReport, rhs: MigrationReport) -> Bool {
        lhs.sequence == rhs.sequence && lhs.version == rhs.version && lhs.groups == rhs.groups && lhs.moved == rhs.moved
            && lhs.skipped == rhs.skipped && lhs.unreadable.map(\.version) == rhs.unreadable.map(\.version)
    }
}

extension SequenceStore {
    /// Moves `name`'s active enrollments on older versions to the current one (see
    /// `SequenceMigration`), 500 per transaction; with `dryRun`, only counts where each lands.
    public func migrate(_ name: String, queue: any MessageQueue, dryRun: Bool, now: Int64) async throws -> MigrationReport {
        guard let current = sequence(named: name) else { throw SequenceMigrationError(sequence: name) }
        var report = MigrationReport(sequence: name, version: current.version)
        var migrations: [String: Result<SequenceMigration, ConfigError>] = [:]
        var groupIndex: [String: Int] = [:]
        var unreadable: [String: (count: Int, reason: String)] = [:]
        let target = SequenceVersion(sequence: name, version: current.version, definition: current.source)
        var after: Int64 = 0
        while true {
            let page = try await queue.enrollments(
                EnrollmentFilter(sequence: name, state: .active, versionOtherThan: current.version, after: after), limit: 500)
            guard let last = page.last else { break }
            after = last.id
            var moves: [EnrollmentMove] = []
            for enrollment in page {
                if migrations[enrollment.version] == nil {
                    guard let text = try await queue.sequenceVersion(name, version: enrollment.version) else {
                        migrations[enrollment.version] = .failure(ConfigError(path: "", "its text is not kept in the queue"))
                        continue
                    }
                    migrations[enrollment.version] = Result { () throws(ConfigError) in
                        SequenceMigration(from: try parse(text, name: name), to: current)
                    }
                }
                switch migrations[enrollment.version]! {
                case .failure(let error):
                    unreadable[enrollment.version, default: (0, "\(error)")].count += 1
                case .success(let migration):
                    let landing = migration.landing(nextStep: enrollment.nextStep)
                    moves.append(EnrollmentMove(id: enrollment.id, fromVersion: enrollment.version, fromStep: enrollment.nextStep,
                                                toStep: landing.toStep, cancelAwaiting: landing.cancelAwaiting))
                    let group = MigrationReport.Group(
                        fromVersion: enrollment.version, from: SequenceMigration.describe(enrollment.nextStep, in: migration.from),
                        to: SequenceMigration.describe(landing.toStep, in: current), count: 0, cancelsAwaiting: landing.cancelAwaiting)
                    let id = "\(group.fromVersion)|\(group.from)|\(group.to)|\(group.cancelsAwaiting)"
                    if groupIndex[id] == nil {
                        groupIndex[id] = report.groups.count
                        report.groups.append(group)
                    }
                    report.groups[groupIndex[id]!].count += 1
                }
            }
            if dryRun {
                report.moved += moves.count
            } else if !moves.isEmpty {
                let moved = try await queue.migrate(moves, to: target, now: now)
                report.moved += moved.count
                report.skipped += moves.count - moved.count
            }
        }
        report.unreadable = unreadable.sorted { $0.key < $1.key }.map { ($0.key, $0.value.count, $0.value.reason) }
        return report
    }
}

/// `herald sequences migrate` of a sequence that does not load.
public struct SequenceMigrationError: Error, CustomStringConvertible {
    public var sequence: String
    public var description: String {
        "no sequence \"\(sequence)\" loads from the sequences folder (see herald sequences check)"
    }
}
