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
    /// A Crynux inference task's GPU lease (issue 10): not a proof stage, but admitted by the same
    /// pools, so metrics and `sealer top` name it apart from sealing.
    case inference = "crynux_inference"

    public var description: String { rawValue }
}
