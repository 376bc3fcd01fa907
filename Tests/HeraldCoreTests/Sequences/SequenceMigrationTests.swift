import Foundation
import Testing
@testable import HeraldCore

/// Where an enrollment lands when its sequence is migrated to an edited version: steps matched
/// by name, nothing sent twice, nothing back-filled, a removed step never sent.
@Suite("Sequence migration plan")
struct SequenceMigrationTests {
    /// A sequence of webhook steps with these names, a day apart.
    static func sequence(_ names: [String], folder: TemporaryFolder) throws -> SequenceDefinition {
        let steps = names.enumerated().map { "  - {name: \($0.element), template: retirement-nurture-2, after: \($0.offset + 1)d}" }
        return try SequenceScheduleTests.definition("steps:\n" + steps.joined(separator: "\n"), folder: folder)
    }

    @Test("landings for additions, removals, reorders and renames", arguments: [
        // (old steps, new steps, steps the lead had queued, its next step in the new version, cancel its queued step)
        (["a", "b", "c"], ["a", "b", "c", "d"], 3, 3, false),   // a step added at the end is ahead of a lead past c
        (["a", "b", "c"], ["a", "x", "b", "c"], 1, 2, false),   // x added before the lead's place (waiting for b): not back-filled
        (["a", "b", "c"], ["a", "b", "x", "c"], 1, 1, false),   // x after its place: it gets b, x, c
        (["a", "b", "c"], ["a", "c"], 2, 1, true),              // b (its queued step) removed: canceled; c next
        (["a", "b", "c"], ["a", "c"], 1, 1, false),             // waiting for the removed b: c next
        (["a", "b", "c"], ["c", "a", "b"], 2, 3, false),        // reordered: nothing it had is sent again
        (["a", "b", "c"], ["a", "b", "d"], 3, 2, true),         // c removed after it was queued, d added: d next
        (["a", "b"], ["x", "y"], 1, 2, true),                   // all renamed: nothing more rather than a guess
        (["a", "b"], ["x", "b"], 0, 0, false),                  // not started: the new version from its start
    ])
    func landings(old: [String], new: [String], had: Int, next: Int, cancel: Bool) throws {
        let folder = try TemporaryFolder()
        let migration = SequenceMigration(from: try Self.sequence(old, folder: folder),
                                          to: try Self.sequence(new, folder: TemporaryFolder()))
        let landing = migration.landing(nextStep: had)
        #expect(landing == SequenceMigration.Landing(toStep: next, cancelAwaiting: cancel), "\(old) -> \(new) after \(had)")
    }
}
