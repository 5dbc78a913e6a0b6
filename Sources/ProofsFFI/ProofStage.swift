/// The heavy steps a sector goes through, named as damocles names its processors and limits.
public enum ProofStage: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case addPieces = "add_pieces"
    case treeD = "tree_d"
    case pc1
    case pc2
    case synthProof = "synth_proof"
    case c1
    case c2
    case snapEncode = "snap_encode"
    case snapProve = "snap_prove"
    case unseal
    case windowPost = "window_post"
    case transfer
    /// SupraSeal batch PC1: one run seals the layers of a whole batch of CC sectors on NVMe.
    case supraPC1 = "supra_pc1"
    /// SupraSeal batch PC2: tree C and tree R of a whole batch on one GPU.
    case supraPC2 = "supra_pc2"
    /// C1 of one sector of a batch, reading its layers from the batch's NVMe slot.
    case supraC1 = "supra_c1"
    /// A Crynux inference task's GPU lease (issue 10): not a proof stage, but admitted by the same
    /// pools, so metrics and `sealer top` name it apart from sealing.
    case inference = "crynux_inference"

    /// Stages that run once for a whole batch of sectors (one lease, one call).
    public var isBatch: Bool { self == .supraPC1 || self == .supraPC2 }

    public var description: String { rawValue }
}
