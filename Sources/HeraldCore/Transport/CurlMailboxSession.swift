import CCurl

/// What IMAP and POP3 transfers to a bounce mailbox share.
extension BounceMailboxConfig {
    /// A transfer to `url` with the mailbox's login, TLS and limits.
    func transferSpec(url: String) -> CurlTransferSpec {
        var spec = CurlTransferSpec(url: url, connectTimeout: timeout, timeout: timeout)
        spec.username = username
        spec.password = password.exposedValue
        spec.caFile = caFile
        if upgradesToTLS { spec.useSSL = Int(CURLUSESSL_ALL.rawValue) }
        // A listing of a large mailbox: ~50 bytes a message.
        spec.bodyLimit = 64 * 1_024 * 1_024
        return spec
    }
}

/// A command's reply as lines, without their CR LF.
func replyLines(_ bytes: [UInt8]) -> [String] {
    bytes.split(separator: 0x0A).map { line in
        String(decoding: line.last == 0x0D ? line.dropLast() : line[...], as: UTF8.self)
    }
}
