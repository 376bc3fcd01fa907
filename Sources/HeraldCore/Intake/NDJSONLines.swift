import Foundation

/// Splits NDJSON that arrives in chunks (a file read piece by piece, a request body streamed off
/// a socket) into numbered items, in constant memory.
///
/// Blank lines are skipped but counted, so line numbers match an editor's. A line longer than
/// `maxLine` becomes one rejected item and is skipped to its end; the lines after it are read
/// as usual.
struct NDJSONLines {
    private var buffer: [UInt8] = []
    /// Where the unread part of `buffer` starts.
    private var start = 0
    /// How far `buffer[start...]` is known to hold no newline.
    private var scanned = 0
    private var skippingLongLine = false
    private(set) var lineNumber = 0
    let maxLine: Int

    init(maxLine: Int = IntakeConfig.maxLine) {
        self.maxLine = maxLine
    }

    mutating func append(_ bytes: some Sequence<UInt8>) {
        // Compact before growing, so the buffer holds at most one chunk plus one partial line.
        if start > 0 && start >= buffer.count / 2 {
            buffer.removeSubrange(0..<start)
            scanned -= start
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete line as an item, or nil until more bytes arrive. With `atEnd`, a last
    /// line without a newline counts as complete.
    mutating func next(atEnd: Bool = false) -> InputItem? {
        while true {
            let newline = buffer[max(start, scanned)...].firstIndex(of: UInt8(ascii: "\n"))
            guard let end = newline ?? (atEnd && start < buffer.count ? buffer.count : nil) else {
                scanned = buffer.count
                if !skippingLongLine && buffer.count - start > maxLine {
                    // Too long to be a message: report it now and drop it as it streams in.
                    skippingLongLine = true
                    lineNumber += 1
                    let item = tooLong(preview: buffer[start...].prefix(4_096))
                    start = buffer.count
                    scanned = start
                    return item
                }
                if skippingLongLine {
                    start = buffer.count
                    scanned = start
                }
                return nil
            }
            let line = buffer[start..<end]
            start = min(end + 1, buffer.count)
            scanned = start
            if skippingLongLine {
                skippingLongLine = false
                continue
            }
            lineNumber += 1
            if line.count > maxLine {
                return tooLong(preview: line.prefix(4_096))
            }
            if let item = line.withUnsafeBytes({ MessageInput.item(line: $0, number: lineNumber) }) { return item }
        }
    }

    private func tooLong(preview: ArraySlice<UInt8>) -> InputItem {
        InputItem(position: .line(lineNumber),
                  value: .failure(IntakeRejection(field: "", "the line is longer than \(maxLine) bytes")),
                  source: String(decoding: preview, as: UTF8.self))
    }
}
