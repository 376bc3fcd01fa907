import Foundation

/// `intake`: how the CRM hands Herald its messages.
///
/// ```yaml
/// intake:
///   drop_folder: var/inbox          # watched while `herald run` runs; "off" to disable
///   after_ingest: archive           # archive | delete
///   archive_folder: var/archive     # ingested files, and <file>.errors.ndjson for rejected lines
///   poll: 500ms
///   socket: var/herald.sock         # the HTTP API on a unix socket (mode 0660); "off" to disable
///   http: {listen: "127.0.0.1:8470", token: "${HERALD_API_TOKEN}"}
///   max_body: 16MB
///   idle_timeout: 30s               # a connection with no request in progress is closed after this
///   max_connections: auto           # per listener; auto: a quarter of the open-file limit
/// ```
public struct IntakeConfig: Sendable {
    public var dropFolder: String?
    public var deleteAfterIngest: Bool
    public var archiveFolder: String
    public var poll: Duration
    /// The API's unix socket; nil: none.
    public var socket: String?
    /// The API on TCP; nil: none.
    public var http: TCPListener?
    /// The largest request body read whole (a JSON object or array, a form). An NDJSON stream
    /// may be any length; each of its lines is limited to `maxLine`.
    public var maxBody: Int
    public static let maxLine = 1 << 20
    /// How long a connection may stay open with no request in progress (a client that connects
    /// and says nothing, or stops halfway through its headers, included).
    public var idleTimeout: Duration = .seconds(30)
    /// The most connections one listener holds; more are closed as they arrive, with a warning.
    /// nil: a quarter of the process's open-file limit, so file descriptors always remain for the
    /// queue, templates and drop folder, and for the other listener.
    public var maxConnections: Int?

    /// A TCP address for the API, where every request but the public routes (unsubscribe,
    /// inbound SMS) must carry `Authorization: Bearer <token>`.
    public struct TCPListener: Sendable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var token: Secret

        public init(host: String, port: Int, token: Secret) {
            self.host = host
            self.port = port
            self.token = token
        }

        public var description: String { "\(host):\(port)" }

        /// Only this machine can connect.
        public var isLoopback: Bool {
            host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }

        /// A development token (`make run`'s) on an address other machines can reach: a warning
        /// for `config check` and `herald run`, nil when all is well.
        public var developmentTokenWarning: String? {
            guard token.isDevelopmentValue, !isLoopback else { return nil }
            return "intake.http: a development token on \(self), which other machines can reach: set HERALD_API_TOKEN to a token of your own (openssl rand -hex 24)"
        }
    }

    public init(dropFolder: String? = "var/inbox", deleteAfterIngest: Bool = false, archiveFolder: String = "var/archive",
                poll: Duration = .milliseconds(500), socket: String? = "var/herald.sock", http: TCPListener? = nil,
                maxBody: Int = 16 << 20) {
        self.dropFolder = dropFolder
        self.deleteAfterIngest = deleteAfterIngest
        self.archiveFolder = archiveFolder
        self.poll = poll
        self.socket = socket
        self.http = http
        self.maxBody = maxBody
    }

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["drop_folder", "after_ingest", "archive_folder", "poll", "socket", "http", "max_body",
                                                "idle_timeout", "max_connections"])
        self.init()
        if let node = fields["idle_timeout"] {
            idleTimeout = try node.duration()
            guard idleTimeout >= .seconds(1) else { throw node.error("must be at least 1s, got \(idleTimeout.configText)") }
        }
        if let node = fields["max_connections"], try node.string() != "auto" {
            maxConnections = try node.int(in: 1...1_000_000)
        }
        if let folder = fields["drop_folder"] {
            let text = try folder.nonEmptyString()
            dropFolder = text == "off" ? nil : text
        }
        if let after = fields["after_ingest"] {
            switch try after.string() {
            case "archive": deleteAfterIngest = false
            case "delete": deleteAfterIngest = true
            case let other: throw after.error("expected archive or delete, got \"\(other)\"")
            }
        }
        if let archive = fields["archive_folder"] { archiveFolder = try archive.nonEmptyString() }
        if let poll = fields["poll"] {
            self.poll = try poll.duration()
            guard self.poll >= .milliseconds(10), self.poll <= .seconds(1) else {
                throw poll.error("must be between 10ms and 1s (files are picked up within one poll)")
            }
        }
        if let socket = fields["socket"] {
            let text = try socket.nonEmptyString()
            // sockaddr_un holds 108 bytes; NIO refuses longer paths with a less helpful error.
            guard text == "off" || text.utf8.count < 100 else {
                throw socket.error("a unix socket path must be shorter than 100 bytes (\(text.utf8.count))")
            }
            self.socket = text == "off" ? nil : text
        }
        if let http = fields["http"], !http.isNull { self.http = try Self.tcpListener(http) }
        if let maxBody = fields["max_body"] { self.maxBody = try maxBody.byteCount(in: 1_024...(1 << 30)) }
    }

    private static func tcpListener(_ node: ConfigNode) throws(ConfigError) -> TCPListener {
        let fields = try node.fields(allowed: ["listen", "token"])
        guard let listenNode = fields["listen"] else { throw node.error("listen is required (host:port)") }
        let listen = try listenNode.nonEmptyString()
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (1...65_535).contains(port), colon != listen.startIndex
        else { throw listenNode.error("expected host:port such as 127.0.0.1:8470, got \"\(listen)\"") }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let tokenNode = fields["token"] else {
            throw node.error("token is required: every request on TCP must carry it (from the environment)")
        }
        let token = try tokenNode.key()
        return TCPListener(host: host, port: port, token: token)
    }
}
