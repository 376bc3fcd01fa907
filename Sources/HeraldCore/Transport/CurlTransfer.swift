import CCurl
import Foundation
import Synchronization

/// What one libcurl transfer should do, independent of the protocol on top.
struct CurlTransferSpec: Sendable {
    var url: String
    /// nil leaves libcurl's default for the protocol (GET, or POST when there is a body).
    var method: String?
    var headers: [String] = []
    var body: [UInt8]?
    var connectTimeout: Duration
    var timeout: Duration
    /// How much of the response body to keep.
    var bodyLimit: Int = OutboundResponse.bodyLimit
    /// SMTP: the envelope and the message to upload.
    var mail: Mail?
    /// A file to upload (FTP, SFTP, or HTTP PUT) to `url`.
    var upload: [UInt8]?
    /// SFTP: a known_hosts file the server's key must be in.
    var sshKnownHosts: String?
    /// TLS for protocols that upgrade (`smtp://` with STARTTLS): CURLUSESSL_NONE/TRY/ALL.
    var useSSL: Int?
    var username: String?
    var password: String?
    /// A CA bundle to trust instead of the system's.
    var caFile: String?
    /// When the server answered with a failure code (an SMTP 4xx or 5xx), report its reply
    /// instead of throwing, so the caller can classify the reply.
    var keepsFailedReplies = false
    /// A command that returns no data (POP3's DELE).
    var noBody = false
    /// Close the connection after this transfer (POP3 applies deletions only at QUIT, which
    /// libcurl sends when it closes a connection).
    var forbidReuse = false

    struct Mail: Sendable {
        var from: String
        var recipients: [String]
        var message: [UInt8]
    }

    /// IMAP or POP3: like SMTP, a command protocol whose last reply lines explain a failure.
    var isMailbox: Bool {
        let lowered = url.prefix(5).lowercased()
        return lowered.hasPrefix("imap") || lowered.hasPrefix("pop3")
    }

    /// The server's reply lines are worth keeping (the last 16) to explain a failure.
    var speaksCommands: Bool { mail != nil || isMailbox }

    /// HTTP answers are judged on their status line and headers (see `CurlOutcome`).
    var isHTTP: Bool {
        mail == nil && (url.lowercased().hasPrefix("http://") || url.lowercased().hasPrefix("https://"))
    }
}

/// What libcurl reported when a transfer ended.
struct CurlTransferResult: Sendable {
    var responseCode: Int
    /// SMTP, IMAP, POP3: the server's last reply lines.
    var headerLines: [String]
    /// HTTP: the final response's headers, names lower-cased, values trimmed, in arrival order.
    var headers: [(name: String, value: String)] = []
    var bodyPrefix: [UInt8]
    var duration: Duration
    /// Set when the transfer failed after the server answered (`keepsFailedReplies`).
    var error: TransportError? = nil
}

/// One transfer in flight: the request, the awaiting continuation and the buffers libcurl's
/// callbacks fill. Everything but `phase` is touched only on the loop thread.
final class CurlTransfer: @unchecked Sendable {
    enum Phase {
        case created
        case submitted
        case cancelled
        case finished
    }

    let spec: CurlTransferSpec
    /// `spec.isHTTP` and `spec.speaksCommands`, worked out once: the callbacks ask for every line.
    let isHTTP: Bool
    let speaksCommands: Bool
    let phase = Mutex(Phase.created)
    var continuation: CheckedContinuation<CurlTransferResult, any Error>?
    /// Command protocols: the server's reply lines (the last 16).
    var headerLines: [String] = []
    /// HTTP: the headers of the response being read.
    var headers: [(name: String, value: String)] = []
    /// HTTP: the status line of the response being read.
    var statusLine: String?
    /// HTTP: the final response's status line and headers have all arrived (the empty line that
    /// ends them was read). Only then is the answer known.
    var headersComplete = false
    /// HTTP: Herald stopped reading the body once it had all it keeps.
    var stoppedReading = false
    var body: [UInt8] = []
    var headerList: UnsafeMutablePointer<curl_slist>?
    var recipientList: UnsafeMutablePointer<curl_slist>?
    /// How much of `spec.mail.message` or `spec.upload` libcurl has read.
    var uploadOffset = 0
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    var started = ContinuousClock.now

    init(spec: CurlTransferSpec) {
        self.spec = spec
        isHTTP = spec.isHTTP
        speaksCommands = spec.speaksCommands
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        if let recipientList { curl_slist_free_all(recipientList) }
        errorBuffer.deallocate()
    }

