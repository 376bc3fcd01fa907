import Foundation

/// One step of a sequence: which template goes out, on which channel, and when.
public struct SequenceStep: Sendable, Equatable {
    /// When a step comes due, counted from the enrollment or from the step before.
    public enum Delay: Sendable, Equatable {
        /// `after: 2d`: this long after the lead was enrolled.
        case afterEnrollment(Duration)
        /// `after_previous: 2-3d`: somewhere in this range after the step before it (the first
        /// step: after the enrollment), the same place for the same enrollment key every time.
        case afterPrevious(ClosedRange<Duration>)
    }

    /// `name:` or `step-N`; what enrollments and the console call the step.
    public var name: String
    public var template: String
    public var channel: Channel
    public var category: MessageCategory
    public var delay: Delay
    /// Whole days are business days and the rest business time, in the lead's zone.
    public var businessDays: Bool
    /// Local hours the step may go out in (`at: 09:00-11:00`); a step due outside them waits for
    /// the next opening.
    public var window: DailyWindow?

    static let keys: Set<String> = ["name", "template", "channel", "category", "after", "after_previous", "business_days", "at"]

    /// Parses one item of `steps:`; `index` counts from 0; `businessDays` is the sequence's
    /// default; `templates` says which templates exist and the channel and category each serves.
    init(_ node: ConfigNode, index: Int, businessDays: Bool, templates: TemplateStore) throws(ConfigError) {
        let fields = try node.fields(allowed: Self.keys)
        name = try fields["name"].map { node throws(ConfigError) in
            let name = try node.nonEmptyString()
            // The name ends its messages' keys (`<enrollment key>/<name>`, `…/<name>@<round>`):
            // without `/` and `@` each key names one step of one enrollment's round.
            guard name.utf8.count <= 50, name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || "._-".unicodeScalars.contains($0)) })
            else { throw node.error("a step's name is 1 to 50 letters, digits, '.', '_' or '-' (got \"\(name.prefix(60))\")") }
            return name
        } ?? "step-\(index + 1)"
        guard let templateNode = fields["template"] else { throw node.error("template is required") }
        template = try templateNode.nonEmptyString()
        if let problem = templates.problem(named: template) {
            throw templateNode.error("template \"\(template)\" does not compile (\(problem.prefix(200))); see herald templates check")
        }
        guard let manifest = templates.template(named: template)?.manifest else {
            let known = templates.templates.map(\.name).sorted()
            throw templateNode.error("no template \"\(template)\" in \(templates.displayRoot)/ (there are: \(known.prefix(20).joined(separator: ", ")))")
        }
        if let channelNode = fields["channel"] {
            channel = try channelNode.channel()
            guard channel == manifest.channel else {
                throw channelNode.error("template \"\(template)\" serves \(manifest.channel.rawValue), not \(channel.rawValue)")
            }
        } else {
            channel = manifest.channel
        }
        category = try fields["category"]?.category() ?? manifest.category ?? .marketing
        switch (fields["after"], fields["after_previous"]) {
        case (let after?, nil):
            delay = .afterEnrollment(try after.duration())
        case (nil, let previous?):
            delay = .afterPrevious(try Self.range(previous))
        case (nil, nil):
            throw node.error("a step needs after (from the enrollment, e.g. 2d) or after_previous (e.g. 2-3d)")
        case (_?, _?):
            throw node.error("a step has after or after_previous, not both")
        }
        self.businessDays = try fields["business_days"]?.bool() ?? businessDays
        window = try fields["at"].map { node throws(ConfigError) in try DailyWindow(node) }
    }

    /// `2-3d`, `36h-3d` or a single `2d` (no spread).
    static func range(_ node: ConfigNode) throws(ConfigError) -> ClosedRange<Duration> {
        let text = try node.string().trimmingCharacters(in: .whitespaces)
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard (1...2).contains(parts.count) else {
            throw node.error("expected a duration or a range such as 2-3d, got \"\(text.prefix(40))\"")
        }
        // `2-3d`: the lower bound borrows the upper one's unit.
        let unit = String(parts[parts.count - 1].drop { $0.isNumber || $0 == "." })
        let lowText = parts[0].last?.isNumber == true ? parts[0] + unit : parts[0]
        guard let low = DurationParsing.parse(lowText), let high = DurationParsing.parse(parts[parts.count - 1]) else {
            throw node.error("expected a duration or a range such as 2-3d (\(DurationParsing.expected)), got \"\(text.prefix(40))\"")
        }
        guard low <= high else {
            throw node.error("the range \"\(text)\" runs backwards: the shorter delay comes first (e.g. 2-3d)")
        }
        return low...high
    }
}

extension SequenceStep {
    /// The key of this step's message for the enrollment `key` in its `round`: `<key>/<name>`
    /// the first time, `<key>/<name>@<round>` when the key enrolled again, so a new round's
    /// steps are new messages and the CRM can still tell them by key.
    public func messageKey(enrollment key: String, round: Int) -> String {
        round <= 1 ? "\(key)/\(name)" : "\(key)/\(name)@\(round)"
    }

    /// When the step comes due, in the sequence file's own words: `2d after enrollment`,
    /// `2d-3d after the step before, business days, at 09:00-11:00`.
    public var timing: String {
        var text = switch delay {
        case .afterEnrollment(let span): "\(span.configText) after enrollment"
        case .afterPrevious(let range): "\(range.lowerBound.configText)-\(range.upperBound.configText) after the step before"
        }
        if businessDays { text += ", business days" }
        if let window {
            func clock(_ minutes: Int) -> String {
                let hours = String(minutes / 60), rest = String(minutes % 60)
                return String(repeating: "0", count: 2 - hours.count) + hours + ":" + String(repeating: "0", count: 2 - rest.count) + rest
            }
            text += ", at \(clock(window.start))-\(clock(window.end))"
        }
        return text
    }
}
