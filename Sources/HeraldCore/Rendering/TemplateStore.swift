import Foundation
import Logging
import Synchronization

/// The compiled templates under `Templates/`, shared by every worker.
///
/// Templates are compiled at start-up and again when their files change (`reload()`, called by
/// `TemplateWatcher` on a timer and on SIGHUP), never per message. A template whose edit does
/// not compile keeps serving its last good version, and the error is logged once.
public final class TemplateStore: Sendable {
    /// The templates folder.
    public let folder: URL
    /// How the folder is named in messages (`Templates`).
    public let displayRoot: String
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var templates: [String: CompiledTemplate] = [:]
        /// Files' modification times and sizes when each folder was last read.
        var fingerprints: [String: [String: FileStamp]] = [:]
        /// Templates whose current files do not compile.
        var problems: [String: [TemplateProblem]] = [:]
    }

    struct FileStamp: Equatable, Sendable {
        var modified: Date
        var size: Int
    }

    /// Reads and compiles every template now.
    public init(folder: URL, displayRoot: String, logger: Logger = Logger(label: "herald.templates")) {
        self.folder = folder
        self.displayRoot = displayRoot
        self.logger = logger
        reload()
    }

    /// The last good version of a template.
    public func template(named name: String) -> CompiledTemplate? {
        state.withLock { $0.templates[name] }
    }

    /// Every template that compiled, by name.
    public var templates: [CompiledTemplate] {
        state.withLock { $0.templates.values.sorted { $0.name < $1.name } }
    }

    /// What is wrong with a template's current files, if anything.
    public func problem(named name: String) -> String? {
        state.withLock { $0.problems[name] }?.first { $0.severity == .error }?.description
    }

    /// Every problem found in the current files, warnings included.
    public var problems: [TemplateProblem] {
        state.withLock { state in state.problems.keys.sorted().flatMap { state.problems[$0]! } }
    }

    /// Whether `name` is a template folder (compiled or not).
    public func exists(_ name: String) -> Bool {
        state.withLock { $0.fingerprints[name] != nil }
    }

    /// Compiles the templates whose files changed since the last look; returns how many changed.
    @discardableResult
    public func reload() -> Int {
        // A folder that cannot be listed (out of file descriptors, a permission change) says
        // nothing about which templates exist: keep every compiled one. Only a listing that
        // succeeds and lacks a template removes it.
        let names: Set<String>
        do {
            names = try Self.templateFolders(in: folder)
        } catch {
            logger.warning("cannot list the templates folder; every compiled template stays live",
                           metadata: ["folder": "\(displayRoot)", "error": "\(error)"])
            return 0
        }
        var changed = 0
        let known = state.withLock { Set($0.fingerprints.keys) }
        for gone in known.subtracting(names) {
            state.withLock {
                $0.templates[gone] = nil
                $0.fingerprints[gone] = nil
                $0.problems[gone] = nil
            }
            logger.notice("template removed", metadata: ["template": "\(gone)"])
            changed += 1
        }
        for name in names.sorted() {
            let directory = folder.appendingPathComponent(name)
            let stamp = Self.fingerprint(directory)
            if state.withLock({ $0.fingerprints[name] }) == stamp { continue }
            changed += 1
            let result = TemplateCompiler.compile(folder: directory, displayPath: "\(displayRoot)/\(name)")
            let hadVersion = state.withLock { state in
                state.fingerprints[name] = stamp
                state.problems[name] = result.problems.isEmpty ? nil : result.problems
                let had = state.templates[name] != nil
                if let template = result.template { state.templates[name] = template }
                return had
            }
            for problem in result.problems {
                if problem.severity == .warning {
                    logger.warning("template warning", metadata: ["template": "\(name)", "problem": "\(problem)"])
                } else {
                    logger.error(hadVersion ? "template does not compile; the last good version stays live" : "template does not compile",
                                 metadata: ["template": "\(name)", "problem": "\(problem)"])
                }
            }
            if result.template != nil {
                if hadVersion {
                    logger.info("template reloaded", metadata: ["template": "\(name)"])
                } else {
                    logger.debug("template loaded", metadata: ["template": "\(name)"])
                }
            }
        }
        return changed
    }

    /// Subfolders holding a manifest.
    static func templateFolders(in folder: URL) throws -> Set<String> {
        let entries = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        return Set(entries.filter { name in
            !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).appendingPathComponent(TemplateManifest.fileName).path)
        })
    }

    static func fingerprint(_ directory: URL) -> [String: FileStamp] {
        var result: [String: FileStamp] = [:]
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [] where !file.hasPrefix(".") {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(file).path)
            else { continue }
            result[file] = FileStamp(modified: attributes[.modificationDate] as? Date ?? .distantPast,
                                     size: (attributes[.size] as? NSNumber)?.intValue ?? -1)
        }
        return result
    }
}
