import ArgumentParser
import HeraldCore

@main
struct Herald: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald",
        abstract: "Delivers a CRM's lead-nurturing messages from a SQLite queue.",
        version: HeraldVersion.current,
        subcommands: [Run.self, Enqueue.self, Enroll.self, Status.self, Preview.self, TemplatesCommand.self, SequencesCommand.self, EnrollmentsCommand.self, LettersCommand.self, FailedCommand.self, SuppressCommand.self, EventsCommand.self, BouncesCommand.self, Prune.self, CopyCommand.self, ConfigCommand.self])
}
