import CCurl

/// What a finished libcurl transfer means: Herald's reading of libcurl's result code together
/// with what arrived from the server.
enum CurlOutcome {
    /// - Parameter connected: libcurl reported a connect time, so the server had accepted.
    static func judge(code: CURLcode, status: Int, connected: Bool, transfer: CurlTransfer,
                      duration: Duration) -> Result<CurlTransferResult, any Error> {
        let spec = transfer.spec
        let result = CurlTransferResult(responseCode: status, headerLines: transfer.headerLines, headers: transfer.headers,
                                        bodyPrefix: transfer.body, duration: duration)
        if transfer.isHTTP {
            // An HTTP answer is its status line and headers. Once they are complete the outcome
            // is known, whether the body then arrives slowly, short, or longer than Herald keeps
            // (a retry would make the receiver process it again). Before that, nothing is known,
            // even when libcurl saw no error (a connection closed inside the headers).
            if transfer.headersComplete { return .success(result) }
            if code == CURLE_OK {
                return .failure(TransportError.protocolError(
                    "the connection closed before the response's headers were complete"
                        + (transfer.statusLine.map { " (status line \(visible($0)))" } ?? ""),
                    curlCode: Int32(CURLE_WEIRD_SERVER_REPLY.rawValue)))
            }
            return .failure(error(code, connected: connected, transfer: transfer, duration: duration))
        }
        if code == CURLE_OK { return .success(result) }
        if spec.keepsFailedReplies, status >= 400 {
            var refused = result
            refused.error = error(code, connected: connected, transfer: transfer, duration: duration)
            return .success(refused)
        }
        return .failure(error(code, connected: connected, transfer: transfer, duration: duration))
    }

    /// The error for a failed transfer, in words that say which limit ran out and what the
    /// server had said by then; libcurl's own text where it says more than that.
    static func error(_ code: CURLcode, connected: Bool, transfer: CurlTransfer, duration: Duration) -> TransportError {
        let spec = transfer.spec
        var text = transfer.errorText.isEmpty ? String(cString: curl_easy_strerror(code)) : transfer.errorText
        // libcurl appends the socket's errno even when it is stale: EINPROGRESS (115) from the
        // non-blocking connect, EAGAIN (11) from the last empty read. Both point the wrong way.
        for stale in [", errno: 115", " (errno: 115)", " (errno: 11)", ", errno: 11"] {
            if let range = text.range(of: stale) { text.removeSubrange(range) }
        }
        let lastLine = transfer.speaksCommands ? transfer.headerLines.last : nil
        let said = lastLine.map { "its last reply was \(visible($0))" } ?? "it had sent nothing since the connection was made"
        if code == CURLE_OPERATION_TIMEDOUT {
            if !connected {
                text = "connect_timeout (\(Self.text(spec.connectTimeout))) passed before the server accepted the connection"
            } else if spec.mail != nil, duration < spec.timeout - .milliseconds(100) {
                // libcurl's connect phase for SMTP includes the greeting and EHLO (and STARTTLS,
                // AUTH): connect_timeout bounds them too.
                text = "connect_timeout (\(Self.text(spec.connectTimeout))) passed before the server's greeting and EHLO were done; " + said
            } else if spec.mail != nil {
                text = "timeout (\(Self.text(spec.timeout))) passed waiting for the server's reply; " + said
            } else if transfer.isHTTP {
                text = "timeout (\(Self.text(spec.timeout))) passed before the response's status line and headers were complete"
                    + (transfer.statusLine.map { " (status line \(visible($0)))" } ?? "; nothing had arrived")
            }
        } else if transfer.speaksCommands {
            // What the server said before a failure libcurl could not read (garbage, a dropped
            // connection) is worth keeping.
            text += "; " + (lastLine.map { "the server's last line was \(visible($0))" } ?? "the server had sent nothing")
        }
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

    /// A duration the way the config writes it: `3s`, `1500ms`.
    static func text(_ duration: Duration) -> String {
        let milliseconds = duration.milliseconds
        return milliseconds % 1_000 == 0 ? "\(milliseconds / 1_000)s" : "\(milliseconds)ms"
    }

    /// A server's line quoted for a log or the attempts table: control characters spelled out,
    /// at most 200 characters.
    static func visible(_ line: String) -> String {
        var quoted = "\""
        for scalar in line.unicodeScalars.prefix(200) {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                quoted += "\\u{\(String(scalar.value, radix: 16))}"
            } else if scalar == "\"" || scalar == "\\" {
                quoted += "\\\(scalar)"
            } else {
                quoted.unicodeScalars.append(scalar)
            }
        }
        return quoted + (line.unicodeScalars.count > 200 ? "…\"" : "\"")
    }
}
