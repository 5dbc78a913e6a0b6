import Foundation
import ProofsFFI
import Scheduler

/// The `unseal` plan's handlers: unseal a piece from a sealed sector and upload it where the
/// manager says (spec 2.3).
extension PlanContext {
    func unsealStep() async throws(StepError) -> StepOutcome {
        var next = record
        switch record.state {
        case .empty:
            let spec = settings.sectorSpec
            guard let allocated = try await call({ () async throws(ManagerError) in try await manager.allocateUnsealSector(spec) }) else {
                return .idle
            }
            next.sector = allocated.Sector.ID
            next.proof = allocated.Sector.ProofType
            next.phases.ticket = Ticket(ticket: allocated.Ticket.Ticket, epoch: allocated.Ticket.Epoch)
            next.phases.commD = Blob(allocated.CommD)
            do {
                // The manager sends the piece's unpadded size.
                next.phases.unsealPiece = PieceInfo(commP: try PieceCID.commitment(allocated.PieceCid.value), size: allocated.Size)
            } catch {
                return .abort(next, reason: "unseal task for \(allocated.Sector.ID): \(error)")
            }
            next.phases.unsealOffset = allocated.Offset
            next.phases.accessInstance = allocated.PrivateInfo.AccessInstance
            return .advance(.allocatedUnsealSector, next)

        case .allocated:
            // The sealed sector is read where it was persisted; the piece lands in data/unsealed.
            var ref = try sectorRef()
            let access = try require(record.phases.accessInstance, "access instance of the sealed sector")
            let replica = settings.replica(of: ref.id, sealedIn: access, cacheIn: access)
            ref.paths = SectorPaths(staged: ref.paths.staged, cache: replica.cache, sealed: replica.sealed)
            let piece = try require(record.phases.unsealPiece, "piece to unseal")
            let ticket = try require(record.phases.ticket, "ticket").ticket.bytes
            let commD = try require(record.phases.commD, "CommD").bytes
            let offset = record.phases.unsealOffset ?? 0
            let output = unsealedPath(piece)
            let directory = (output as NSString).deletingLastPathComponent
            _ = await offload { try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
            next.phases.unsealedBytes = try await run(.unseal) { (prover: any Prover) async throws(ProverError) in
                try await prover.unseal(ref, ticket: ticket, commD: commD, offset: offset, length: piece.size, output: output)
            }
            return .advance(.unsealDone, next)

        case .unsealed:
            let id = try sectorRef().id
            let unsealed = try require(record.phases.unsealPiece, "piece to unseal")
            let piece = WireCID(PieceCID.string(unsealed.commP))
            let dests = try await call({ () async throws(ManagerError) in try await manager.acquireUnsealDest(id, piece: piece) })
            let source = unsealedPath(unsealed)
            for dest in dests { try await upload(source, to: dest) }
            try await call({ () async throws(ManagerError) in try await manager.achieveUnsealSector(id, piece: piece, error: "") })
            return .advance(.uploadPieceDone, next)

        default:
            throw .failure(.critical("plan unseal has no handler for state \(record.state)"))
        }
    }

    /// Where an unsealed piece is written: `data/unsealed/<piece CID>`.
    private func unsealedPath(_ piece: PieceInfo) -> String {
        store.dataDirectory + "/unsealed/" + PieceCID.string(piece.commP)
    }

    /// Puts the unsealed piece at `dest`: `file:///path` copies, `http://` PUTs the bytes. File
    /// work runs off the cooperative pool (a piece can be many GiB).
    private func upload(_ source: String, to dest: String) async throws(StepError) {
        guard FileManager.default.fileExists(atPath: source) else {
            throw .failure(.permanent("unsealed piece \(source) is missing; cannot upload it to \(dest)"))
        }
        if dest.hasPrefix("file://") {
            let path = String(dest.dropFirst("file://".count))
            let copied: String? = await offload { () -> String? in
                do {
                    try? FileManager.default.removeItem(atPath: path)
                    try FileManager.default.copyItem(atPath: source, toPath: path)
                    return nil
                } catch {
                    return error.localizedDescription
                }
            }
            if let copied { throw .failure(.permanent("cannot write the unsealed piece to \(path): \(copied)")) }
            return
        }
        guard dest.hasPrefix("http://"), let endpoint = HTTPEndpoint(url: dest) else {
            throw .failure(.permanent("unseal destination \(dest): only file:// and http:// are supported by this build"))
        }
        guard let data = await offload({ () -> Data? in FileManager.default.contents(atPath: source) }) else {
            throw .failure(.permanent("unsealed piece \(source) cannot be read; cannot upload it to \(dest)"))
        }
        let request = HTTPRequest(method: "PUT", target: endpoint.path, body: Array(data))
        let response: HTTPResponse
        do {
            response = try await HTTPClient.send(request, host: endpoint.host, port: endpoint.port, timeout: .seconds(600))
        } catch {
            throw .failure(.temporary("upload to \(dest): \(error)"))
        }
        guard (200..<300).contains(response.status) else {
            throw .failure(.permanent("upload to \(dest): HTTP \(response.status)"))
        }
    }
}
