import ArgumentParser
import Foundation
import HeraldCore
import ServiceLifecycle

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Deliver due messages until SIGTERM or SIGINT (or, with --once, until none is due).")

    @OptionGroup var options: GlobalOptions

    @Flag(help: "Deliver what is due now, then exit.")
    var once = false

    @Option(help: "Deliveries in flight at once (overrides `workers` in the config).")
    var workers: Int?

    func validate() throws {
        if let workers, !(1...10_000).contains(workers) {
            throw ValidationError("--workers must be between 1 and 10000, got \(workers)")
        }
    }

    func run() async throws {
        ShutdownSignals.unblock()
        // Whatever the parent's umask, nothing Herald creates (the socket, exports, archives)
        // is writable or readable by other users.
        umask(umask(0) | 0o007)
        let logger = options.bootstrapLogging()
        let config = try options.loadConfig()
        guard config.unsetSecrets.isEmpty else { throw UnsetSecretsError(secrets: config.unsetSecrets) }
        if let warning = config.intake.http?.developmentTokenWarning { logger.warning("\(warning)") }
        try await options.withQueue(config) { queue in
            let templates = config.templateStore(logger: logger)
            let transports = CurlChannels(workers: workers ?? config.workers, logger: logger)
            let metrics = DeliveryMetrics()
            let dispatcher = Dispatcher(
                queue: queue, adapters: ChannelAdapters.make(config, transports: transports, queue: queue, logger: logger), renderer: config.renderer(templates),
                settings: .init(config, workers: workers, drainAndExit: once), metrics: metrics, logger: logger)
            let sequences = config.sequenceStore(templates: templates)
            let validation: @Sendable () -> IntakeValidation = {
                IntakeValidation(config: config, templates: templates, sequences: sequences)
            }
            // The engine's own services first: a group stops in reverse order, so they outlive every
            // user of the queue. A failure of one (the SQLite file removed or replaced) ends the
            // whole run, non-zero.
            var services = queue.services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) }
            // With --once the dispatcher returns when it is done, and that ends the run.
            services.append(.init(service: dispatcher, successTerminationBehavior: .gracefullyShutdownGroup))
            if let events = config.events,
               let push = EventPush(queue: queue, config: events, transport: CurlHTTPTransport(multi: transports.events),
                                    metrics: metrics, logger: logger) {
                services.append(.init(service: push))
            }
            let letters = config.letterBatcher(queue: queue, transports: transports, logger: logger)
            let dropFolder = config.intake.dropFolder.map { _ in
                DropFolder(config: config.intake, root: config, queue: queue, validation: validation, logger: logger)
            }
            if once, let dropFolder {
                // --once: what is in the drop folder now is part of what is due.
                await dropFolder.scan()
            }
            let sequencer = Sequencer(queue: queue, sequences: sequences, timeZone: config.timezone,
                                      reload: config.templateReload, events: config.eventLog, logger: logger)
            if once {
                // --once: sequence steps due now are part of what is due.
                do { try await sequencer.pass(now: Timestamp.now()) } catch {
                    logger.error("could not move enrollments along", metadata: ["error": "\(error)"])
                }
            } else {
                services.append(.init(service: sequencer))
            }
            if !once {
                if let dropFolder { services.append(.init(service: dropFolder)) }
                services.append(.init(service: TemplateWatcher(store: templates, interval: config.templateReload, logger: logger)))
                if let letters { services.append(.init(service: letters)) }
                if let reader = config.bounceMailboxReader(queue: queue, transports: transports, logger: logger) {
                    services.append(.init(service: reader))
                }
                services.append(.init(service: RetentionSweep(queue: queue, retention: config.retention, logger: logger)))
                let api = HeraldAPI(queue: queue, config: config, validation: validation, metrics: metrics, templates: templates,
                                    sequences: sequences,
                                    bounceTransport: CurlHTTPTransport(multi: transports.bounces),
                                    logger: logger)
                services += try APIListeners.services(api: api, logger: logger).map { .init(service: $0) }
            }
            var groupConfiguration = ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            // The dispatcher bounds its own drain by shutdown_grace; this only catches a hang past it.
            groupConfiguration.maximumGracefulShutdownDuration = config.shutdownGrace + .seconds(5)
            do {
                try await ServiceGroup(configuration: groupConfiguration).run()
                // --once: finish letter batches a crash left half closed, close those past their
                // age, and try the uploads that are due, once.
                if once, let letters { await letters.round() }
            } catch {
                await transports.shutdown()
                throw error
            }
            await transports.shutdown()
        }
    }
}

/// `herald run` needs every secret its config names: a channel without its password, a route
/// without its token or a link without its key would fail every message it touched.
struct UnsetSecretsError: Error, CustomStringConvertible {
    let secrets: [UnsetSecret]

    var description: String {
        "herald run needs these secrets, and their variables are not set:\n"
            + secrets.map { "  \($0)" }.joined(separator: "\n")
            + "\nSet them in the environment (or, under systemd, in the EnvironmentFile), e.g.\n"
            + secrets.map { "  export \($0.variable)=..." }.joined(separator: "\n")
    }
}
