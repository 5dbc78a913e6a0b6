/// What a task's models need before inference (spec 2.4): the single base model must already be
/// on disk (the relay dispatches only to nodes reporting it); every other model is downloaded,
/// in order, within the deadline. Any failure is a TaskExecutionError: silence, never a report.
public enum CrynuxModelPlan: Sendable, Hashable {
    /// Ready after downloading these (possibly none), in the task's order.
    case download([CrynuxModelID])
    /// The base model is not on disk ("Task model not downloaded").
    case baseMissing(CrynuxModelID)
    /// The task names no base model, or an id does not parse: the node cannot run it.
    case unusable(String)

    /// The plan for `modelIDs` given the ids on disk.
    public static func plan(_ modelIDs: [String], onDisk: Set<CrynuxModelID>) -> CrynuxModelPlan {
        var parsed: [CrynuxModelID] = []
        for text in modelIDs {
            do { parsed.append(try CrynuxModelID(parsing: text)) } catch { return .unusable(error.description) }
        }
        let bases = parsed.filter { $0.kind == .base }
        guard bases.count == 1, let base = bases.first else { return .unusable("the task names \(bases.count) base models (one expected)") }
        guard onDisk.contains(base) else { return .baseMissing(base) }
        return .download(parsed.filter { $0.kind != .base && !onDisk.contains($0) })
    }
}
