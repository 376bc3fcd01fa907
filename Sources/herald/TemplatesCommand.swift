import ArgumentParser
import Foundation
import HeraldCore
import Logging

struct TemplatesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "templates", abstract: "Work with message templates.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compile every template and render it with its sample data; report problems by file and line.",
            discussion: "Exits 1 when any template has an error (warnings alone exit 0).")

        @OptionGroup var options: GlobalOptions

        @Option(help: "SMS texts longer than this many segments are errors (default: channels.sms.max_segments, else 3).")
        var maxSmsSegments: Int?

        func run() async throws {
            _ = options.bootstrapLogging()
            let config = try options.loadConfig()
            let store = config.templateStore(logger: .init(label: "herald.templates", factory: { _ in SwiftLogNoOpLogHandler() }))
            let problems = TemplateCheck(maxSMSSegments: maxSmsSegments ?? config.sms?.maxSegments ?? 3).run(store, renderer: config.renderer(store))
            for problem in problems { print(problem) }
            let errors = problems.filter { $0.severity == .error }.count
            let compiled = store.templates.count
            print("\(config.templatesPath): \(compiled) templates compiled, \(errors) errors, \(problems.count - errors) warnings")
            if errors > 0 { throw ExitCode(1) }
        }
    }
}
