import Foundation

/// `channels.letter`: where closed batches of letters go, and when a batch closes.
///
/// ```yaml
/// letter:
///   export_dir: var/letters
///   batch: {size: 500, age: 1h}
///   upload:                                   # optional
///     url: "sftp://print.example.com/incoming/"   # or ftp://, ftps://, https:// (PUT); file names are appended
///     username: herald
///     password: "${LETTER_UPLOAD_PASSWORD}"
///     known_hosts: /etc/herald/known_hosts    # sftp: the server's key must be listed here
///     retry: {max_attempts: 10, initial: 1m, max: 1h}
/// ```
public struct LetterChannelConfig: Sendable {
    public var exportDir: String
    /// A batch closes when it holds this many letters…
    public var batchSize: Int
    /// …or when its first letter is this old.
    public var batchAge: Duration
    public var upload: Upload?

    public struct Upload: Sendable {
        /// A folder URL (ending in `/`): the batch's file names are appended.
        public var url: URL
        public var username: String?
        public var password: Secret?
        public var knownHosts: String?
        public var retry: RetryPolicy
        public var connectTimeout: Duration
        public var timeout: Duration

        /// Where `file` goes.
        public func url(for file: String) -> URL { url.appendingPathComponent(file) }
    }

    public init(exportDir: String = "var/letters", batchSize: Int = 500, batchAge: Duration = .seconds(3600),
                upload: Upload? = nil) {
        self.exportDir = exportDir
        self.batchSize = batchSize
        self.batchAge = batchAge
        self.upload = upload
    }

    init(_ node: ConfigNode) throws(ConfigError) {
        let fields = try node.fields(allowed: ["export_dir", "batch", "upload"])
        self.init()
        if let dir = fields["export_dir"] { exportDir = try dir.nonEmptyString() }
        if let batchNode = fields["batch"] {
            let batch = try batchNode.fields(allowed: ["size", "age"])
            if let size = batch["size"] { batchSize = try size.int(in: 1...1_000_000) }
            if let age = batch["age"] {
                batchAge = try age.duration()
                guard batchAge >= .seconds(1) else { throw age.error("must be at least 1s") }
            }
        }
        if let uploadNode = fields["upload"] {
            let upload = try uploadNode.fields(allowed: ["url", "username", "password", "known_hosts", "retry",
                                                         "connect_timeout", "timeout"])
            guard let urlNode = upload["url"] else { throw uploadNode.error("url: required (sftp://, ftp://, ftps:// or https://)") }
            var url = try urlNode.url(schemes: ["sftp", "ftp", "ftps", "http", "https"])
            if !url.absoluteString.hasSuffix("/") { url = URL(string: url.absoluteString + "/")! }
            var settings = Upload(url: url, retry: RetryPolicy(maxAttempts: 10, initial: .seconds(60), maximum: .seconds(3600)),
                                  connectTimeout: .seconds(10), timeout: .seconds(300))
            settings.username = try upload["username"]?.string().nilIfEmpty
            if let password = upload["password"] {
                let secret = try password.secret()
                settings.password = secret.isEmpty ? nil : secret
            }
            settings.knownHosts = try upload["known_hosts"]?.nonEmptyString()
            if let retry = upload["retry"] { settings.retry = try HeraldConfig.parseRetry(retry) }
            if let value = upload["connect_timeout"] { settings.connectTimeout = try value.duration() }
            if let value = upload["timeout"] { settings.timeout = try value.duration() }
            self.upload = settings
        }
    }
}
