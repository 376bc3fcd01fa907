import Foundation

/// Messages from a CSV file (RFC 4180) with a header row naming each column by its dotted path:
/// `key, channel, template, to.email, to.phone, to.name, to.address.city, …, data.first_name, …,
/// send_at, category, campaign`. Each row becomes the JSON object the other inputs give, so it
/// goes through the same validation. Cells are text; an empty cell is left out.
///
/// Streams: rows are handed on in batches, so a file of any length is read in constant memory.
/// A row's position is the line it starts on (a quoted cell may span lines).
public enum CSVMessageInput {
    public static func read(_ handle: FileHandle, _ body: ([InputItem]) throws -> Void) throws {
        var parser = CSVRowParser()
        var header: [[String]]?
        var batch: [InputItem] = []
        batch.reserveCapacity(MessageInput.batchSize)
        func take(_ row: CSVRowParser.Row) throws {
            guard let columns = header else {
                var names = row.fields
                // A UTF-8 byte order mark (what Excel writes) is not part of the first column's name.
                if let first = names.first, first.hasPrefix("\u{FEFF}") { names[0] = String(first.dropFirst()) }
                header = names.map { $0.trimmingCharacters(in: .whitespaces).split(separator: ".").map(String.init) }
                return
            }
            if row.fields.count == 1, row.fields[0].isEmpty { return }  // a blank line
            batch.append(InputItem(position: .line(row.line), value: item(row, columns: columns),
                                   source: String(CSVRowText.encode(row.fields).prefix(4_096))))
            if batch.count == MessageInput.batchSize {
                try body(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
            for row in parser.feed(chunk) { try take(row) }
        }
        if let row = parser.finish() { try take(row) }
        if !batch.isEmpty { try body(batch) }
    }

    private static func item(_ row: CSVRowParser.Row, columns: [[String]]) -> Result<JSONValue, IntakeRejection> {
        if let error = row.error { return .failure(IntakeRejection(field: "", error)) }
        guard row.fields.count == columns.count else {
            return .failure(IntakeRejection(field: "", "\(row.fields.count) cells, the header has \(columns.count)"))
        }
        var object: [String: JSONValue] = [:]
        for (path, cell) in zip(columns, row.fields) where !cell.isEmpty {
            guard !path.isEmpty else { continue }
            set(&object, path: path[...], value: .string(cell))
        }
        return .success(.object(object))
    }

    private static func set(_ object: inout [String: JSONValue], path: ArraySlice<String>, value: JSONValue) {
        let name = path.first!
        if path.count == 1 {
            object[name] = value
            return
        }
        var child: [String: JSONValue] = if case .object(let existing)? = object[name] { existing } else { [:] }
        set(&child, path: path.dropFirst(), value: value)
        object[name] = .object(child)
    }
}

/// A row written back as CSV, for error reports.
enum CSVRowText {
    static func encode(_ fields: [String]) -> String {
        fields.map { field in
            field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }.joined(separator: ",")
    }
}

/// An incremental RFC 4180 parser: bytes in, complete rows out, with the line each row starts on.
struct CSVRowParser {
    struct Row {
        var fields: [String]
        var line: Int
        /// Set when the row is malformed (a quote in an unquoted cell, text after a closing quote).
        var error: String?
    }

    private var fields: [String] = []
    private var cell: [UInt8] = []
    private var inQuotes = false
    private var afterQuote = false
    private var cellStarted = false
    private var error: String?
    private var line = 1
    private var rowLine = 1
    private var pendingCR = false

    mutating func feed(_ data: Data) -> [Row] {
        var rows: [Row] = []
        for byte in data {
            if pendingCR {
                pendingCR = false
                if byte == 0x0A { continue }  // CRLF: the row already ended at CR
            }
            if inQuotes {
                if byte == UInt8(ascii: "\"") {
                    inQuotes = false
                    afterQuote = true
                } else {
                    if byte == 0x0A { line += 1 }
                    cell.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                if afterQuote {  // "" inside a quoted cell
                    cell.append(byte)
                    inQuotes = true
                    afterQuote = false
                } else if !cellStarted {
                    inQuotes = true
                    cellStarted = true
                } else {
                    error = error ?? "a quote inside an unquoted cell (quote the whole cell and double the quote)"
                    cell.append(byte)
                }
            case UInt8(ascii: ","):
                endCell()
            case 0x0A, 0x0D:
                endCell()
                rows.append(Row(fields: fields, line: rowLine, error: error))
                fields = []
                error = nil
                line += 1
                rowLine = line
                pendingCR = byte == 0x0D
            default:
                if afterQuote { error = error ?? "text after a closing quote" }
                cell.append(byte)
                cellStarted = true
            }
        }
        return rows
    }

    /// The last row when the file does not end with a line break.
    mutating func finish() -> Row? {
        if inQuotes { error = error ?? "a quoted cell is not closed before the end of the file" }
        guard cellStarted || !fields.isEmpty || !cell.isEmpty else { return nil }
        endCell()
        defer { fields = [] }
        return Row(fields: fields, line: rowLine, error: error)
    }

    private mutating func endCell() {
        fields.append(String(decoding: cell, as: UTF8.self))
        cell.removeAll(keepingCapacity: true)
        cellStarted = false
        afterQuote = false
    }
}