    /// Resumes the awaiting task once; later calls are ignored.
    func finish(_ result: Result<CurlTransferResult, any Error>) {
        let shouldResume = phase.withLock { phase in
            guard phase != .finished else { return false }
            phase = .finished
            return true
        }
        guard shouldResume, let continuation else { return }
        self.continuation = nil
        continuation.resume(with: result)
    }

    /// Answers the caller with a timeout: the backstop for a loop thread stuck in one of
    /// libcurl's blocking waits (see `CurlLoop`'s watchdog). Ignored once the transfer ended.
    func answerPastDeadline() {
        finish(.failure(TransportError.timeout(
            "timeout (\(CurlOutcome.text(spec.timeout))) passed and libcurl was still waiting on the server; the connection is abandoned")))
    }

    var isFinished: Bool { phase.withLock { $0 == .finished } }

    var errorText: String {
        String(cString: errorBuffer)
    }
}

/// libcurl's write callback: keeps the first `bodyLimit` bytes and discards the rest (the
/// attempts table stores 1 KB; the rest need not sit in memory).
let curlBodyCallback: herald_curl_data_callback = { pointer, size, count, userdata in
    let length = size * count
    guard let pointer, let userdata else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    let room = transfer.spec.bodyLimit - transfer.body.count
    if room > 0 {
        let bytes = UnsafeRawBufferPointer(start: pointer, count: min(room, length))
        transfer.body.append(contentsOf: bytes)
    }
    if length > room, transfer.headersComplete, transfer.isHTTP {
        // All Herald keeps has arrived and the answer is known: read no further (a slow or
        // endless body must not hold the attempt, nor be read into memory).
        transfer.stoppedReading = true
        return 0
    }
    return length
}

/// libcurl's header callback: one header line per call, the status line included.
let curlHeaderCallback: herald_curl_data_callback = { pointer, size, count, userdata in
    let length = size * count
    guard let pointer, let userdata else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    // Worked on bytes: Foundation's trimmingCharacters(in:) made header handling 6 % of a busy
    // worker's CPU, and an HTTP header becomes its name and value without a line in between.
    let line = CurlHeaderLine.trimmed(UnsafeRawBufferPointer(start: pointer, count: length)[...])
    if transfer.speaksCommands {
        // SMTP, IMAP, POP3: every server reply line; the last ones explain a failure.
        transfer.headerLines.append(String(decoding: line, as: UTF8.self))
        if transfer.headerLines.count > 16 { transfer.headerLines.removeFirst() }
    } else if line.starts(with: CurlHeaderLine.statusPrefix) {
        // A new response (after 100 Continue): forget the previous one's headers.
        transfer.headers.removeAll()
        transfer.statusLine = String(decoding: line, as: UTF8.self)
        transfer.headersComplete = false
    } else if line.isEmpty {
        // The empty line ends a response's headers; a 1xx is followed by the real response.
        let code = transfer.statusLine.flatMap { $0.split(separator: " ").dropFirst().first }.flatMap { Int($0) } ?? 0
        if code >= 200 { transfer.headersComplete = true }
    } else if let header = CurlHeaderLine.field(line) {
        transfer.headers.append(header)
    }
    return length
}

/// Header lines as libcurl hands them over: bytes, read without building a line first.
enum CurlHeaderLine {
    static let statusPrefix = Array("HTTP/".utf8)

    /// `bytes` without the line break and the spaces or tabs around it.
    static func trimmed(_ bytes: Slice<UnsafeRawBufferPointer>) -> Slice<UnsafeRawBufferPointer> {
        var bytes = bytes
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
        while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
        return bytes
    }

    /// `Name: value` as its name lower-cased and its value trimmed; nil for a line without a colon.
    static func field(_ line: Slice<UnsafeRawBufferPointer>) -> (name: String, value: String)? {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = String(unsafeUninitializedCapacity: colon - line.startIndex) { buffer in
            for (offset, byte) in line[..<colon].enumerated() {
                buffer[offset] = (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
            }
            return colon - line.startIndex
        }
        let value = String(decoding: trimmed(line[(colon + 1)...]), as: UTF8.self)
        return (name, value)
    }
}

/// libcurl's read callback for uploads (the SMTP DATA): hands out the message in chunks.
let curlReadCallback: herald_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    guard let message = transfer.spec.mail?.message ?? transfer.spec.upload else { return 0 }
    let length = min(size * count, message.count - transfer.uploadOffset)
    guard length > 0 else { return 0 }
    message.withUnsafeBytes { bytes in
        UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress! + transfer.uploadOffset, byteCount: length)
    }
    transfer.uploadOffset += length
    return length
}
