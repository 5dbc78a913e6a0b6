/// `[crynux]`: the box as a Crynux node (issue 10). One node identity per box; its
/// `[[sealing_thread]] plan = "crynux"` runs the node side of the task lifecycle.
public struct CrynuxSection: Sendable, Hashable {
    /// Where the relay is; `embedded` runs the relay mock inside the daemon.
    public enum Relay: Sendable, Hashable {
        case embedded
        case url(String)
    }
    public var relay: Relay = .embedded
    /// File holding the node's secp256k1 private key as hex (with or without 0x).
    public var nodeKeyFile: String?
    /// GPU indices (of the box) the node may lease; empty = every GPU.
    public var gpus: [Int] = []
    /// The GPU name the node reports (spec 3.3 appends `+platform`); nil = "GPU".
    public var gpuName: String?
    /// Platform suffix of the reported name (spec 3.3: docker, Linux, Windows, Darwin).
    public var platform = "Linux"
    /// pHash Hamming threshold for SD group validation (legacy default 24; spec 3.4).
    public var distanceThreshold = 24
    /// Where models live (`<kind>/<escaped id>`, spec 2.4); nil: the crynux thread's location + `/models`.
    public var modelDir: String?
    /// The inference executor; nil = the built-in mock (`sealer crynux executor --mock`).
    public var executor: String?
    public var executorArgs: [String] = []
    /// Share of GPU time Crynux may take beyond what sealing leaves; 0 = only what sealing leaves.
    public var gpuShare = 0.0
    /// Admission priority of the inference lease against sealing's GPU stages.
    public var priority: Priority = .belowSealing
    public enum Priority: String, Sendable, Hashable, CaseIterable { case belowSealing = "below_sealing", likeC2 = "like_c2" }
    /// `[crynux.mock]`: the embedded relay's knobs.
    public var mock = CrynuxMockSettings()
    public init() {}

    /// The name reported to the relay (spec 3.3): `<gpu name>+<platform>`.
    public var reportedGPUName: String { "\(gpuName ?? "GPU")+\(platform)" }
}

/// The embedded relay mock's knobs (the app side it plays, deadlines, failure injection).
public struct CrynuxMockSettings: Sendable, Hashable {
    /// `relay` (current) or `legacy` (older seed: ParametersUploaded, node-side abort).
    public var mode: CrynuxFlowMode = .relay
    /// The mock app creates a task this often (0 = never).
    public var taskInterval: Duration = .seconds(2)
    /// Stop creating after this many tasks (0 = no limit).
    public var taskCount = 0
    /// Task type of created tasks.
    public var taskType: CrynuxTaskType = .sd
    /// Images (SD) or responses (LLM) per task.
    public var outputs = 2
    /// VRAM the task needs (GiB; the node's lease asks this much).
    public var minVRAMGiB = 1
    /// Execution timeout the relay computes at dispatch.
    public var executionTimeout: Duration = .seconds(60)
    /// Queued deadline (relay example: 21600 s).
    public var queueTimeout: Duration = .seconds(21600)
    public var validationTimeout: Duration = .seconds(600)
    public var uploadTimeout: Duration = .seconds(600)
    /// Fraction of tasks validated as a VSS group (virtual peers run the other two members).
    public var groupRate = 0.0
    /// Fraction of node-facing requests answered 500 (failure knob).
    public var errorRate = 0.0
    public var seed: UInt64 = 1
    /// The models each created task names (spec 2.4): one `base:`, optionally `lora:`/`controlnet:`.
    /// The relay dispatches only to nodes reporting the base model on disk (spec 3.2).
    public var modelIDs = ["base:mock-model"]
    public init() {}
}
