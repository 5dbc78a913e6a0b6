extension Plan {
    /// The next step shown in `worker list`'s JobStage column (damocles' per-state stage names);
    /// nil where damocles prints `-`.
    public func stage(of state: SectorState) -> String? {
        switch (kind, state) {
        case (_, .empty), (_, .finished), (_, .aborted): nil
        case (.sealer, .allocated): "AcquireDeals"
        case (.unseal, .allocated): "Unseal"
        case (.wdpost, .allocated): "WindowPoSt"
        case (_, .allocated): "AddPieces"
        case (_, .dealsAcquired): "AddPieces"
        case (_, .pieceAdded), (_, .snapPieceAdded): "BuildTreeD"
        case (.rebuild, .treeDBuilt): "PC1"
        case (.snapup, .treeDBuilt), (_, .snapTreeDBuilt): "SnapEncode"
        case (_, .treeDBuilt): "AssignTicket"
        case (_, .ticketAssigned): "PC1"
        case (_, .pc1Done): "PC2"
        case (_, .syntheticPoRepNeeded): "SyntheticPoRep"
        case (.rebuild, .pc2Done): "C1"
        case (_, .pc2Done): "SubmitPreCommit"
        case (_, .pcSubmitted): "WaitPCLanded"
        case (_, .pcLanded), (_, .snapProved), (_, .snapDone): "PersistFiles"
        case (.snapup, .persisted): "SubmitSnapupProof"
        case (_, .persisted): "SubmitPersisted"
        case (_, .persistanceSubmitted): "WaitSeed"
        case (_, .seedAssigned): "C1"
        case (_, .c1Done): "C2"
        case (_, .c2Done): "SubmitProof"
        case (_, .proofSubmitted): "WaitProofLanded"
        case (_, .sealedChecked): "PrepareForSnapup"
        case (_, .snapEncoded): "SnapProve"
        case (_, .unsealed): "UploadPiece"
        case (_, .generated): "ReportWindowPoSt"
        }
    }
}
