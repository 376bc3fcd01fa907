import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import Logging
import ServiceLifecycle

/// Binds `HeraldAPI` where the config says: the unix socket (mode 0660: the owner and its group
/// may connect, nobody else) and, when configured, TCP with the bearer token.
public enum APIListeners {
    /// One `Service` per listener. Throws when another process already serves the socket:
    /// taking its path over would silently cut that process off.
    public static func services(api: HeraldAPI, logger: Logger) throws -> [any Service] {
        let logger = {
            var logger = logger
            logger[metadataKey: "component"] = "api"
            return logger
        }()
        var services: [any Service] = []
        let intake = api.config.intake
        OpenFileLimit.raise()
        // Idle and half-sent connections are closed after idle_timeout; each listener holds at
        // most max_connections, so neither can starve the process of file descriptors.
        func server(_ name: String) -> HTTPServerBuilder {
            let limit = ConnectionLimit(maximum: intake.maxConnections, listener: name, logger: logger)
            return .http1(configuration: .init(additionalChannelHandlers: [limit.handler()],
                                               idleTimeout: .milliseconds(intake.idleTimeout.milliseconds)))
        }
        if let socket = intake.socket {
            let path = api.config.resolve(socket).path
            try FileManager.default.createDirectory(
                at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
            if UnixSocketProbe.isServed(path) {
                throw ConfigError(path: "intake.socket", "\(path) is served by another process; give this one its own socket path")
            }
            services.append(UnixSocketListener(
                path: path,
                application: Application(
                    router: api.router(token: nil),
                    server: server("socket"),
                    configuration: .init(address: .unixDomainSocket(path: path), serverName: nil),
                    onServerRunning: { _ in
                        // Sockets are created 0777 minus the umask; set the mode we promise.
                        chmod(path, 0o660)
                        logger.info("API listening", metadata: ["socket": "\(path)"])
                    },
                    logger: logger),
                logger: logger))
        }
        if let http = intake.http {
            services.append(Application(
                router: api.router(token: http.token),
                server: server("tcp"),
                configuration: .init(address: .hostname(http.host, port: http.port), serverName: nil),
                onServerRunning: { channel in
                    logger.info("API listening", metadata: ["tcp": "\(channel.localAddress.map { "\($0)" } ?? "\(http)")"])
                },
                logger: logger))
        }
        return services
    }
}

/// Runs the socket's application and removes the socket file when it stops, so a stale file
/// never outlives the process that served it (a crash leaves one; the next start replaces it).
struct UnixSocketListener<Responder: HTTPResponder>: Service, CustomStringConvertible
where Responder.Context: InitializableFromSource<ApplicationRequestContextSource> {
    let path: String
    let application: Application<Responder>
    let logger: Logger

    var description: String { "UnixSocketListener(\(path))" }

    func run() async throws {
        defer { unlink(path) }
        try await application.run()
    }
}

/// Whether a process accepts connections on a unix socket path.
enum UnixSocketProbe {
    static func isServed(_ path: String) -> Bool {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        return result == 0
    }
}
