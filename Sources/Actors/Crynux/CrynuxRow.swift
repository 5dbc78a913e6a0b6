import Scheduler

/// The persisted row of the task a Crynux thread tracks (spec 2.2). Files are fsynced before
/// `score` is written, so a row with a score always has its files.
public struct CrynuxRow: Codable, Sendable, Hashable {
    public var taskID: String
    public var status: Int
    public var taskType: Int
    /// Unix seconds: start + relay timeout.
    public var deadline: Double?
    /// Result file names (in index order) under the task's result directory.
    public var files: [String] = []
    /// `0x` hex score, written only after the files are durable.
    public var score: String?
    public var outcome: CrynuxExecutionOutcome?
    public var resultUploaded = false
    public var closed = false
}
