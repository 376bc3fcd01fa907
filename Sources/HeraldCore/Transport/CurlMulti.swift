import CCurl
import Foundation
import Logging
import Synchronization

/// libcurl's multi interface on a thread of its own.
///
/// The cooperative pool has few threads (two on the machines Herald targets); a blocking libcurl
/// call there would stall every task. Here one thread drives all transfers with
/// `curl_multi_poll`, and `perform` bridges to it with a continuation. Transfers share the multi
/// handle's connection cache, so consecutive requests to one host reuse connections.
///
/// Call `shutdown()` when done: it cancels what is still running and ends the thread.
public final class CurlMulti: @unchecked Sendable {
    private struct Inbox {
        var submitted: [CurlTransfer] = []
        var cancelled: [CurlTransfer] = []
        var stopping = false
        var stopped: CheckedContinuation<Void, Never>?
    }

    // Touched only on the loop thread.
    private let multi: UnsafeMutableRawPointer
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]
    private var idleHandles: [UnsafeMutableRawPointer] = []
    private let maxIdleHandles: Int

    private let inbox = Mutex(Inbox())
    private let logger: Logger

    private static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
    }()

    /// - Parameter maxConnections: how many idle connections the cache keeps for reuse.
    public init(maxConnections: Int = 64, logger: Logger = Logger(label: "herald.curl")) {
        _ = Self.globalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        self.maxIdleHandles = maxConnections
        self.logger = logger
        _ = herald_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, maxConnections)
        let thread = Thread { [self] in runLoop() }
        thread.name = "herald-curl"
        thread.start()
    }

    /// Runs one transfer to its end. Throws `TransportError`, or `CancellationError` when the
    /// calling task is cancelled (the transfer is then aborted).
    func perform(_ spec: CurlTransferSpec) async throws -> CurlTransferResult {
        let transfer = CurlTransfer(spec: spec)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                transfer.continuation = continuation
                let alreadyCancelled = transfer.phase.withLock { phase in
                    guard phase == .created else { return true }
                    phase = .submitted
                    return false
                }
                if alreadyCancelled {
                    transfer.finish(.failure(CancellationError()))
                    return
                }
                // Wake under the lock: the loop frees the multi handle under it when stopping.
                let accepted = inbox.withLock { inbox in
                    guard !inbox.stopping else { return false }
                    inbox.submitted.append(transfer)
                    curl_multi_wakeup(multi)
                    return true
                }
                if !accepted {
                    transfer.finish(.failure(TransportError.local("the transport is shut down")))
                }
            }
        } onCancel: {
            let wasSubmitted = transfer.phase.withLock { phase in
                switch phase {
                case .created:
                    phase = .cancelled
                    return false
                case .submitted:
                    return true
                case .cancelled, .finished:
                    return false
                }
            }
            if wasSubmitted {
                inbox.withLock { inbox in
                    guard !inbox.stopping else { return }
                    inbox.cancelled.append(transfer)
                    curl_multi_wakeup(multi)
                }
            }
        }
    }

    /// Aborts the transfers still running and ends the loop thread.
    public func shutdown() async {
        await withCheckedContinuation { continuation in
            let alreadyStopping = inbox.withLock { inbox in
                guard !inbox.stopping else { return true }
                inbox.stopping = true
                inbox.stopped = continuation
                curl_multi_wakeup(multi)
                return false
            }
            if alreadyStopping { continuation.resume() }
        }
    }

    // MARK: - The loop thread

    private func runLoop() {
        var running: Int32 = 0
        while true {
            let (submitted, cancelled, stopping, stopped) = inbox.withLock { inbox in
                defer {
                    inbox.submitted.removeAll(keepingCapacity: true)
                    inbox.cancelled.removeAll(keepingCapacity: true)
                }
                return (inbox.submitted, inbox.cancelled, inbox.stopping, inbox.stopped)
            }
            for transfer in submitted { start(transfer) }
            for transfer in cancelled { abort(transfer, with: CancellationError()) }
            if stopping {
                for transfer in Array(active.values) {
                    abort(transfer, with: TransportError.local("the transport is shut down"))
                }
                for handle in idleHandles { curl_easy_cleanup(handle) }
                idleHandles.removeAll()
                _ = inbox.withLock { _ in curl_multi_cleanup(multi) }
                stopped?.resume()
                return
            }
            curl_multi_perform(multi, &running)
            collectFinished()
            curl_multi_poll(multi, nil, 0, 1_000, nil)
        }
    }

    private func start(_ transfer: CurlTransfer) {
        let handle = idleHandles.popLast() ?? curl_easy_init()
        guard let handle else {
            transfer.finish(.failure(TransportError.local("curl_easy_init failed")))
            return
        }
        if let problem = configure(handle, for: transfer) {
            recycle(handle)
            transfer.finish(.failure(problem))
            return
        }
        transfer.started = .now
        active[handle] = transfer
        curl_multi_add_handle(multi, handle)
    }

    /// Sets every option of one transfer; returns the error when libcurl refuses one.
    private func configure(_ handle: UnsafeMutableRawPointer, for transfer: CurlTransfer) -> TransportError? {
        let spec = transfer.spec
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        var codes: [CURLcode] = []
        codes.append(herald_easy_setopt_string(handle, CURLOPT_URL, spec.url))
        // No signals: libcurl runs on a thread of a multi-threaded process.
        codes.append(herald_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        codes.append(herald_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(spec.connectTimeout.milliseconds)))
        codes.append(herald_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(spec.timeout.milliseconds)))
        codes.append(herald_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer))
        codes.append(herald_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlBodyCallback))
        codes.append(herald_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        codes.append(herald_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback))
        codes.append(herald_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        codes.append(herald_easy_setopt_string(handle, CURLOPT_USERAGENT, HeraldVersion.userAgent))
        if let body = spec.body {
            codes.append(herald_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            codes.append(body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS: libcurl keeps its own copy, so `body` need not outlive this call.
                herald_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            })
        }
        if let method = spec.method, method != (spec.body == nil ? "GET" : "POST") {
            codes.append(herald_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method))
        }
        if let mail = spec.mail {
            codes.append(herald_easy_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(mail.from)>"))
            var recipients: UnsafeMutablePointer<curl_slist>?
            for recipient in mail.recipients { recipients = curl_slist_append(recipients, "<\(recipient)>") }
            transfer.recipientList = recipients
            codes.append(herald_easy_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients))
            codes.append(herald_easy_setopt_long(handle, CURLOPT_UPLOAD, 1))
            codes.append(herald_easy_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(mail.message.count)))
            codes.append(herald_easy_setopt_data_callback(handle, CURLOPT_READFUNCTION, curlReadCallback))
            codes.append(herald_easy_setopt_pointer(handle, CURLOPT_READDATA, context))
        } else if let upload = spec.upload {
            codes.append(herald_easy_setopt_long(handle, CURLOPT_UPLOAD, 1))
            codes.append(herald_easy_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(upload.count)))
            codes.append(herald_easy_setopt_data_callback(handle, CURLOPT_READFUNCTION, curlReadCallback))
            codes.append(herald_easy_setopt_pointer(handle, CURLOPT_READDATA, context))
            if let knownHosts = spec.sshKnownHosts {
                codes.append(herald_easy_setopt_string(handle, CURLOPT_SSH_KNOWNHOSTS, knownHosts))
            }
            // HTTP PUT: do not wait for 100-continue.
            let list = curl_slist_append(nil, "Expect:")
            transfer.headerList = list
            codes.append(herald_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list))
        } else {
            var list: UnsafeMutablePointer<curl_slist>?
            // An empty "Expect:" stops libcurl from waiting for 100-continue on larger bodies.
            for header in spec.headers + ["Expect:"] {
                list = curl_slist_append(list, header)
            }
            transfer.headerList = list
            codes.append(herald_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list))
        }
        if let useSSL = spec.useSSL { codes.append(herald_easy_setopt_long(handle, CURLOPT_USE_SSL, useSSL)) }
        if let username = spec.username { codes.append(herald_easy_setopt_string(handle, CURLOPT_USERNAME, username)) }
        if let password = spec.password { codes.append(herald_easy_setopt_string(handle, CURLOPT_PASSWORD, password)) }
        if let caFile = spec.caFile { codes.append(herald_easy_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        if let failed = codes.first(where: { $0 != CURLE_OK }) {
            return .local("libcurl refused an option: \(String(cString: curl_easy_strerror(failed)))",
                          curlCode: Int32(failed.rawValue))
        }
        return nil
    }

    private func collectFinished() {
        var remaining: Int32 = 0
        while let message = curl_multi_info_read(multi, &remaining) {
            guard message.pointee.msg == CURLMSG_DONE, let handle = message.pointee.easy_handle,
                  let transfer = active.removeValue(forKey: handle)
            else { continue }
            let code = message.pointee.data.result
            curl_multi_remove_handle(multi, handle)
            let duration = ContinuousClock.now - transfer.started
            var status = 0
            _ = herald_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
            // Recycle before resuming: the waiting task may free the transfer's buffers at once.
            recycle(handle)
            if code == CURLE_OK {
                transfer.finish(.success(CurlTransferResult(
                    responseCode: status, headerLines: transfer.headerLines, bodyPrefix: transfer.body,
                    duration: duration)))
            } else if transfer.spec.keepsFailedReplies, status >= 400 {
                transfer.finish(.success(CurlTransferResult(
                    responseCode: status, headerLines: transfer.headerLines, bodyPrefix: transfer.body,
                    duration: duration, error: Self.transportError(code, detail: transfer.errorText))))
            } else {
                transfer.finish(.failure(Self.transportError(code, detail: transfer.errorText)))
            }
        }
    }

    private func abort(_ transfer: CurlTransfer, with error: any Error) {
        if let handle = active.first(where: { $0.value === transfer })?.key {
            active.removeValue(forKey: handle)
            curl_multi_remove_handle(multi, handle)
            recycle(handle)
        }
        transfer.finish(.failure(error))
    }

    private func recycle(_ handle: UnsafeMutableRawPointer) {
        // Reset drops the options (and our callbacks' pointers) but keeps the handle's caches.
        curl_easy_reset(handle)
        if idleHandles.count < maxIdleHandles {
            idleHandles.append(handle)
        } else {
            curl_easy_cleanup(handle)
        }
    }

    static func transportError(_ code: CURLcode, detail: String) -> TransportError {
        let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
        let raw = Int32(code.rawValue)
        switch code {
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            return .dns(text, curlCode: raw)
        case CURLE_COULDNT_CONNECT:
            return .connect(text, curlCode: raw)
        case CURLE_OPERATION_TIMEDOUT:
            return .timeout(text, curlCode: raw)
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_USE_SSL_FAILED, CURLE_SSL_ISSUER_ERROR:
            return .tls(text, curlCode: raw)
        case CURLE_UNSUPPORTED_PROTOCOL, CURLE_URL_MALFORMAT, CURLE_WEIRD_SERVER_REPLY, CURLE_HTTP2,
             CURLE_RANGE_ERROR:
            return .protocolError(text, curlCode: raw)
        default:
            return .network(text, curlCode: raw)
        }
    }
}
