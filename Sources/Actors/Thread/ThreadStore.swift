import Foundation
import Scheduler

/// A sealing location on disk: `meta/state` (the current sector record, replaced atomically after
/// every applied event), `meta/history` (append-only per-sector history), `data/` (work files).
///
/// A thread without a location (`plan = "wdpost"`) keeps its state in memory only, as damocles does.
public struct ThreadStore: Sendable {
    public let location: String
    /// False for a thread without a location: nothing is read or written.
    public var isPersistent: Bool { !location.isEmpty }
    public var metaDirectory: String { location + "/meta" }
    public var dataDirectory: String { location + "/data" }
    public var statePath: String { metaDirectory + "/state" }
    public var historyPath: String { metaDirectory + "/history" }

    /// Removes one entry of `data/` (tests inject a slow or blocking one).
    let removeEntry: @Sendable (String) -> Void

    public init(location: String, removeEntry: @escaping @Sendable (String) -> Void = { try? FileManager.default.removeItem(atPath: $0) }) {
        self.location = location
        self.removeEntry = removeEntry
    }

    /// Creates the location's directories if missing (damocles #899: no manual init needed).
    public func prepare() throws(SealingFailure) {
        guard isPersistent else { return }
        for dir in [location, metaDirectory, dataDirectory] {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            } catch {
                throw .critical("cannot create \(dir): \(error.localizedDescription)")
            }
        }
        _ = try? DurableFile(path: statePath).removeStaleTemporaries()
    }

    /// The persisted record, nil for a fresh location; a damaged file is an error, never replaced.
    public func load() throws(SealingFailure) -> SectorRecord? {
        guard isPersistent else { return nil }
        let bytes: [UInt8]?
        do {
            bytes = try DurableFile(path: statePath).read()
        } catch {
            throw .critical("\(error)")
        }
        guard let bytes else { return nil }
        do {
            let record = try JSONDecoder().decode(SectorRecord.self, from: Data(bytes))
            guard record.version == SectorRecord.currentVersion else {
                throw SealingFailure.critical("state file \(statePath) has version \(record.version), this sealer reads version \(SectorRecord.currentVersion); it was left in place")
            }
            return record
        } catch let failure as SealingFailure {
            throw failure
        } catch {
            throw .critical("state file \(statePath) passed its checksum but does not decode (\(error)); it was left in place for inspection")
        }
    }

    /// Makes `record` durable before returning, off the cooperative pool.
    public func save(_ record: SectorRecord) async throws(SealingFailure) {
        let store = self
        try await offload { () throws(SealingFailure) in try store.saveNow(record) }
    }

    /// Makes `record` durable before returning, blocking the calling thread.
    public func saveNow(_ record: SectorRecord) throws(SealingFailure) {
        guard isPersistent else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        do {
            let data = try encoder.encode(record)
            try DurableFile(path: statePath).write(Array(data))
        } catch {
            throw .critical("cannot persist \(statePath): \(error)")
        }
    }

    /// Removes a finished sector's work files (hundreds of GiB for a real sector) on a Dispatch
    /// thread, never on the cooperative pool, so actors (the broker, `worker list`) keep answering.
    public func clearData() async {
        guard isPersistent else { return }
        let directory = dataDirectory, remove = removeEntry
        await offload {
            guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
            for entry in entries { remove(directory + "/" + entry) }
        }
    }

    /// Reads the whole history, for `sealer history`.
    public static func readHistory(path: String) throws(SealingFailure) -> (entries: [HistoryEntry], note: String?) {
        let contents: JournalContents
        do {
            contents = try Journal.read(path: path)
        } catch {
            throw .critical("\(error)")
        }
        var entries: [HistoryEntry] = []
        for record in contents.records {
            if let entry = try? JSONDecoder().decode(HistoryEntry.self, from: Data(record)) { entries.append(entry) }
        }
        let note = contents.tornTail.map { "history ends with an incomplete record (\($0)); it is moved aside on the next daemon start" }
        return (entries, note)
    }
}
