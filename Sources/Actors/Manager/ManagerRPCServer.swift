import ProofsFFI
import Scheduler

/// Serves a `SectorManager` as damocles-manager's `Venus.*` JSON-RPC API; `sealer manager mock`
/// uses it so a worker (ours or damocles') can be driven over the real wire format.
public enum ManagerRPCServer {
    private typealias Handler = @Sendable (_ params: [JSONValue]) async throws -> JSONValue

    /// The `Venus.*` methods of damocles v0.13.0 that a worker calls (and, for a manager that
    /// keeps a `WorkerRegistry`, those `util worker` calls), each refusing a call with the wrong
    /// number of parameters exactly as go-jsonrpc does.
    public static func methods(_ manager: any SectorManager) -> [String: JSONRPCServer.Method] {
        // (Go method, its parameter count without the context, handler)
        let handlers: [(String, Int, Handler)] = [
            ("AllocateSector", 1, { p in try encode(await manager.allocateSector(arg(p, 0))) }),
            ("AcquireDeals", 2, { p in try encode(await manager.acquireDeals(arg(p, 0), arg(p, 1))) }),
            ("AssignTicket", 1, { p in try encode(await manager.assignTicket(arg(p, 0))) }),
            ("SubmitPreCommit", 3, { p in try encode(await manager.submitPreCommit(arg(p, 0), arg(p, 1), reset: arg(p, 2))) }),
            ("PollPreCommitState", 1, { p in try encode(await manager.pollPreCommitState(arg(p, 0))) }),
            ("StoreReserveSpace", 3, { p in
                try encode(await manager.storeReserveSpace(arg(p, 0), size: arg(p, 1), candidates: arg(p, 2)))
            }),
            ("StoreBasicInfo", 1, { p in try encode(await manager.storeBasicInfo(arg(p, 0))) }),
            ("SubmitPersistedEx", 3, { p in
                try encode(await manager.submitPersistedEx(arg(p, 0), instance: arg(p, 1), isUpgrade: arg(p, 2)))
            }),
            ("WaitSeed", 2, { p in try encode(await manager.waitSeed(arg(p, 0), proofType: arg(p, 1))) }),
            ("SubmitProof", 3, { p in try encode(await manager.submitProof(arg(p, 0), arg(p, 1), reset: arg(p, 2))) }),
            ("PollProofState", 1, { p in try encode(await manager.pollProofState(arg(p, 0))) }),
            ("ReportState", 2, { p in try encode(await manager.reportState(arg(p, 0), arg(p, 1))) }),
            ("ReportFinalized", 1, { p in
                try await manager.reportFinalized(arg(p, 0))
                return .null
            }),
            ("ReportAborted", 2, { p in
                try await manager.reportAborted(arg(p, 0), reason: arg(p, 1))
                return .null
            }),
            ("WorkerPing", 1, { p in
                try await manager.workerPing(arg(p, 0))
                return .null
            }),
            ("AllocateSanpUpSector", 1, { p in try encode(await manager.allocateSnapUpSector(arg(p, 0))) }),
            ("SubmitSnapUpProof", 2, { p in try encode(await manager.submitSnapUpProof(arg(p, 0), arg(p, 1))) }),
            ("AllocateRebuildSector", 1, { p in try encode(await manager.allocateRebuildSector(arg(p, 0))) }),
            ("AllocateUnsealSector", 1, { p in try encode(await manager.allocateUnsealSector(arg(p, 0))) }),
            ("AcquireUnsealDest", 2, { p in try encode(await manager.acquireUnsealDest(arg(p, 0), piece: arg(p, 1))) }),
            ("AchieveUnsealSector", 3, { p in
                try await manager.achieveUnsealSector(arg(p, 0), piece: arg(p, 1), error: arg(p, 2))
                return .null
            }),
            ("WdPoStAllocateJobs", 3, { p in try encode(await manager.wdPoStAllocateJobs(arg(p, 0), count: arg(p, 1), worker: arg(p, 2))) }),
            ("WdPoStHeartbeatJobs", 2, { p in
                try await manager.wdPoStHeartbeatJobs(arg(p, 0), worker: arg(p, 1))
                return .null
            }),
            ("WdPoStFinishJob", 3, { p in
                let output: WindowPoStOutput? = p[1] != .null ? try arg(p, 1) : nil
                try await manager.wdPoStFinishJob(arg(p, 0), output: output, errorReason: arg(p, 2))
                return .null
            }),
        ]
        var all = handlers
        if let registry = manager as? any WorkerRegistry { all += registryHandlers(registry) }
        var methods: [String: JSONRPCServer.Method] = [:]
        for (name, count, handler) in all {
            let method = "Venus." + name
            methods[method] = wrap(method, count, handler)
        }
        return methods
    }

