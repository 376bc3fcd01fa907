import Foundation
import Logging

extension HeraldConfig {
    /// Compiles the configured templates folder.
    public func templateStore(logger: Logger = Logger(label: "herald.templates")) -> TemplateStore {
        TemplateStore(folder: resolve(templatesPath), displayRoot: templatesPath, logger: logger)
    }

    /// A renderer over `store` with this config's default time zone, unsubscribe and tracking links.
    public func renderer(_ store: TemplateStore) -> MessageRenderer {
        MessageRenderer(store: store, defaultTimeZone: TimeZone(identifier: timezone) ?? .gmt, unsubscribe: unsubscribe,
                        tracking: tracking?.links)
    }
}
