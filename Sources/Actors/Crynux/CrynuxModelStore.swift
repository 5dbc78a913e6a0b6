import Foundation
import Scheduler

/// The node's model directory (`[crynux] model_dir`): models as `<kind>/<escaped id>` entries
/// (`CrynuxModelID.relativePath`). The node reports what is here to the relay (spec 3.2's
/// base-model gate); the executor installs downloaded non-base models here.
public struct CrynuxModelStore: Sendable {
    public var dir: String

    public init(dir: String) { self.dir = dir }

    /// The ids on disk; an unreadable or missing directory holds none.
    public func onDisk() -> Set<CrynuxModelID> {
        var ids: Set<CrynuxModelID> = []
        for kind in CrynuxModelID.Kind.allCases {
            let entries = (try? FileManager.default.contentsOfDirectory(atPath: dir + "/" + kind.rawValue)) ?? []
            for entry in entries { if let id = CrynuxModelID.fromDisk(kind: kind, entry: entry) { ids.insert(id) } }
        }
        return ids
    }

    /// The reported list: sorted `kind:id` strings.
    public func reported() -> [String] { onDisk().map(\.description).sorted() }

    /// Writes `contents` as model `id` (write to a temporary name, then rename: a crash leaves no
    /// half model under the id's name).
    public func install(_ id: CrynuxModelID, contents: [UInt8]) throws(CrynuxModelStoreError) {
        let path = dir + "/" + id.relativePath
        let temporary = dir + "/" + id.kind.rawValue + "/.partial-" + UUID().uuidString
        do {
            try FileManager.default.createDirectory(atPath: dir + "/" + id.kind.rawValue, withIntermediateDirectories: true)
            try Data(contents).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else { throw CrynuxModelStoreError(model: id.description, path: path, reason: "rename failed (errno \(errno))") }
        } catch let error as CrynuxModelStoreError {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw CrynuxModelStoreError(model: id.description, path: path, reason: "\(error)")
        }
    }
}

/// A model that could not be installed, with where and why.
public struct CrynuxModelStoreError: Error, Sendable, Hashable, CustomStringConvertible {
    public var model: String
    public var path: String
    public var reason: String
    public var description: String { "cannot install model \(model) at \(path): \(reason)" }
}
