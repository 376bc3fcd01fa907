import Foundation
import Mustache

/// Reads one template folder and compiles it, collecting every problem rather than the first.
enum TemplateCompiler {
    struct Result: Sendable {
        var template: CompiledTemplate?
        var problems: [TemplateProblem]
    }

    static let sampleFileName = "sample.json"

    /// - Parameters:
    ///   - folder: the template's folder.
    ///   - displayPath: how the folder is named in problems (`Templates/welcome-guide`).
    static func compile(folder: URL, displayPath: String) -> Result {
        _ = TemplateEscaping.registered
        let name = folder.lastPathComponent
        var problems: [TemplateProblem] = []
        let manifestFile = "\(displayPath)/\(TemplateManifest.fileName)"
        let manifest: TemplateManifest
        do {
            let text = try String(contentsOf: folder.appendingPathComponent(TemplateManifest.fileName), encoding: .utf8)
            manifest = try TemplateManifest.parse(text)
        } catch let error as ConfigError {
            return Result(problems: [TemplateProblem(file: manifestFile, error.description)])
        } catch {
            return Result(problems: [TemplateProblem(file: manifestFile, "cannot read: \(error.localizedDescription)")])
        }

        let present = Set((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
        let allowed = TemplatePart.allowed(for: manifest.channel)
        for file in present.sorted() where !file.hasPrefix(".") {
            if file == TemplateManifest.fileName || file == sampleFileName || file.lowercased().hasPrefix("readme") { continue }
            if let part = TemplatePart.allCases.first(where: { $0.fileName == file }) {
                if !allowed.contains(part) {
                    problems.append(TemplateProblem(file: "\(displayPath)/\(file)",
                        "a \(manifest.channel.rawValue) template has no \(part.rawValue) part (allowed: \(allowed.map(\.fileName).joined(separator: ", ")))"))
                }
            } else {
                problems.append(TemplateProblem(file: "\(displayPath)/\(file)",
                    "not a part file (expected \(allowed.map(\.fileName).joined(separator: ", ")))", severity: .warning))
            }
        }

        var parts: [TemplatePart: CompiledPart] = [:]
        for part in allowed where present.contains(part.fileName) {
            let file = "\(displayPath)/\(part.fileName)"
            do {
                let text = try String(contentsOf: folder.appendingPathComponent(part.fileName), encoding: .utf8)
                switch compilePart(part, text: text, file: file, manifest: manifest) {
                case .success(let compiled): parts[part] = compiled
                case .failure(let failures): problems += failures.problems
                }
            } catch {
                problems.append(TemplateProblem(file: file, "cannot read: \(error.localizedDescription)"))
            }
        }
        problems += missingParts(channel: manifest.channel, present: present, displayPath: displayPath)

        var sample: RenderInput?
        if present.contains(sampleFileName) {
            do {
                sample = try RenderInput.parse(Data(contentsOf: folder.appendingPathComponent(sampleFileName)))
            } catch {
                problems.append(TemplateProblem(file: "\(displayPath)/\(sampleFileName)", "\(error)"))
            }
        }
        guard !problems.contains(where: { $0.severity == .error }) else { return Result(problems: problems) }
        let template = CompiledTemplate(name: name, manifest: manifest, parts: parts, sample: sample, displayPath: displayPath)
        return Result(template: template, problems: problems)
    }

    struct Failures: Error { var problems: [TemplateProblem] }

    static func compilePart(_ part: TemplatePart, text: String, file: String, manifest: TemplateManifest)
        -> Swift.Result<CompiledPart, Failures>
    {
        var problems: [TemplateProblem] = []
        var text = text
        if part == .subject {
            // The file's final newline is not part of the subject; any other is an error.
            while text.last?.isNewline == true { text.removeLast() }
            if let newline = text.firstIndex(where: \.isNewline) {
                problems.append(TemplateProblem(file: file, line: text[..<newline].count(where: \.isNewline) + 2,
                                                "the subject must be one line"))
            }
        }
        let tags = TemplateTag.scan(text)
        if let line = delimiterChangeLine(text) {
            problems.append(TemplateProblem(file: file, line: line, "custom delimiters ({{=…=}}) are not supported"))
        }
        for tag in tags {
            for filter in tag.filters where TemplateFilter(rawValue: filter) == nil && !Self.sectionFilters.contains(filter) {
                problems.append(TemplateProblem(file: file, line: tag.line,
                    "unknown filter \"\(filter)\" in \(tag.display) (known: \(TemplateFilter.names))"))
            }
        }
        if text.contains("{{>") {
            problems.append(TemplateProblem(file: file, line: lineOf("{{>", in: text), "partials ({{>…}}) are not supported"))
        }
        let template: MustacheTemplate
        do {
            template = try MustacheTemplate(string: part.escaping.pragma + text)
        } catch let error as MustacheTemplate.ParserError {
            problems.append(TemplateProblem(file: file, line: error.context.lineNumber,
                "template syntax: \(describe(error.error)) near \"\(error.context.line.trimmingCharacters(in: .whitespaces).prefix(60))\""))
            return .failure(Failures(problems: problems))
        } catch {
            problems.append(TemplateProblem(file: file, "template syntax: \(error)"))
            return .failure(Failures(problems: problems))
        }
        guard problems.isEmpty else { return .failure(Failures(problems: problems)) }
        let guarded = Set(tags.filter { $0.kind == .invertedSection }.map(\.path))
        // Each distinct token once (its first line is the one an error names): every render checks these.
        var seen = Set<String>()
        let required = tags.filter {
            $0.kind == .variable && $0.depth == 0 && $0.path != "." && manifest.fallbacks[$0.path] == nil
                && !guarded.contains($0.path) && seen.insert($0.display).inserted
        }
        return .success(CompiledPart(part: part, file: file, template: template, tags: tags, required: required))
    }

    /// Array filters swift-mustache applies itself in sections: `{{#first(data.items)}}`.
    static let sectionFilters: Set<String> = ["first", "last", "count", "reversed", "sorted"]

    private static func missingParts(channel: Channel, present: Set<String>, displayPath: String) -> [TemplateProblem] {
        func has(_ part: TemplatePart) -> Bool { present.contains(part.fileName) }
        let needed: String? = switch channel {
        case .email where !has(.subject): "subject.txt"
        case .email where !has(.text) && !has(.html): "text.txt (and html.html if you like)"
        case .sms where !has(.text), .letter where !has(.text) && !has(.html): "text.txt"
        case .webhook where !has(.body): "body.json"
        default: nil
        }
        return needed.map { [TemplateProblem(file: displayPath, "a \(channel.rawValue) template needs \($0)")] } ?? []
    }

    private static func delimiterChangeLine(_ text: String) -> Int? {
        text.range(of: "{{=") != nil ? lineOf("{{=", in: text) : nil
    }

    private static func lineOf(_ needle: String, in text: String) -> Int? {
        guard let range = text.range(of: needle) else { return nil }
        return text[..<range.lowerBound].count(where: \.isNewline) + 1
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? MustacheTemplate.Error else { return "\(error)" }
        return switch error {
        case .sectionCloseNameIncorrect: "a section is closed with another name than it was opened"
        case .unfinishedName: "a tag is not closed"
        case .expectedSectionEnd: "a section is not closed"
        case .invalidSetDelimiter: "bad delimiter change"
        default: "\(error)"
        }
    }
}
