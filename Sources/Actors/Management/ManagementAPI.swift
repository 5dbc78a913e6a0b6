import Foundation
import Scheduler

/// The daemon's version as `VenusWorker.WorkerVersion` reports it.
public enum SealerVersion {
    public static let number = "0.1.0"
    public static var string: String {
        "v\(number)-\(ProcessInfo.processInfo.environment["SEALER_GIT_COMMIT"] ?? "unknown")"
    }
}

/// damocles' local management interface (`VenusWorker.*`, spec section 3) over a supervisor.
public enum ManagementAPI {
    /// The methods, over `supervisor`; `WorkerSetEnv`/`WorkerRemoveEnv` change `environment`,
    /// which processor children spawned afterwards get (this process's own stays untouched).
    /// `broker` and `sealing`, when given, answer `VenusWorker.WorkerActivity` (ours, read-only):
    /// the pools' occupancy and the last transitions, for `sealer top`.
    public static func methods(supervisor: Supervisor, environment: EnvironmentOverlay = EnvironmentOverlay(),
                               broker: ResourceBroker? = nil, sealing: SealingMetrics? = nil) -> [String: JSONRPCServer.Method] {
        [
            "VenusWorker.WorkerActivity": { _ async throws(JSONRPCError) -> JSONValue in
                var pools: PoolOccupancy?
                if let broker {
                    let (held, waiting) = await broker.usage
                    pools = PoolOccupancy(capacity: broker.capacity, held: held, waiting: waiting, blocked: await broker.waitingByPool)
                    pools?.waitingByStage = await broker.waitingByStage
                }
                return try encode(WorkerActivity(pools: pools, transitions: sealing?.recent.snapshot() ?? []))
            },
            "VenusWorker.WorkerList": { _ async throws(JSONRPCError) -> JSONValue in
                let now = ContinuousClock.now
                let infos = await supervisor.list().map { WorkerInfo($0, now: now) }
                return try encode(infos)
            },
            "VenusWorker.WorkerPause": { params async throws(JSONRPCError) -> JSONValue in
                let index = try intParam(params, 0, "index")
                do throws(ControlError) {
                    return .bool(try await supervisor.pause(index))
                } catch {
                    throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: error.description, data: nil)
                }
            },
            "VenusWorker.WorkerResume": { params async throws(JSONRPCError) -> JSONValue in
                let index = try intParam(params, 0, "index")
                var state: String?
                if params.count > 1 {
                    switch params[1] {
                    case .null: state = nil
                    case let .string(s): state = s.isEmpty ? nil : s
                    default: throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: "params[1] (state) must be a string or null", data: nil)
                    }
                }
                do throws(ControlError) {
                    try await supervisor.resume(index, state: state)
                    return .bool(true)
                } catch {
                    throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: error.description, data: nil)
                }
            },
            // Ours (damocles #301): params [index, exit?]; index -1 drains every thread.
            "VenusWorker.WorkerDrain": { params async throws(JSONRPCError) -> JSONValue in
                let index = try intParam(params, 0, "index")
                var exit = false
                if params.count > 1 {
                    switch params[1] {
                    case .null: break
                    case let .bool(value): exit = value
                    default: throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: "params[1] (exit) must be a boolean or null", data: nil)
                    }
                }
                do throws(ControlError) {
                    return .bool(try await supervisor.drain(index < 0 ? nil : index, exit: exit))
                } catch {
                    throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: error.description, data: nil)
                }
            },
            "VenusWorker.WorkerVersion": { _ async throws(JSONRPCError) -> JSONValue in
                .string(SealerVersion.string)
            },
            "VenusWorker.WorkerSetEnv": { params async throws(JSONRPCError) -> JSONValue in
                let name = try stringParam(params, 0, "name")
                let value = try stringParam(params, 1, "value")
                try checkEnvName(name)
                environment.set(name, value)
                return .null
            },
            "VenusWorker.WorkerRemoveEnv": { params async throws(JSONRPCError) -> JSONValue in
                let name = try stringParam(params, 0, "name")
                try checkEnvName(name)
                environment.remove(name)
                return .null
            },
        ]
    }

    static func encode(_ value: some Encodable) throws(JSONRPCError) -> JSONValue {
        do { return try JSONValue(encoding: value) } catch {
            throw JSONRPCError(code: JSONRPCError.internalError.code, message: "cannot encode result: \(error)", data: nil)
        }
    }

    static func intParam(_ params: [JSONValue], _ i: Int, _ name: String) throws(JSONRPCError) -> Int {
        guard params.count > i, let value = params[i].intValue else {
            throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: "params[\(i)] (\(name)) must be an integer", data: nil)
        }
        return Int(value)
    }

    static func stringParam(_ params: [JSONValue], _ i: Int, _ name: String) throws(JSONRPCError) -> String {
        guard params.count > i, let value = params[i].stringValue else {
            throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: "params[\(i)] (\(name)) must be a string", data: nil)
        }
        return value
    }

    static func checkEnvName(_ name: String) throws(JSONRPCError) {
        if let problem = EnvironmentOverlay.problem(with: name) {
            throw JSONRPCError(code: JSONRPCError.invalidParams.code, message: problem, data: nil)
        }
    }
}
