/// A received email as far as bounce handling reads it: header fields (unfolded), the body, and
/// for `multipart/*` its parts, each a `MailMessage` of its own. Built for hostile input: any
/// bytes parse to something (a missing boundary, a truncated part, a header without a colon are
/// noted in `defects`), and nesting, part count and header count are bounded.
struct MailMessage: Sendable {
    /// Field names as written; `header(_:)` matches them case-insensitively.
    var headers: [(name: String, value: String)]
    /// The body as it arrived (transfer-encoded).
    var body: ArraySlice<UInt8>
    var parts: [MailMessage]
    /// What did not parse as it should, in words.
    var defects: [String]
    /// `Content-Type`, lower-cased type and subtype; `text/plain` when absent or unreadable (RFC 2045 §5.2).
    let contentType: (type: String, subtype: String, parameters: [String: String])

    static let maximumDepth = 8
    static let maximumParts = 200
    static let maximumHeaders = 1_000
    static let maximumFieldBytes = 16 << 10

    init(_ bytes: some Collection<UInt8>) {
        self.init(parsing: ArraySlice(bytes), depth: 0)
    }

    private init(parsing bytes: ArraySlice<UInt8>, depth: Int) {
        defects = []
        let split = Self.headerEnd(bytes)
        (headers, defects) = Self.fields(bytes[bytes.startIndex..<split.headersEnd])
        body = bytes[split.bodyStart...]
        parts = []
        contentType = Self.contentType(headers.first { $0.name.lowercased() == "content-type" }?.value)
        let type = contentType
        guard type.type == "multipart" else { return }
        guard depth < Self.maximumDepth else {
            defects.append("multipart nested deeper than \(Self.maximumDepth) levels")
            return
        }
        guard let boundary = type.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 else {
            defects.append("multipart without a boundary")
            return
        }
        let (pieces, closed) = Self.split(body, boundary: Array(boundary.utf8))
        if !closed { defects.append("multipart not closed by its boundary") }
        if pieces.isEmpty { defects.append("multipart without parts") }
        if pieces.count > Self.maximumParts { defects.append("more than \(Self.maximumParts) parts: the rest ignored") }
        parts = pieces.prefix(Self.maximumParts).map { MailMessage(parsing: $0, depth: depth + 1) }
    }

    /// The first field named `name` (any case), unfolded.
    func header(_ name: String) -> String? {
        let lower = name.lowercased()
        return headers.first { $0.name.lowercased() == lower }?.value
    }

    /// Every field named `name`, in order.
    func headers(_ name: String) -> [String] {
        let lower = name.lowercased()
        return headers.filter { $0.name.lowercased() == lower }.map(\.value)
    }

    static func contentType(_ value: String?) -> (type: String, subtype: String, parameters: [String: String]) {
        guard let value else { return ("text", "plain", [:]) }
        let pieces = parameterized(value)
        let media = pieces.value.lowercased().split(separator: "/", maxSplits: 1)
        guard media.count == 2 else { return ("text", "plain", pieces.parameters) }
        return (media[0].trimmingCharacters(in: .whitespaces), media[1].trimmingCharacters(in: .whitespaces), pieces.parameters)
    }

    var mediaType: String { "\(contentType.type)/\(contentType.subtype)" }

    /// The body with its `Content-Transfer-Encoding` undone (base64, quoted-printable; anything
    /// else as it is).
    var decodedBody: [UInt8] {
        switch header("Content-Transfer-Encoding")?.trimmingCharacters(in: .whitespaces).lowercased() {
        case "base64": Self.base64(body)
        case "quoted-printable": Self.quotedPrintable(body)
        default: Array(body)
        }
    }

    /// The decoded body as text (bytes that are not UTF-8 replaced).
    var text: String { String(decoding: decodedBody, as: UTF8.self) }

    /// This message and every part below it, depth first.
    var allParts: [MailMessage] {
        [self] + parts.flatMap(\.allParts)
    }

    // MARK: Parsing

    /// Where the header section ends and the body starts: the first empty line (CRLF or LF).
    private static func headerEnd(_ bytes: ArraySlice<UInt8>) -> (headersEnd: Int, bodyStart: Int) {
        var index = bytes.startIndex
        var lineStart = index
        while index < bytes.endIndex {
            if bytes[index] == UInt8(ascii: "\n") {
                let line = bytes[lineStart..<index]
                if line.isEmpty || line == [UInt8(ascii: "\r")] { return (lineStart, index + 1) }
                lineStart = index + 1
            }
            index += 1
        }
        // No empty line: all header (a truncated message), or all body when the first line is no field.
        let firstLine = bytes[bytes.startIndex..<(bytes.firstIndex(of: UInt8(ascii: "\n")) ?? bytes.endIndex)]
        return firstLine.contains(UInt8(ascii: ":")) ? (bytes.endIndex, bytes.endIndex) : (bytes.startIndex, bytes.startIndex)
    }

