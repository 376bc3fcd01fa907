import Foundation

/// A real IMAP and POP3 server for one test: Debian's Dovecot with a config of the test's own in
/// a temporary folder, listening with TLS (a self-signed certificate) on 127.0.0.1 and free
/// ports, one user whose Maildir lives in that folder, stopped by PID.
///
/// Mail is put in the mailbox as Dovecot's own delivery would (Maildir files under `new/`), and
/// looked at with Python's imaplib (`Tests/Servers/imap_mailbox.py`): nothing here goes through
/// Herald's IMAP client.
final class DovecotServer: @unchecked Sendable {
    static let user = "bounces@bounce.test"
    static let password = "mailbox-password-for-tests"

    let imapsPort: Int
    let pop3sPort: Int
    let certificate: URL
    let maildir: URL
    private let root: URL
    private let child: ChildProcess
    private var delivered = 0

    init(folder: TemporaryFolder) async throws {
        root = folder.file("dovecot")
        let home = root.appendingPathComponent("home")
        maildir = home.appendingPathComponent("Maildir")
        for path in ["run", "state", "home/Maildir/new", "home/Maildir/cur", "home/Maildir/tmp"] {
            try FileManager.default.createDirectory(at: root.appendingPathComponent(path), withIntermediateDirectories: true)
        }
        let (cert, key) = try await SMTPServer.makeCertificate(in: folder)
        certificate = cert
        imapsPort = try FreePort.next()
        pop3sPort = try FreePort.next()
        try "\(Self.user):{PLAIN}\(Self.password)\n".write(to: root.appendingPathComponent("passwd"), atomically: true, encoding: .utf8)
        // Dovecot refuses to run mail processes as root: the mailbox belongs to nobody.
        let config = """
            base_dir = \(root.path)/run
            state_dir = \(root.path)/state
            log_path = \(root.path)/dovecot.log
            protocols = imap pop3
            listen = 127.0.0.1
            ssl = required
            ssl_cert = <\(cert.path)
            ssl_key = <\(key.path)
            auth_mechanisms = plain login
            mail_location = maildir:~/Maildir
            passdb {
              driver = passwd-file
              args = scheme=PLAIN username_format=%u \(root.path)/passwd
            }
            userdb {
              driver = static
              args = uid=nobody gid=nogroup home=\(home.path)
            }
            service imap-login {
              chroot =
              inet_listener imap {
                port = 0
              }
              inet_listener imaps {
                port = \(imapsPort)
                ssl = yes
              }
            }
            service pop3-login {
              chroot =
              inet_listener pop3 {
                port = 0
              }
              inet_listener pop3s {
                port = \(pop3sPort)
                ssl = yes
              }
            }
            service anvil {
              chroot =
            }

            """
        let configFile = root.appendingPathComponent("dovecot.conf")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        try changeOwner(home, to: "nobody")
        child = try ChildProcess("/usr/sbin/dovecot", ["-F", "-c", configFile.path])
        let (imaps, pop3s) = (imapsPort, pop3sPort)
        guard try await waitUntil(timeout: startupTimeout, { FreePort.isListening(imaps) && FreePort.isListening(pop3s) }) else {
            child.signal(SIGKILL)
            throw ServerError.didNotStart("dovecot: \(child.output().stderr) \(log)")
        }
    }

    deinit {
        child.signal(SIGKILL)
    }

    var log: String { (try? String(contentsOf: root.appendingPathComponent("dovecot.log"), encoding: .utf8)) ?? "" }

    /// The IMAP URL of a folder, as Herald's config names it.
    func imapsURL(_ folder: String = "INBOX") -> String { "imaps://127.0.0.1:\(imapsPort)/\(folder)" }
    var pop3sURL: String { "pop3s://127.0.0.1:\(pop3sPort)" }

    /// Puts messages in INBOX, unread, as a delivery agent does (a file under Maildir's `new/`).
    func deliver(_ messages: [[UInt8]]) throws {
        for message in messages {
            delivered += 1
            let name = "\(1_700_000_000 + delivered).M\(delivered)P\(getpid()).herald-test"
            let temporary = maildir.appendingPathComponent("tmp/\(name)")
            try Data(message).write(to: temporary)
            try changeOwner(temporary, to: "nobody")
            try FileManager.default.moveItem(at: temporary, to: maildir.appendingPathComponent("new/\(name)"))
        }
    }

    /// One message in a folder, as the server lists it to a client other than Herald.
    struct Listed: Equatable, Decodable {
        var uid: Int
        var seen: Bool
        var size: Int
    }

    /// A folder's messages, listed by Python's imaplib (an empty list when the folder does not exist).
    func list(_ folder: String = "INBOX") async throws -> [Listed] {
        try JSONDecoder().decode([Listed].self, from: Data(try await client(["list", folder]).utf8))
    }

    /// A message's bytes, fetched by UID without marking it read.
    func message(uid: Int, in folder: String = "INBOX") async throws -> String {
        try await client(["fetch", folder, String(uid)])
    }

    /// Marks a message read, as a person reading the mailbox would.
    func markSeen(uid: Int, in folder: String = "INBOX") async throws {
        _ = try await client(["mark-seen", folder, String(uid)])
    }

    private func client(_ arguments: [String]) async throws -> String {
        let child = try ChildProcess(SupportPaths.python, [SupportPaths.servers.appendingPathComponent("imap_mailbox.py").path,
                                                           "--port", String(imapsPort), "--cafile", certificate.path,
                                                           "--user", Self.user, "--password", Self.password] + arguments)
        let status = await child.wait(timeout: .seconds(120))
        guard status == 0 else { throw ServerError.didNotStart("imap_mailbox.py \(arguments): exit \(status): \(child.output().stderr)") }
        return child.output().stdout
    }

    func stop() async {
        child.signal(SIGTERM)
        await child.wait(timeout: .seconds(10))
    }

    enum ServerError: Error {
        case didNotStart(String)
    }
}
