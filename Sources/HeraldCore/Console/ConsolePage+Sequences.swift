/// The console's sequence pages: every sequence with its enrollments, and one sequence step by
/// step (what its messages became, how many leads are still to reach each step, why leads left).
extension ConsolePage {
    static func sequences(_ definitions: [SequenceDefinition], problems: [String],
                          counts: [String: [EnrollmentProgress.State: Int]]) -> String {
        var rows = ""
        for definition in definitions {
            let states = counts[definition.name] ?? [:]
            rows += """
                <tr><td><a href="/console/sequences/\(h(definition.name))">\(h(definition.name))</a></td><td class="n">\(definition.steps.count)</td>
                <td><code>\(h(definition.version))</code></td><td class="n">\(states.values.reduce(0, +))</td>
                <td class="n">\(states[.active] ?? 0)</td><td class="n">\(states[.completed] ?? 0)</td><td class="n">\(states[.exited] ?? 0)</td></tr>

                """
        }
        // Enrollments of a sequence whose file is gone still follow their kept version.
        for (name, states) in counts.sorted(by: { $0.key < $1.key }) where !definitions.contains(where: { $0.name == name }) {
            rows += """
                <tr><td>\(h(name)) <span class="muted">(no file)</span></td><td></td><td></td><td class="n">\(states.values.reduce(0, +))</td>
                <td class="n">\(states[.active] ?? 0)</td><td class="n">\(states[.completed] ?? 0)</td><td class="n">\(states[.exited] ?? 0)</td></tr>

                """
        }
        let problemList = problems.isEmpty ? "" : "<h2>Files with problems</h2>\n<ul>\(problems.map { "<li>\(h($0))</li>" }.joined())</ul>"
        return layout("Sequences", """
            <h1>Sequences</h1>
            <table id="sequences"><tr><th>sequence</th><th>steps</th><th>version</th><th>enrolled</th><th>active</th><th>completed</th><th>exited</th></tr>
            \(rows.isEmpty ? "<tr><td colspan=\"7\" class=\"muted\">No sequences under Sequences/.</td></tr>" : rows)</table>
            \(problemList)
            """)
    }

    static func sequence(_ definition: SequenceDefinition, _ report: SequenceReport) -> String {
        var steps = ""
        var toCome = 0
        for (index, step) in definition.steps.enumerated() {
            // Active leads on this version that have not queued this step yet.
            toCome += report.activeAtStep[index] ?? 0
            let states = report.steps[step.name] ?? [:]
            let cells = [states[.queued, default: 0] + states[.leased, default: 0], states[.sent] ?? 0, states[.failed] ?? 0,
                         states[.suppressed] ?? 0, states[.canceled] ?? 0]
            steps += """
                <tr id="step-\(h(step.name))"><td class="n">\(index + 1)</td><td>\(h(step.name))</td><td>\(h(step.template))</td>
                <td>\(step.channel.rawValue)</td><td>\(h(step.timing))</td><td class="n">\(toCome)</td>
                \(cells.map { "<td class=\"n\">\($0)</td>" }.joined())</tr>

                """
        }
        let exits = report.exits.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
            .map { "<tr><td>\(h($0.key))</td><td class=\"n\">\($0.value)</td></tr>" }.joined(separator: "\n")
        let versions = report.activeByVersion.sorted { $0.key < $1.key }.map { version, count in
            "<tr><td><code>\(h(version))</code>\(version == definition.version ? " (current)" : "")</td><td class=\"n\">\(count)</td></tr>"
        }.joined(separator: "\n")
        let older = report.activeByVersion.contains { $0.key != definition.version && $0.value > 0 }
        return layout("Sequence \(definition.name)", """
            <h1>\(h(definition.name)) <span class="muted">version \(h(definition.version))</span></h1>
            \(definition.description.map { "<p>\(h($0))</p>" } ?? "")
            <p id="enrolled">Enrolled: <strong>\(report.enrolled)</strong> · active \(report.states[.active] ?? 0) · \
            completed \(report.states[.completed] ?? 0) · exited \(report.states[.exited] ?? 0)</p>
            <h2>Steps</h2>
            <p class="muted">"To come" counts active leads on the current version that have not reached the step yet; "pending" its messages queued or being sent.</p>
            <table id="steps"><tr><th>#</th><th>step</th><th>template</th><th>channel</th><th>when</th><th>to come</th><th>pending</th><th>sent</th><th>failed</th><th>suppressed</th><th>canceled</th></tr>
            \(steps)</table>
            <h2>Exits by reason</h2>
            <table id="exits"><tr><th>reason</th><th>leads</th></tr>
            \(exits.isEmpty ? "<tr><td colspan=\"2\" class=\"muted\">none yet</td></tr>" : exits)</table>
            <h2>Active leads by version</h2>
            <table id="versions"><tr><th>version</th><th>active</th></tr>
            \(versions.isEmpty ? "<tr><td colspan=\"2\" class=\"muted\">none active</td></tr>" : versions)</table>
            \(older ? "<p class=\"muted\">Leads on older versions keep them; <code>herald sequences migrate \(h(definition.name)) --dry-run</code> shows what moving them would do.</p>" : "")
            """)
    }
}
