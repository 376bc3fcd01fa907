import ArgumentParser
import HeraldCore

struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Work with the configuration.", subcommands: [Check.self])

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Validate the config file, naming the key at fault.")

        @OptionGroup var options: GlobalOptions

        func run() async throws {
            _ = options.bootstrapLogging()
            let config = try options.loadConfig()
            print("\(options.config): ok")
            print("  database:  \(config.postgres?.location ?? config.resolve(config.databasePath).path)")
            print("  workers:   \(config.workers), lease \(config.lease.configText), retry up to \(config.retry.maxAttempts) attempts")
            let intake = config.intake
            print("  intake:    drop folder \(intake.dropFolder.map { config.resolve($0).path } ?? "off"), socket \(intake.socket.map { config.resolve($0).path } ?? "off"), tcp \(intake.http.map { "\($0) (token required)" } ?? "off")")
            let policies = config.policies
            let rates = policies.rates.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
                + policies.domainRates.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            print("  policies:  \(policies.quietHours.count) quiet-hours rules, \(policies.frequencyCaps.count) frequency caps, rates: \(rates.isEmpty ? "none" : rates.joined(separator: ", "))")
            print("  retention: \(config.retention.summary)")
            if let email = config.email {
                let auth = email.smtp.username.map { " as \($0)" } ?? ""
                print("  email:     transport \(email.transport.rawValue), \(email.smtp.url.absoluteString) starttls \(email.smtp.startTLS.rawValue)\(auth), from \(email.from.address)")
            }
            if let sms = config.sms {
                print("  sms:       transport \(sms.transport.rawValue), gateway \(sms.gateway.rawValue) \(sms.url), from \(sms.from ?? sms.messagingServiceSID ?? "-"), max \(sms.maxSegments) segments")
            }
            if let webhook = config.webhook {
                let names = webhook.endpoints.keys.sorted().joined(separator: ", ")
                print("  webhook:   transport \(webhook.transport.rawValue), endpoints \(names)")
            }
            if let warning = config.intake.http?.developmentTokenWarning { print("  warning:   \(warning)") }
            // Not an error: every other command works without them; `herald run` will refuse.
            for unset in config.unsetSecrets {
                print("  warning:   \(unset); herald run will not start without it")
            }
        }
    }
}
