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
    var bodyLimit: Int = HTTPResponse.bodyLimit
}

/// What libcurl reported when a transfer ended.
struct CurlTransferResult: Sendable {
    var responseCode: Int
    var headerLines: [String]
    var bodyPrefix: [UInt8]
    var duration: Duration
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
    let phase = Mutex(Phase.created)
    var continuation: CheckedContinuation<CurlTransferResult, any Error>?
    var headerLines: [String] = []
    var body: [UInt8] = []
    var headerList: UnsafeMutablePointer<curl_slist>?
    let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
    var started = ContinuousClock.now

    init(spec: CurlTransferSpec) {
        self.spec = spec
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
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
    return length
}

/// libcurl's header callback: one header line per call, the status line included.
let curlHeaderCallback: herald_curl_data_callback = { pointer, size, count, userdata in
    let length = size * count
    guard let pointer, let userdata else { return length }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata).takeUnretainedValue()
    // Trim on bytes: Foundation's trimmingCharacters(in:) made this callback 6 % of a busy
    // worker's CPU.
    var bytes = UnsafeRawBufferPointer(start: pointer, count: length)[...]
    while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 || last == 0x09 { bytes = bytes.dropLast() }
    while let first = bytes.first, first == 0x20 || first == 0x09 { bytes = bytes.dropFirst() }
    let line = String(decoding: bytes, as: UTF8.self)
    if line.hasPrefix("HTTP/") {
        // A new response (after 100 Continue or a redirect): forget the previous one's headers.
        transfer.headerLines.removeAll()
    } else if !line.isEmpty {
        transfer.headerLines.append(line)
    }
    return length
}
