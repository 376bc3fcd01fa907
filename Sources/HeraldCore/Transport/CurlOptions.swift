import CCurl
import Foundation

/// The libcurl options of one transfer, from its `CurlTransferSpec`.
extension CurlLoop {
    /// Sets every option of one transfer; returns the error when libcurl refuses one.
    static func configure(_ handle: UnsafeMutableRawPointer, for transfer: CurlTransfer) -> TransportError? {
        let spec = transfer.spec
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        // The first option libcurl refused; checked once at the end (an array of every code cost
        // allocations on each transfer).
        var refused = CURLE_OK
        func check(_ code: CURLcode) { if refused == CURLE_OK { refused = code } }
        check(herald_easy_setopt_string(handle, CURLOPT_URL, spec.url))
        // No signals: libcurl runs on a thread of a multi-threaded process.
        check(herald_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        check(herald_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(spec.connectTimeout.milliseconds)))
        check(herald_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(spec.timeout.milliseconds)))
        // Each reply of a command protocol (SMTP, FTP) within the timeout too. Without it libcurl
        // waits 120 s for the reply to QUIT when it closes a connection, whatever CURLOPT_TIMEOUT
        // says; libcurl also hands it to the handle that closes cached connections at cleanup.
        check(herald_easy_setopt_long(handle, CURLOPT_SERVER_RESPONSE_TIMEOUT,
                                             max(1, Int((spec.timeout.milliseconds + 999) / 1_000))))
        check(herald_easy_setopt_pointer(handle, CURLOPT_ERRORBUFFER, transfer.errorBuffer))
        check(herald_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlBodyCallback))
        check(herald_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        check(herald_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlHeaderCallback))
        check(herald_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context))
        check(herald_easy_setopt_string(handle, CURLOPT_USERAGENT, HeraldVersion.userAgent))
        if let body = spec.body {
            check(herald_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)))
            check(body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS: libcurl keeps its own copy, so `body` need not outlive this call.
                herald_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!))
            })
        }
        if let method = spec.method, method != (spec.body == nil ? "GET" : "POST") {
            check(herald_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method))
        }
        if let mail = spec.mail {
            check(herald_easy_setopt_string(handle, CURLOPT_MAIL_FROM, "<\(mail.from)>"))
            var recipients: UnsafeMutablePointer<curl_slist>?
            for recipient in mail.recipients { recipients = curl_slist_append(recipients, "<\(recipient)>") }
            transfer.recipientList = recipients
            check(herald_easy_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients))
            check(herald_easy_setopt_long(handle, CURLOPT_UPLOAD, 1))
            check(herald_easy_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(mail.message.count)))
            check(herald_easy_setopt_data_callback(handle, CURLOPT_READFUNCTION, curlReadCallback))
            check(herald_easy_setopt_pointer(handle, CURLOPT_READDATA, context))
        } else if let upload = spec.upload {
            check(herald_easy_setopt_long(handle, CURLOPT_UPLOAD, 1))
            check(herald_easy_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(upload.count)))
            check(herald_easy_setopt_data_callback(handle, CURLOPT_READFUNCTION, curlReadCallback))
            check(herald_easy_setopt_pointer(handle, CURLOPT_READDATA, context))
            if let knownHosts = spec.sshKnownHosts {
                check(herald_easy_setopt_string(handle, CURLOPT_SSH_KNOWNHOSTS, knownHosts))
            }
            // HTTP PUT: do not wait for 100-continue.
            let list = curl_slist_append(nil, "Expect:")
            transfer.headerList = list
            check(herald_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list))
        } else {
            var list: UnsafeMutablePointer<curl_slist>?
            // An empty "Expect:" stops libcurl from waiting for 100-continue on larger bodies.
            for header in spec.headers {
                list = curl_slist_append(list, header)
            }
            list = curl_slist_append(list, "Expect:")
            transfer.headerList = list
            check(herald_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list))
        }
        if spec.noBody { check(herald_easy_setopt_long(handle, CURLOPT_NOBODY, 1)) }
        if spec.forbidReuse { check(herald_easy_setopt_long(handle, CURLOPT_FORBID_REUSE, 1)) }
        if let useSSL = spec.useSSL { check(herald_easy_setopt_long(handle, CURLOPT_USE_SSL, useSSL)) }
        if let username = spec.username { check(herald_easy_setopt_string(handle, CURLOPT_USERNAME, username)) }
        if let password = spec.password { check(herald_easy_setopt_string(handle, CURLOPT_PASSWORD, password)) }
        if let caFile = spec.caFile { check(herald_easy_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        if refused != CURLE_OK {
            return .local("libcurl refused an option: \(String(cString: curl_easy_strerror(refused)))",
                          curlCode: Int32(refused.rawValue))
        }
        return nil
    }
}
