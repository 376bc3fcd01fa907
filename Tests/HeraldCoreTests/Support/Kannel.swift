import Foundation

/// A real Kannel on 127.0.0.1 (Debian's `kannel` and `kannel-extras`): a bearerbox with a fake
/// SMSC, the fake SMSC client `fakesmsc` receiving what the bearerbox sends, and an smsbox
/// serving `sendsms`. Started for one test, stopped by PID.
final class Kannel: @unchecked Sendable {
    /// One SMS as it arrived at the fake SMSC, concatenated parts joined.
    struct Received: Equatable {
        var from: String
        var to: String
        var text: String
        /// "text" (GSM-7 / 8-bit) or "ucs-2".
        var coding: String
        var parts: Int
    }

    static let username = "herald"
    static let password = "kannel-s3cret"

    let sendsmsPort: Int
    private let folder: TemporaryFolder
    private var children: [ChildProcess]
    private let fakeSMSC: ChildProcess

    static let bearerbox = "/usr/sbin/bearerbox"
    static let smsbox = "/usr/sbin/smsbox"
    static let fakesmsc = "/usr/lib/kannel/test/fakesmsc"

    init(folder: TemporaryFolder) async throws {
        self.folder = folder
        for tool in [Self.bearerbox, Self.smsbox, Self.fakesmsc] where !FileManager.default.isExecutableFile(atPath: tool) {
            throw KannelError.notInstalled(tool)
        }
        // A free port can be taken by another test between the check and Kannel's bind; the box
        // then exits at once. Such a start is tried again on fresh ports (twice at most).
        var attempt = 1
        while true {
            let started = try Self.configure(folder: folder, attempt: attempt)
            var children: [ChildProcess] = []
            do {
                let fake = try await Self.launch(started, into: &children)
                self.sendsmsPort = started.sendsms
                self.fakeSMSC = fake
                self.children = children
                return
            } catch KannelError.exited(let what) where attempt < 3 {
                for child in children.reversed() { child.signal(SIGKILL) }
                print("kannel: \(what) exited at start (attempt \(attempt)); trying again on fresh ports")
                attempt += 1
            } catch {
                for child in children.reversed() { child.signal(SIGKILL) }
                throw error
            }
        }
    }

    private struct Ports {
        var admin: Int, boxes: Int, smsc: Int, sendsms: Int
        var config: String, logs: URL
    }

    private static func configure(folder: TemporaryFolder, attempt: Int) throws -> Ports {
        let admin = try FreePort.next(), boxes = try FreePort.next(), smsc = try FreePort.next(), sendsms = try FreePort.next()
        let logs = folder.file("kannel-\(attempt)")
        try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
        try folder.write("kannel-\(attempt)/kannel.conf", """
            group = core
            admin-port = \(admin)
            admin-interface = 127.0.0.1
            admin-password = admin-\(UUID().uuidString.prefix(8))
            smsbox-port = \(boxes)
            box-allow-ip = "127.0.0.1"
            log-file = "\(logs.path)/bearerbox.log"
            log-level = 0

            group = smsc
            smsc = fake
            smsc-id = FAKE
            host = 127.0.0.1
            port = \(smsc)
            connect-allow-ip = 127.0.0.1

            group = smsbox
            bearerbox-host = 127.0.0.1
            bearerbox-port = \(boxes)
            sendsms-port = \(sendsms)
            sendsms-interface = 127.0.0.1
            log-file = "\(logs.path)/smsbox.log"
            log-level = 0

            group = sendsms-user
            username = \(Self.username)
            password = \(Self.password)
            concatenation = true
            max-messages = 10

            group = sms-service
            keyword = default
            text = "No service"

            """)
        return Ports(admin: admin, boxes: boxes, smsc: smsc, sendsms: sendsms,
                     config: folder.file("kannel-\(attempt)/kannel.conf").path, logs: logs)
    }

