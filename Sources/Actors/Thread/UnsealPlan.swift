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
            next.phases.unsealPiece = PieceInfo(size: allocated.Size, cid: allocated.PieceCid.value)
            next.phases.unsealOffset = allocated.Offset
            next.phases.accessInstance = allocated.PrivateInfo.AccessInstance
            return .advance(.allocatedUnsealSector, next)

        case .allocated:
            let ref = try sectorRef()
            let piece = try require(record.phases.unsealPiece, "piece to unseal")
            next.phases.unsealedBytes = try await run(.unseal) { (prover: any Prover) async throws(ProverError) in try await prover.unseal(ref, piece: piece) }
            return .advance(.unsealDone, next)

        case .unsealed:
            let id = try sectorRef().id
            let piece = WireCID(try require(record.phases.unsealPiece, "piece to unseal").cid)
            let dests = try await call({ () async throws(ManagerError) in try await manager.acquireUnsealDest(id, piece: piece) })
            let source = store.dataDirectory + "/unsealed/" + piece.value
            for dest in dests { try await upload(source, to: dest) }
            try await call({ () async throws(ManagerError) in try await manager.achieveUnsealSector(id, piece: piece, error: "") })
            return .advance(.uploadPieceDone, next)

        default:
            throw .failure(.critical("plan unseal has no handler for state \(record.state)"))
        }
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
