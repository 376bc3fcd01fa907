/// A goal or exit reason (`booked`, `converted`): a plain name the CRM, the sequence files and
/// operators all write the same way, so one spelled differently never silently fails to match.
public enum GoalName {
    /// What makes a name: 1 to 64 ASCII letters, digits, `_` and `-`.
    public static let rule = "a plain name such as booked or converted (letters, digits, _ and -, at most 64)"

    public static func isValid(_ text: String) -> Bool {
        (1...64).contains(text.utf8.count) && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }
    }
}
