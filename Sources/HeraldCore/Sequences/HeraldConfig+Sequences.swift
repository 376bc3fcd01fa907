extension HeraldConfig {
    /// The configured sequences folder, checked against `templates`.
    public func sequenceStore(templates: TemplateStore) -> SequenceStore {
        SequenceStore(folder: resolve(sequencesPath), displayRoot: sequencesPath, templates: templates)
    }
}