    /// The registry methods damocles-manager's `util worker` CLI calls (v0.13.0's SealerCliAPI).
    private static func registryHandlers(_ registry: any WorkerRegistry) -> [(String, Int, Handler)] {
        [
            ("WorkerGetPingInfo", 1, { p in
                guard let record = try await registry.workerGetPingInfo(arg(p, 0)) else { return .null }
                return try encode(record)
            }),
            ("WorkerPingInfoList", 0, { _ in try encode(await registry.workerPingInfoList()) }),
            ("WorkerPingInfoRemove", 1, { p in
                try await registry.workerPingInfoRemove(arg(p, 0))
                return .null
            }),
        ]
    }

    /// go-jsonrpc's text for its own errors: the code, wrapped, then the reason.
    static func goJSONRPCError(_ code: Int, _ reason: String) -> JSONRPCError {
        JSONRPCError(code: code, message: "(error code \(code)) \(reason)", data: nil)
    }

    /// go-jsonrpc's refusal of a call whose parameter count differs from the Go method's.
    public static func wrongParamCount(method: String, got: Int, want: Int) -> JSONRPCError {
        goJSONRPCError(JSONRPCError.invalidParams.code, "wrong param count (method '\(method)'): \(got) != \(want)")
    }

    /// Checks the parameter count first (as go-jsonrpc does before decoding anything), then maps
    /// a handler's errors onto JSON-RPC errors: the manager's own codes pass through (11001 stays
    /// 11001), undecodable params become go-jsonrpc's parse error.
    private static func wrap(_ method: String, _ count: Int, _ handler: @escaping Handler) -> JSONRPCServer.Method {
        { params async throws(JSONRPCError) -> JSONValue in
            guard params.count == count else { throw wrongParamCount(method: method, got: params.count, want: count) }
            do {
                return try await handler(params)
            } catch let error as ManagerError {
                switch error {
                case let .rpc(_, code, message): throw JSONRPCError(code: code, message: message, data: nil)
                case let .malformed(_, reason): throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: "\(method): \(reason)", data: nil)
                case let .transport(_, reason): throw JSONRPCError(code: JSONRPCError.internalError.code, message: "\(method): \(reason)", data: nil)
                case let .unsupported(_, reason): throw JSONRPCError(code: JSONRPCError.methodNotFound.code, message: "\(method): \(reason)", data: nil)
                }
            } catch let error as JSONRPCError {
                throw error
            } catch {
                throw JSONRPCError(code: JSONRPCError.internalError.code, message: "\(method): \(error)", data: nil)
            }
        }
    }

    /// Decodes positional parameter `i` (the count was checked); a mistyped one is go-jsonrpc's
    /// parse error for that parameter.
    static func arg<T: Decodable>(_ params: [JSONValue], _ i: Int) throws -> T {
        do { return try params[i].decode(T.self) } catch {
            throw goJSONRPCError(JSONRPCError.parseError.code, "unmarshaling params (param: \(i), \(T.self)): \(error)")
        }
    }

    static func encode(_ value: some Encodable) throws -> JSONValue {
        try JSONValue(encoding: value)
    }
}
