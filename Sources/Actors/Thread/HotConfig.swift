import Foundation
import Scheduler
import Synchronization

/// A thread's hot config, `<location>/config.toml` (`plan` and `sealing.*`), re-read at sector
/// boundaries when its modification time changes, or on SIGHUP. Creation, change and deletion
/// are noticed; a file with errors is reported and the thread keeps its current settings.
public final class HotConfig: Sendable {
    public let path: String
    private let base: SealerConfig
    private let index: Int
    private let log: Log
    /// The modification time last applied; nil when no file was applied.
    private let applied = Mutex<Date?>(nil)

    public init(location: String, base: SealerConfig, index: Int, log: Log) {
        path = location + "/config.toml"
        self.base = base
        self.index = index
        self.log = log.with("thread", "\(index)")
    }

    /// New settings when the file changed since last applied (or `force`), else nil.
    public func reload(_ current: ThreadSettings, force: Bool) -> ThreadSettings? {
        let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        let previous = applied.withLock { $0 }
        if !force, modified == previous { return nil }
        var settings = current
        guard let modified, let data = FileManager.default.contents(atPath: path) else {
            // Deleted: back to the main config's settings for this thread.
            applied.withLock { $0 = nil }
            settings.plan = base.sealingThreads[index].plan
            settings.sealing = base.sealingOptions(forThread: index)
            return settings
        }
        let hot = ConfigDecoder.decodeHot(bytes: Array(data), file: path)
        for diagnostic in hot.diagnostics {
            if diagnostic.isError { log.error("\(diagnostic)") } else { log.warn("\(diagnostic)") }
        }
        applied.withLock { $0 = modified }
        guard !hot.diagnostics.contains(where: \.isError) else { return nil }
        settings.plan = hot.plan ?? base.sealingThreads[index].plan
        settings.sealing = base.sealingOptions(forThread: index).merged(with: hot.sealing)
        return settings
    }
}
