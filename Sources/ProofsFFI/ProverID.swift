/// filecoin-ffi's prover id: the miner's ID address payload (its actor id as an unsigned LEB128
/// varint), zero-padded to 32 bytes, as lotus' and damocles' callers derive it.
public struct ProverID: Sendable, Hashable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init(miner: UInt64) {
        var payload: [UInt8] = []
        var value = miner
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            payload.append(byte)
        } while value != 0
        bytes = payload + [UInt8](repeating: 0, count: 32 - payload.count)
    }

    public var description: String { bytes.hex }
}

extension SectorRef {
    /// The prover id filecoin-ffi takes for this sector's calls.
    public var proverID: ProverID { ProverID(miner: id.miner) }
}

/// Filecoin's `RegisteredUpdateProof` (snap deals), one per sector size: 0 (2KiB) ... 4 (64GiB).
public struct UpdateProof: Sendable, Hashable, CustomStringConvertible {
    public var sectorSize: SectorSize

    public init(sectorSize: SectorSize) { self.sectorSize = sectorSize }

    public var id: Int { sectorSize.ordinal }

    public var description: String { "StackedDrg\(sectorSize)V1 (\(id))" }
}

extension SealProof {
    /// The update proof for a snap upgrade of a sector sealed with this proof.
    public var updateProof: UpdateProof { UpdateProof(sectorSize: sectorSize) }

    /// The window PoSt proof for sectors sealed with this proof (V1_1, damocles' `…V1_2` name).
    public var windowPoStProof: PoStProof { PoStProof(sectorSize: sectorSize) }

    /// The window PoSt proof for this seal proof under network version `nv`: V1 up to nv18,
    /// V1_1 from nv19 (go-state-types' `RegisteredWindowPoStProofByNetworkVersion`, read at
    /// commit 8b01cf99). The seal proof itself is the manager's choice (`AllocateSector`).
    public func windowPoStProof(networkVersion nv: Int) -> PoStProof {
        PoStProof(sectorSize: sectorSize, variant: nv <= 18 ? .windowV1 : .windowV1_1)
    }
}