    /// Header fields, continuation lines joined (RFC 5322 §2.2.3).
    static func fields(_ bytes: ArraySlice<UInt8>) -> ([(name: String, value: String)], [String]) {
        var fields: [(name: String, value: String)] = []
        var defects: [String] = []
        var ignored = 0
        var cut = false
        for rawLine in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty { continue }
            // Real fields stay far below this (RFC 5322 lines end by 998 bytes); a longer one is
            // cut, so a hostile header costs no more than a real one.
            if line.count > maximumFieldBytes {
                line = line.prefix(maximumFieldBytes)
                cut = true
            }
            if line.first == UInt8(ascii: " ") || line.first == UInt8(ascii: "\t") {
                if !fields.isEmpty, fields[fields.count - 1].value.utf8.count < maximumFieldBytes {
                    fields[fields.count - 1].value += " " + String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                } else if !fields.isEmpty {
                    cut = true
                }
                continue
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), colon > line.startIndex else {
                ignored += 1
                continue
            }
            guard fields.count < maximumHeaders else {
                defects.append("more than \(maximumHeaders) header fields: the rest ignored")
                break
            }
            let name = String(decoding: line[line.startIndex..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            let value = String(decoding: line[(colon + 1)...], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            fields.append((name, value))
        }
        if ignored > 0 { defects.append("\(ignored) header line\(ignored == 1 ? "" : "s") without a field name") }
        if cut { defects.append("a header field longer than \(maximumFieldBytes) bytes, cut") }
        return (fields, defects)
    }

    /// `value; name=token; name="quoted string"` → the value and the parameters (names lower-cased).
    static func parameterized(_ text: String) -> (value: String, parameters: [String: String]) {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" && quoted {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        var parameters: [String: String] = [:]
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingCharacters(in: .whitespaces).lowercased()
            if !name.isEmpty, parameters[name] == nil {
                parameters[name] = piece[piece.index(after: equals)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return (pieces[0].trimmingCharacters(in: .whitespaces), parameters)
    }

    /// The parts between `--boundary` lines, and whether the closing `--boundary--` was seen.
    private static func split(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> ([ArraySlice<UInt8>], Bool) {
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            let lineEnd = body[lineStart...].firstIndex(of: UInt8(ascii: "\n")) ?? body.endIndex
            var line = body[lineStart..<lineEnd]
            while let last = line.last, last == UInt8(ascii: "\r") || last == UInt8(ascii: " ") || last == UInt8(ascii: "\t") {
                line = line.dropLast()
            }
            if line.starts(with: delimiter) {
                let rest = line.dropFirst(delimiter.count)
                if rest.isEmpty || rest.elementsEqual([UInt8(ascii: "-"), UInt8(ascii: "-")]) {
                    if let start = partStart {
                        // The line break before a delimiter belongs to the delimiter (RFC 2046 §5.1.1).
                        var end = lineStart
                        if end > start, body[end - 1] == UInt8(ascii: "\n") { end -= 1 }
                        if end > start, body[end - 1] == UInt8(ascii: "\r") { end -= 1 }
                        parts.append(body[start..<end])
                    }
                    if !rest.isEmpty { return (parts, true) }
                    partStart = min(lineEnd + 1, body.endIndex)
                }
            }
            lineStart = lineEnd + 1
        }
        if let start = partStart, start < body.endIndex { parts.append(body[start...]) }
        return (parts, false)
    }

    /// Base64, skipping anything outside the alphabet (line breaks, stray bytes) and stopping at `=`.
    static func base64(_ bytes: some Sequence<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte - UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte - UInt8(ascii: "a") + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0") + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="): return output
            default: continue
            }
            accumulator = (accumulator << 6) | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8((accumulator >> UInt32(bits)) & 0xFF))
            }
        }
        return output
    }

    /// Quoted-printable (RFC 2045 §6.7): `=XX` and soft line breaks; a broken escape is kept as written.
    static func quotedPrintable(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "=") else {
                output.append(byte)
                index += 1
                continue
            }
            let next = index + 1
            if next < bytes.endIndex, bytes[next] == UInt8(ascii: "\n") {
                index = next + 1
            } else if next + 1 < bytes.endIndex, bytes[next] == UInt8(ascii: "\r"), bytes[next + 1] == UInt8(ascii: "\n") {
                index = next + 2
            } else if next + 1 < bytes.endIndex, let high = hexValue(bytes[next]), let low = hexValue(bytes[next + 1]) {
                output.append(high << 4 | low)
                index = next + 2
            } else {
                output.append(byte)
                index += 1
            }
        }
        return output
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
