import ProofsFFI
import Scheduler

/// Serves a `SectorManager` as damocles-manager's `Venus.*` JSON-RPC API; `sealer manager mock`
/// uses it so a worker (ours or damocles') can be driven over the real wire format.
public enum ManagerRPCServer {
    private typealias Handler = @Sendable (_ params: [JSONValue]) async throws -> JSONValue

    public static func methods(_ manager: any SectorManager) -> [String: JSONRPCServer.Method] {
        let handlers: [String: Handler] = [
            "AllocateSector": { p in try encode(await manager.allocateSector(arg(p, 0))) },
            "AcquireDeals": { p in try encode(await manager.acquireDeals(arg(p, 0), arg(p, 1))) },
            "AssignTicket": { p in try encode(await manager.assignTicket(arg(p, 0))) },
            "SubmitPreCommit": { p in try encode(await manager.submitPreCommit(arg(p, 0), arg(p, 1), reset: arg(p, 2))) },
            "PollPreCommitState": { p in try encode(await manager.pollPreCommitState(arg(p, 0))) },
            "StoreReserveSpace": { p in
                try encode(await manager.storeReserveSpace(arg(p, 0), size: arg(p, 1), candidates: arg(p, 2)))
            },
            "StoreBasicInfo": { p in try encode(await manager.storeBasicInfo(arg(p, 0))) },
            "SubmitPersistedEx": { p in
                try encode(await manager.submitPersistedEx(arg(p, 0), instance: arg(p, 1), isUpgrade: arg(p, 2)))
            },
            "WaitSeed": { p in try encode(await manager.waitSeed(arg(p, 0), proofType: arg(p, 1))) },
            "SubmitProof": { p in try encode(await manager.submitProof(arg(p, 0), arg(p, 1), reset: arg(p, 2))) },
            "PollProofState": { p in try encode(await manager.pollProofState(arg(p, 0))) },
            "ReportState": { p in try encode(await manager.reportState(arg(p, 0), arg(p, 1))) },
            "ReportFinalized": { p in
                try await manager.reportFinalized(arg(p, 0))
                return .null
            },
            "ReportAborted": { p in
                try await manager.reportAborted(arg(p, 0), reason: arg(p, 1))
                return .null
            },
            "WorkerPing": { p in
                try await manager.workerPing(arg(p, 0))
                return .null
            },
            "AllocateSanpUpSector": { p in try encode(await manager.allocateSnapUpSector(arg(p, 0))) },
            "SubmitSnapUpProof": { p in try encode(await manager.submitSnapUpProof(arg(p, 0), arg(p, 1))) },
            "AllocateRebuildSector": { p in try encode(await manager.allocateRebuildSector(arg(p, 0))) },
            "AllocateUnsealSector": { p in try encode(await manager.allocateUnsealSector(arg(p, 0))) },
            "AcquireUnsealDest": { p in try encode(await manager.acquireUnsealDest(arg(p, 0), piece: arg(p, 1))) },
            "AchieveUnsealSector": { p in
                try await manager.achieveUnsealSector(arg(p, 0), piece: arg(p, 1), error: arg(p, 2))
                return .null
            },
            "WdPoStAllocateJobs": { p in try encode(await manager.wdPoStAllocateJobs(arg(p, 0), count: arg(p, 1), worker: arg(p, 2))) },
            "WdPoStHeartbeatJobs": { p in
                try await manager.wdPoStHeartbeatJobs(arg(p, 0), worker: arg(p, 1))
                return .null
            },
            "WdPoStFinishJob": { p in
                let output: WindowPoStOutput? = p.count > 1 && p[1] != .null ? try arg(p, 1) : nil
                try await manager.wdPoStFinishJob(arg(p, 0), output: output, errorReason: arg(p, 2))
                return .null
            },
        ]
        var methods: [String: JSONRPCServer.Method] = [:]
        for (name, handler) in handlers { methods["Venus." + name] = wrap(name, handler) }
        return methods
    }

    /// Maps a handler's errors onto JSON-RPC errors: the manager's own codes pass through
    /// (11001 stays 11001), undecodable params become invalid-params.
    private static func wrap(_ name: String, _ handler: @escaping Handler) -> JSONRPCServer.Method {
        { params async throws(JSONRPCError) -> JSONValue in
            do {
                return try await handler(params)
            } catch let error as ManagerError {
                switch error {
                case let .rpc(_, code, message): throw JSONRPCError(code: code, message: message, data: nil)
                case let .malformed(_, reason): throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: "\(name): \(reason)", data: nil)
                case let .transport(_, reason): throw JSONRPCError(code: JSONRPCError.internalError.code, message: "\(name): \(reason)", data: nil)
                }
            } catch let error as JSONRPCError {
                throw error
            } catch {
                throw JSONRPCError(code: JSONRPCError.internalError.code, message: "\(name): \(error)", data: nil)
            }
        }
    }

    /// Decodes positional parameter `i`; a missing or mistyped one is an invalid-params error.
    static func arg<T: Decodable>(_ params: [JSONValue], _ i: Int) throws -> T {
        guard params.count > i else {
            throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: "missing params[\(i)] (\(T.self))", data: nil)
        }
        do { return try params[i].decode(T.self) } catch {
            throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: "params[\(i)] is not a valid \(T.self): \(error)", data: nil)
        }
    }

    static func encode(_ value: some Encodable) throws -> JSONValue {
        try JSONValue(encoding: value)
    }
}