    /// Starts the three boxes; returns the fake SMSC client.
    private static func launch(_ ports: Ports, into children: inout [ChildProcess]) async throws -> ChildProcess {
        let bearerbox = try ChildProcess(Self.bearerbox, ["-v", "1", ports.config])
        children.append(bearerbox)
        try await Self.wait("bearerbox on \(ports.smsc)", alive: [bearerbox]) {
            FreePort.isListening(ports.smsc) && FreePort.isListening(ports.boxes)
        }
        // -m 0: send no messages of its own, only receive. It wants one message pattern anyway.
        let fake = try ChildProcess(Self.fakesmsc, ["-H", "127.0.0.1", "-r", String(ports.smsc), "-m", "0", "1 2 text nop"])
        children.append(fake)
        let smsbox = try ChildProcess(Self.smsbox, ["-v", "1", ports.config])
        children.append(smsbox)
        let bearerboxLog = ports.logs.appendingPathComponent("bearerbox.log"), smsboxLog = ports.logs.appendingPathComponent("smsbox.log")
        try await Self.wait("Kannel ready", alive: [bearerbox, smsbox]) {
            FreePort.isListening(ports.sendsms)
                && ((try? String(contentsOf: bearerboxLog, encoding: .utf8))?.contains("Fakesmsc client connected") ?? false)
                && ((try? String(contentsOf: smsboxLog, encoding: .utf8))?.contains("Connected to bearerbox") ?? false)
        }
        return fake
    }

    var sendsmsURL: String { "http://127.0.0.1:\(sendsmsPort)/cgi-bin/sendsms" }

    /// What the fake SMSC received so far, in order, with concatenated parts joined.
    func received() -> [Received] {
        var messages: [Received] = []
        var pending: [String: (header: Received, total: Int, parts: [Int: [UInt8]])] = [:]
        // fakesmsc reports through Kannel's logger, on standard error.
        for line in fakeSMSC.output().stderr.split(separator: "\n") {
            guard let start = line.range(of: ": <"), line.hasSuffix(">"), line.contains("Got message") else { continue }
            let fields = line[start.upperBound..<line.index(before: line.endIndex)].split(separator: " ", maxSplits: 3,
                                                                                       omittingEmptySubsequences: false)
            guard fields.count == 4 else { continue }
            let from = String(fields[0]), to = String(fields[1]), type = String(fields[2])
            switch type {
            case "text":
                messages.append(Received(from: from, to: to, text: String(fields[3]), coding: "text", parts: 1))
            case "ucs-2":
                messages.append(Received(from: from, to: to, text: Self.ucs2(Self.percentDecoded(fields[3])), coding: "ucs-2", parts: 1))
            case "udh":
                // "<udh, url-encoded> <data|ucs-2> <payload, url-encoded>"; UDH 05 00 03 ref total index.
                let rest = fields[3].split(separator: " ", maxSplits: 2)
                let udh = Self.percentDecoded(rest[0])
                guard rest.count == 3, udh.count >= 6 else { continue }
                let reference = "\(from) \(to) \(udh[3])", total = Int(udh[4]), index = Int(udh[5])
                let coding = rest[1] == "ucs-2" ? "ucs-2" : "text"
                var entry = pending[reference] ?? (Received(from: from, to: to, text: "", coding: coding, parts: total), total, [:])
                entry.parts[index] = Self.percentDecoded(rest[2])
                if entry.parts.count == entry.total {
                    let bytes = (1...entry.total).flatMap { entry.parts[$0] ?? [] }
                    entry.header.text = coding == "ucs-2" ? Self.ucs2(bytes) : String(decoding: bytes, as: UTF8.self)
                    messages.append(entry.header)
                    pending[reference] = nil
                } else {
                    pending[reference] = entry
                }
            default:
                continue
            }
        }
        return messages
    }

    /// Kills the boxes. SIGKILL, because the test runner hands its children a blocked signal
    /// mask and Kannel, unlike Herald and the Python servers, does not unblock SIGTERM itself;
    /// nothing of a test box needs a clean shutdown.
    func stop() async {
        for child in children.reversed() {
            child.signal(SIGKILL)
            await child.wait(timeout: .seconds(5))
        }
    }

    private static func percentDecoded(_ text: Substring) -> [UInt8] {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            if byte == UInt8(ascii: "%"), let high = iterator.next(), let low = iterator.next(),
               let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) {
                bytes.append(value)
            } else {
                bytes.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
            }
        }
        return bytes
    }

    private static func ucs2(_ bytes: [UInt8]) -> String {
        let units = stride(from: 0, to: bytes.count - 1, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        return String(decoding: units, as: UTF16.self)
    }

    /// Waits for `condition`; a box of `alive` that exits meanwhile ends the wait at once.
    private static func wait(_ what: String, alive: [ChildProcess], _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + startupTimeout
        while !condition() {
            if let gone = alive.first(where: { !$0.isRunning }) {
                throw KannelError.exited("\(what): \(gone.output().stderr.suffix(300))")
            }
            guard ContinuousClock.now < deadline else { throw KannelError.notReady(what) }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    enum KannelError: Error {
        case notInstalled(String)
        case notReady(String)
        case exited(String)
    }
}
