import Foundation
import Synchronization

/// What is wrong with one sequence file: the file, the line, the key and why.
public struct SequenceProblem: Sendable, Equatable, CustomStringConvertible {
    /// As the operator names it (`Sequences/retirement-nurture.yaml`).
    public var file: String
    public var error: ConfigError

    public var description: String {
        "\(file)\(error.line.map { ":\($0)" } ?? ""): \(error)"
    }
}

/// The sequences in the `sequences` folder (one `NAME.yaml` each), checked against the
/// templates they send. A file with a problem is left out and reported; the others load.
public final class SequenceStore: Sendable {
    public let folder: URL
    /// How the folder is named in messages (the config's `sequences`).
    public let displayRoot: String
    private let templates: TemplateStore
    private let state = Mutex<(definitions: [String: SequenceDefinition], problems: [SequenceProblem])>(([:], []))

    public init(folder: URL, displayRoot: String, templates: TemplateStore) {
        self.folder = folder
        self.displayRoot = displayRoot
        self.templates = templates
        reload()
    }

    public func sequence(named name: String) -> SequenceDefinition? {
        state.withLock { $0.definitions[name] }
    }

    /// Every sequence that loaded, by name.
    public var sequences: [SequenceDefinition] {
        state.withLock { $0.definitions.values.sorted { $0.name < $1.name } }
    }

    public var problems: [SequenceProblem] {
        state.withLock { $0.problems }
    }

    /// A definition's text (a version kept from before an edit) checked against today's templates.
    public func parse(_ text: String, name: String) throws(ConfigError) -> SequenceDefinition {
        try SequenceDefinition.parse(text, name: name, templates: templates)
    }

    /// Reads every file again. A folder that does not exist holds no sequences.
    public func reload() {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var definitions: [String: SequenceDefinition] = [:]
        var problems: [SequenceProblem] = []
        for file in names {
            let display = "\(displayRoot)/\(file)"
            let name = String(file.prefix { $0 != "." })
            do throws(ConfigError) {
                guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !name.isEmpty else {
                    throw ConfigError(path: "", "a sequence's file name is its name: letters, digits, - and _ only")
                }
                guard let text = try? String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8) else {
                    throw ConfigError(path: "", "cannot be read as UTF-8 text")
                }
                guard definitions[name] == nil else { throw ConfigError(path: "", "another file already defines \"\(name)\"") }
                definitions[name] = try SequenceDefinition.parse(text, name: name, templates: templates)
            } catch {
                problems.append(SequenceProblem(file: display, error: error))
            }
        }
        state.withLock { $0 = (definitions, problems) }
    }
}
