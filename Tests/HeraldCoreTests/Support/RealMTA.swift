import Foundation

/// A real MTA for one test, in a temporary folder, on 127.0.0.1: it accepts mail for the domain
/// `local.test`, whose mailboxes are `kept` (takes mail), `full` (over its quota) and nobody else,
/// and relays everything else (the bounces it sends) to `relayPort`. Stopped by PID.
///
/// - Postfix: Debian's `postfix` package, its master in the foreground with a config directory of
///   the test's own (virtual(8) mailboxes; unknown users are accepted, then bounced).
/// - Exim: Debian's `exim4-daemon-light`, unpacked by `make test` under `.build-exim/` (it
///   conflicts with Postfix as a package), run with `-C` and a config of the test's own.
final class RealMTA: @unchecked Sendable {
    enum Kind: String, CaseIterable, Sendable, CustomStringConvertible {
        case postfix
        case exim
        var description: String { rawValue }
    }

    let kind: Kind
    let port: Int
    let root: URL
    private let child: ChildProcess

    /// Where `make test` unpacks Exim.
    static let eximRoot = SupportPaths.packageRoot.appendingPathComponent(".build-exim/root")

    init(_ kind: Kind, folder: TemporaryFolder, relayPort: Int) async throws {
        self.kind = kind
        root = folder.file(kind.rawValue)
        port = try FreePort.next()
        let fm = FileManager.default
        for path in ["conf", "queue", "data", "mail/kept", "log", "spool"] {
            try fm.createDirectory(at: root.appendingPathComponent(path), withIntermediateDirectories: true)
        }
        // The full mailbox: 19,000 bytes of a 20,000-byte quota.
        let full = root.appendingPathComponent(kind == .postfix ? "mail/full/mbox" : "mail/full")
        try fm.createDirectory(at: full.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(repeating: UInt8(ascii: "x"), count: 19_000).write(to: full)
        switch kind {
        case .postfix:
            let r = root.path
            try """
                compatibility_level = 3.6
                queue_directory = \(r)/queue
                data_directory = \(r)/data
                mail_owner = postfix
                setgid_group = postdrop
                myhostname = mx.local.test
                mydomain = local.test
                myorigin = local.test
                mydestination =
                inet_interfaces = 127.0.0.1
                inet_protocols = ipv4
                mynetworks = 127.0.0.0/8
                smtpd_relay_restrictions = permit_mynetworks, reject
                smtpd_reject_unlisted_recipient = no
                virtual_mailbox_domains = local.test
                virtual_mailbox_base = \(r)/mail
                virtual_mailbox_maps = texthash:\(r)/conf/vmailbox
                virtual_uid_maps = static:65534
                virtual_gid_maps = static:65534
                virtual_mailbox_limit = 20000
                message_size_limit = 10000
                relayhost = [127.0.0.1]:\(relayPort)
                smtp_tls_security_level = none
                maillog_file = \(r)/log/maillog
                maillog_file_prefixes = \(r)
                delay_warning_time = 0h

                """.write(to: root.appendingPathComponent("conf/main.cf"), atomically: true, encoding: .utf8)
            try "full@local.test full/mbox\nkept@local.test kept/mbox\n"
                .write(to: root.appendingPathComponent("conf/vmailbox"), atomically: true, encoding: .utf8)
            // Debian's master.cf without chroot (the queue is the test's folder), smtpd on our port.
            let shipped = try String(contentsOfFile: "/etc/postfix/master.cf", encoding: .utf8)
            var master: [String] = []
            for line in shipped.split(separator: "\n") where !line.hasPrefix("#") && !line.trimmingCharacters(in: .whitespaces).isEmpty {
                if line.hasPrefix("maildrop") { break }
                if line.first == " " || line.first == "\t" {
                    master.append(String(line))  // a continuation: -o options
                    continue
                }
                var fields = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
                if fields.count >= 8, ["unix", "inet", "unix-dgram"].contains(fields[1]) {
                    fields[4] = "n"
                    if fields[0] == "smtp" && fields[1] == "inet" { fields[0] = "127.0.0.1:\(port)" }
                }
                master.append(fields.joined(separator: " "))
            }
            try (master.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("conf/master.cf"), atomically: true, encoding: .utf8)
            try changeOwner(root.appendingPathComponent("mail"), to: "nobody")
            try changeOwner(root.appendingPathComponent("data"), to: "postfix")
            child = try ChildProcess("/usr/sbin/postfix", ["-c", root.appendingPathComponent("conf").path, "start-fg"])
        case .exim:
            let exim = Self.eximRoot.appendingPathComponent("usr/sbin/exim4").path
            guard fm.isExecutableFile(atPath: exim) else {
                throw ServerError.didNotStart("no Exim at \(exim): make test unpacks Debian's exim4-daemon-light there")
            }
            let r = root.path
            try """
                exim_path = \(exim)
                primary_hostname = mx.local.test
                domainlist local_domains = local.test
                daemon_smtp_ports = \(port)
                local_interfaces = 127.0.0.1
                spool_directory = \(r)/spool
                log_file_path = \(r)/log/%slog
                acl_smtp_rcpt = acl_check_rcpt
                host_lookup =
                rfc1413_hosts =
                disable_ipv6 = true
                tls_advertise_hosts =
                begin acl
                acl_check_rcpt:
                  accept hosts = 127.0.0.1
                  deny
                begin routers
                mailboxes:
                  driver = accept
                  domains = +local_domains
                  local_parts = full : kept
                  transport = mailbox
                outbound:
                  driver = manualroute
                  domains = ! +local_domains
                  route_list = * 127.0.0.1
                  transport = remote_smtp
                  self = send
                begin transports
                mailbox:
                  driver = appendfile
                  file = \(r)/mail/$local_part_data
                  quota = 20000
                  user = Debian-exim
                remote_smtp:
                  driver = smtp
                  port = \(relayPort)
                begin retry
                * quota
                * * F,1m,1m

                """.write(to: root.appendingPathComponent("conf/exim.conf"), atomically: true, encoding: .utf8)
            // Exim gives up root for a -C config: what it writes must be its own user's.
            for path in ["spool", "log", "mail"] { try changeOwner(root.appendingPathComponent(path), to: "Debian-exim") }
            child = try ChildProcess(exim, ["-C", root.appendingPathComponent("conf/exim.conf").path, "-bdf", "-q2s"])
        }
        let listening = port
        guard try await waitUntil(timeout: startupTimeout, { FreePort.isListening(listening) }) else {
            child.signal(SIGKILL)
            throw ServerError.didNotStart("\(kind): \(child.output().stderr) \(log)")
        }
    }

    deinit {
        child.signal(SIGKILL)
    }

    /// The MTA's own log.
    var log: String {
        let file = kind == .postfix ? "log/maillog" : "log/mainlog"
        return (try? String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)) ?? ""
    }

    func stop() async {
        child.signal(SIGTERM)
        await child.wait(timeout: .seconds(15))
    }

    enum ServerError: Error {
        case didNotStart(String)
    }
}
