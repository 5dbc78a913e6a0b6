/// What happened to a sector task: the input of a plan's transition table.
///
/// These are damocles' event names; their payloads (ticket, PC1 output, ...) are stored in the
/// sector record by the thread, so the table itself is pure data over names.
public enum SealingEvent: String, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    case allocate = "Allocate"
    case acquireDeals = "AcquireDeals"
    case addPiece = "AddPiece"
    case buildTreeD = "BuildTreeD"
    case assignTicket = "AssignTicket"
    case pc1 = "PC1"
    case pc2 = "PC2"
    case pc2NeedSyntheticProof = "PC2NeedSyntheticProof"
    case syntheticPoRep = "SyntheticPoRep"
    case submitPC = "SubmitPC"
    case reSubmitPC = "ReSubmitPC"
    case checkPC = "CheckPC"
    case persist = "Persist"
    case submitPersistance = "SubmitPersistance"
    case assignSeed = "AssignSeed"
    case c1 = "C1"
    case c2 = "C2"
    case submitProof = "SubmitProof"
    case reSubmitProof = "ReSubmitProof"
    case finish = "Finish"
    case allocatedSnapUpSector = "AllocatedSnapUpSector"
    case snapEncode = "SnapEncode"
    case snapProve = "SnapProve"
    case rePersist = "RePersist"
    case allocatedRebuildSector = "AllocatedRebuildSector"
    case checkSealed = "CheckSealed"
    case skipSnap = "SkipSnap"
    case allocatedUnsealSector = "AllocatedUnsealSector"
    case unsealDone = "UnsealDone"
    case uploadPieceDone = "UploadPieceDone"
    case allocatedWdPostJob = "AllocatedWdPostJob"
    case generateWdPost = "GenerateWdPost"
    /// An error of the abort level: valid from every non-terminal state, ends in `Aborted`.
    case abort = "Abort"

    public var description: String { rawValue }
}
