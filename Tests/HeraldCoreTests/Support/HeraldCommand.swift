import Foundation

/// The built `herald` executable, run as a real process against a fixture's config.
enum HeraldCommand {
    static func environment() -> [String: String] {
        HeraldFixture.environment.merging(["HERALD_LOG_LEVEL": "warning"]) { _, new in new }
    }

    /// Starts `herald ARGS --config <fixture config>` and returns at once.
    static func start(_ arguments: [String], fixture: HeraldFixture, environment extra: [String: String] = [:]) throws -> ChildProcess {
        try ChildProcess(SupportPaths.herald.path, arguments + ["--config", fixture.configPath],
                         environment: environment().merging(extra) { _, new in new }, currentDirectory: fixture.folder.url)
    }

    /// Runs `herald ARGS --config <fixture config>` to its end.
    static func run(_ arguments: [String], fixture: HeraldFixture, environment: [String: String] = [:],
                    timeout: Duration = .seconds(120)) async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let child = try start(arguments, fixture: fixture, environment: environment)
        let status = await child.wait(timeout: timeout)
        let output = child.output()
        return (status, output.stdout, output.stderr)
    }
}
