import Foundation

/// Where an item stood in its input, for result lines and error reports.
public enum InputPosition: Sendable, Equatable, CustomStringConvertible {
    /// NDJSON: the 1-based line number.
    case line(Int)
    /// A JSON array: the 1-based element number; a single object is item 1.
    case item(Int)

    public var description: String {
        switch self {
        case .line(let number): "line \(number)"
        case .item(let number): "item \(number)"
        }
    }
}

/// One message-shaped piece of input, parsed as JSON or refused.
public struct InputItem: Sendable {
    public var position: InputPosition
    public var value: Result<JSONValue, IntakeRejection>
    /// The input as written (at most 4 KB), kept for error reports of rejected items.
    public var source: String? = nil
}

extension InputPosition {
    /// The line or item number.
    public var number: Int {
        switch self {
        case .line(let number), .item(let number): number
        }
    }
}

/// Splits JSON input into items: one object, an array of objects, or NDJSON (one object per line).
///
/// NDJSON streams in constant memory, batch by batch. An array or a single (possibly
/// pretty-printed) object is read whole, as it must be to be parsed at all.
public struct MessageInput {
    public static let batchSize = 500
    private static let chunkSize = 1 << 16

    /// Reads `handle` to its end, handing `body` batches of at most `batchSize` items in order.
    public static func read(_ handle: FileHandle, _ body: ([InputItem]) throws -> Void) throws {
        var buffer = Data()
        var atEnd = false
        func fill() throws {
            guard !atEnd else { return }
            if let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
                buffer.append(chunk)
            } else {
                atEnd = true
            }
        }

        // Find the first significant byte to tell the shapes apart. Every scan below starts where
        // the last one stopped, so finding it costs one pass whatever comes before it.
        while !atEnd, buffer.count < 3 { try fill() }
        // A UTF-8 byte order mark (what Excel and Notepad write) is not part of the first line.
        if buffer.starts(with: [0xEF, 0xBB, 0xBF]) { buffer.removeFirst(3) }
        var scanned = buffer.startIndex
        var found: Int?
        while found == nil {
            found = buffer[scanned...].firstIndex(where: { !isSpace($0) })
            scanned = buffer.endIndex
            if found == nil { if atEnd { return } else { try fill() } }
        }
        guard let first = found else { return }

        if buffer[first] == UInt8(ascii: "[") {
            while !atEnd { try fill() }
            try body(items(ofArray: buffer))
            return
        }
        if buffer[first] == UInt8(ascii: "{") {
            // The first line decides between NDJSON and one pretty-printed object; it is looked
            // for no further than a line may be long.
            var lineEnd: Int?
            scanned = first
            while lineEnd == nil, !atEnd, buffer.endIndex - first <= IntakeConfig.maxLine {
                try fill()
                lineEnd = buffer[scanned...].firstIndex(of: newline)
                scanned = buffer.endIndex
            }
            lineEnd = lineEnd ?? buffer[first...].firstIndex(of: newline)
            let firstLineEnd = lineEnd ?? (atEnd ? buffer.endIndex : nil)
            if let firstLineEnd, firstLineEnd - first <= IntakeConfig.maxLine,
               (try? JSONValue.parse(buffer[first..<firstLineEnd])) == nil
            {
                // Not NDJSON's first line: a pretty-printed single object (no longer than a line
                // may be), or a bad first line.
                while !atEnd, buffer.count <= IntakeConfig.maxLine { try fill() }
                if atEnd, let object = try? JSONValue.parse(buffer) {
                    try body([InputItem(position: .item(1), value: .success(object))])
                    return
                }
            }
        }

        // NDJSON, line by line.
        var lines = NDJSONLines()
        lines.append(buffer)
        buffer = Data()
        var batch: [InputItem] = []
        batch.reserveCapacity(batchSize)
        while true {
            while let item = lines.next(atEnd: atEnd) {
                batch.append(item)
                if batch.count == batchSize {
                    try body(batch)
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if atEnd { break }
            if let chunk = try handle.read(upToCount: chunkSize), !chunk.isEmpty {
                lines.append(chunk)
            } else {
                atEnd = true
            }
        }
        if !batch.isEmpty { try body(batch) }
    }

    private static let newline = UInt8(ascii: "\n")

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }

    /// One NDJSON line as an item; nil for a blank line.
    static func item(line: UnsafeRawBufferPointer, number: Int) -> InputItem? {
        guard line.contains(where: { !isSpace($0) }) else { return nil }  // Blank lines are allowed.
        let value = Result { () throws(IntakeRejection) in
            do {
                return try JSONParser.parse(line)
            } catch {
                throw IntakeRejection(field: "", "not valid JSON (\(error))")
            }
        }
        let source = value.isFailure ? String(decoding: line.prefix(4_096), as: UTF8.self) : nil
        return InputItem(position: .line(number), value: value, source: source)
    }

    private static func items(ofArray data: Data) throws -> [InputItem] {
        let value: JSONValue
        do {
            value = try JSONValue.parse(data)
        } catch {
            return [InputItem(position: .item(1), value: .failure(
                IntakeRejection(field: "", "the array is not valid JSON (\(describe(error))); nothing in it was read")))]
        }
        guard case .array(let elements) = value else { return [] }
        return elements.enumerated().map { InputItem(position: .item($0.offset + 1), value: .success($0.element)) }
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error {
            let underlying = (context.underlyingError as NSError?)?.userInfo[NSDebugDescriptionErrorKey] as? String
            return underlying ?? context.debugDescription
        }
        return "\(error)"
    }
}

extension Result {
    var isFailure: Bool {
        if case .failure = self { return true }
        return false
    }
}
