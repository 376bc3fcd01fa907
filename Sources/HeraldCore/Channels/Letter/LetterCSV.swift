/// A batch's CSV (RFC 4180): a header row, one row per letter, CRLF line ends, fields quoted when
/// they hold a comma, a quote or a line break (the rendered letter always does). UTF-8.
///
/// A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`
/// (OWASP's rule against CSV injection): the vendor's spreadsheet shows it as text instead of
/// running it as a formula. The data come from the CRM and, through it, from leads.
enum LetterCSV {
    static let columns = ["key", "name", "line1", "line2", "city", "region", "postal_code", "country", "campaign",
                          "format", "letter"]

    static func encode(_ letters: [Letter]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(letters.reduce(256) { $0 + $1.body.utf8.count + 200 })
        append(row: columns, to: &output)
        for letter in letters {
            append(row: [letter.key ?? "msg_\(letter.messageID)", letter.name, letter.line1, letter.line2, letter.city,
                         letter.region, letter.postalCode, letter.country, letter.campaign, letter.format.rawValue,
                         letter.body], to: &output)
        }
        return output
    }

    private static func append(row: [String], to output: inout [UInt8]) {
        for (index, cell) in row.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            let field = neutralized(cell)
            let needsQuotes = field.utf8.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
            if needsQuotes {
                output.append(UInt8(ascii: "\""))
                for byte in field.utf8 {
                    if byte == UInt8(ascii: "\"") { output.append(byte) }
                    output.append(byte)
                }
                output.append(UInt8(ascii: "\""))
            } else {
                output += field.utf8
            }
        }
        output += [0x0D, 0x0A]
    }

    /// `cell` as a spreadsheet will show it as text.
    static func neutralized(_ cell: String) -> String {
        guard let first = cell.utf8.first,
              [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D].contains(first)
        else { return cell }
        return "'" + cell
    }
}
