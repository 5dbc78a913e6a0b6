import Actors
import Foundation
import ProofsFFI
import Scheduler
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `sealer processor <stage>`: an external processor child, as damocles-worker's own
/// `processor <stage>` is: it pins itself to `VC_CG_CPUSET` and prefers the memory of
/// `VENUS_WORKER_NUMA_PREFERRED`, prints `<stage> processor ready`, then answers one JSON line
/// per task on stdin, in any order, until stdin closes. Tasks and outputs are damocles' own
/// (`DamoclesProcessorRunner`), so the daemon may run this or damocles-worker as a child. The
/// work runs on the mock prover,
/// configured by `SEALER_MOCK_DURATIONS` (`pc1=600ms,c2=400ms`), `SEALER_MOCK_SEED` and
/// `SEALER_MOCK_FAILURE_RATE`, which the daemon sets from `[proofs.mock]`.
enum ProcessorCommand {
    static let usage = "usage: sealer processor <stage>  (stages: \(ProofStage.allCases.map(\.rawValue).joined(separator: ", ")))"

    /// 0 when stdin closes, 1 when `SEALER_MOCK_*` is malformed, 2 for a command-line mistake.
    static func run(_ args: [String]) -> Int32 {
        if args == ["--help"] || args == ["-h"] {
            print(usage + "\n\nanswers damocles' processor protocol on stdin/stdout; complaints go to stderr")
            return CommandExit.success
        }
        guard let name = args.first else { return usageFailure("processor needs a stage", usage: usage) }
        guard let stage = ProofStage(rawValue: name) else {
            return usageFailure(name.hasPrefix("-") ? "unknown option '\(name)' for 'sealer processor'" : "unknown stage '\(name)'", usage: usage)
        }
        if args.count > 1 {
            let extra = args[1]
            return usageFailure(extra.hasPrefix("-") ? "unknown option '\(extra)' for 'sealer processor'"
                : "unexpected argument '\(extra)' for 'sealer processor'", usage: usage)
        }
        let env = ProcessInfo.processInfo.environment
        if let cpuset = env["VC_CG_CPUSET"], let cpus = CPUList.parse(cpuset), !cpus.isEmpty {
            // damocles' child joins its cgroup; where that is not allowed, thread affinity (set
            // before any other thread starts, so all of them inherit it) still pins the work.
            if let name = env["VC_CG_NAME"], case let .failure(error) = CgroupCpuset.join(name: name, cpus: cpuset, pid: getpid()) {
                complain("\(error); pinning with sched_setaffinity instead")
            }
            if case let .failure(error) = Pinning.setAffinity(cpus) { complain("cannot pin to VC_CG_CPUSET=\(cpuset): \(error)") }
        }
        if let node = env["VENUS_WORKER_NUMA_PREFERRED"].flatMap(Int.init) { Pinning.preferNode(node) }
        let prover: any Prover
        if env["SEALER_PROOFS_BACKEND"] == "ffi" {
            // The daemon's filecoin-ffi, seeing only the GPU this child was started for.
            do {
                let library = try FilCrypto.load(path: nil, environment: env)
                let dirs = (env["SEALER_LOCAL_PIECES_DIRS"] ?? "").split(separator: ":").map(String.init)
                prover = FFIProver(library: library, localPiecesDirs: dirs)
            } catch {
                complain("\(error)")
                return CommandExit.failure
            }
        } else {
            switch mockOptions(env) {
            case let .success(options): prover = MockProver(options: options)
            case let .failure(error):
                complain("\(error)")
                return CommandExit.failure
            }
        }
        let out = LineWriter()
        out.write("\(stage.rawValue) processor ready")
        let done = DispatchSemaphore(value: 0)
        let inFlight = DispatchGroup()
        Thread.start(named: "stdin-reader") {
            while let line = readLine(strippingNewline: true) {
                inFlight.enter()
                Task {
                    out.write(await answer(line, stage: stage, prover: prover))
                    inFlight.leave()
                }
            }
            // stdin closed: the parent is gone or shutting us down; finish what is in flight.
            inFlight.wait()
            done.signal()
        }
        done.wait()
        return 0
    }

    /// The response line for one request line.
    static func answer(_ line: String, stage: ProofStage, prover: any Prover) async -> String {
        guard let request = try? JSONValue.parse(line), let id = request["id"]?.intValue, let body = request["task"] else {
            complain("unparsable request: \(line.prefix(100))")
            return JSONValue.object(["id": .null, "err_msg": .string("unparsable request"), "output": .null]).serializedString
        }
        let reply: JSONValue
        do {
            let output = try await DamoclesProcessorRunner.run(stage: stage, task: body, on: prover)
            reply = .object(["id": .int(id), "err_msg": .null, "output": output])
        } catch {
            reply = .object(["id": .int(id), "err_msg": .string("\(error)"), "output": .null])
        }
        return reply.serializedString
    }

    static func mockOptions(_ env: [String: String]) -> Result<MockProver.Options, UsageError> {
        var options = MockProver.Options()
        for part in (env["SEALER_MOCK_DURATIONS"] ?? "").split(separator: ",") where !part.isEmpty {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, let stage = ProofStage(rawValue: pair[0]), let duration = HumanDuration.parse(pair[1]) else {
                return .failure(UsageError("SEALER_MOCK_DURATIONS: \"\(part)\" is not <stage>=<duration>"))
            }
            options.durations[stage] = duration
        }
        if let seed = env["SEALER_MOCK_SEED"] {
            guard let value = UInt64(seed) else { return .failure(UsageError("SEALER_MOCK_SEED: \"\(seed)\" is not a number")) }
            options.seed = value
        }
        if let rate = env["SEALER_MOCK_FAILURE_RATE"] {
            guard let value = Double(rate), (0...1).contains(value) else { return .failure(UsageError("SEALER_MOCK_FAILURE_RATE: \"\(rate)\" is not in 0...1")) }
            options.failureRate = value
        }
        return .success(options)
    }

    static func complain(_ message: String) {
        FileHandle.standardError.write(Data("sealer processor: \(message)\n".utf8))
    }
}

/// Writes whole lines to stdout with one write(2) each, one writer at a time.
final class LineWriter: Sendable {
    private let lock = Mutex(())

    func write(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let n = bytes[offset...].withUnsafeBytes { Glibc.write(1, $0.baseAddress, $0.count) }
                if n <= 0 {
                    if n < 0, errno == EINTR { continue }
                    return
                }
                offset += n
            }
        }
    }
}
