// Test double for a damocles external processor.
//
// Usage: fake-processor <stage> [--mode echo|damocles|slow-ready|wrong-ready|hang|crash-once|crash-then-bad-ready|ignore-eof] [--marker PATH]
//
// `damocles` mode stands in for damocles-worker's own `processor <stage>`: it checks every task
// against damocles' schema for the stage (`DamoclesShape.task(stage:)`, field by field) and
// answers `err_msg` naming the first missing, unexpected or mistyped field, else an output of
// damocles' shape for the stage (fixed, plausible values; no proofs are computed).
import Actors
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Writes `text` straight to `fd` (unbuffered, so every line is flushed immediately).
func writeAll(_ fd: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let n = bytes[offset...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            exit(1)
        }
        offset += n
    }
}

func emit(_ line: String) {
    writeAll(1, line + "\n")
}

func complain(_ text: String) {
    writeAll(2, text)
}

let arguments = CommandLine.arguments
guard arguments.count >= 2 else {
    complain("usage: fake-processor <stage> [--mode MODE] [--marker PATH]\n")
    exit(2)
}
let stage = arguments[1]
var mode = "echo"
var marker: String?
var position = 2
while position < arguments.count {
    switch arguments[position] {
    case "--mode" where position + 1 < arguments.count:
        mode = arguments[position + 1]
        position += 2
    case "--marker" where position + 1 < arguments.count:
        marker = arguments[position + 1]
        position += 2
    default:
        complain("fake-processor: unknown argument \(arguments[position])\n")
        exit(2)
    }
}

func envInfo() -> JSONValue {
    let env = ProcessInfo.processInfo.environment
    var info: [String: JSONValue] = [:]
    for key in ["VC_CG_NAME", "VC_CG_CPUSET", "VENUS_WORKER_NUMA_PREFERRED", "CUDA_VISIBLE_DEVICES"] {
        info[key] = env[key].map { .string($0) } ?? .null
    }
    return .object(info)
}

func answer(id: JSONValue, task: JSONValue) -> String {
    if let message = task["fail"]?.stringValue {
        return JSONValue.object(["id": id, "err_msg": .string(message), "output": .null]).serializedString
    }
    let output: JSONValue = ["echo": task, "env": envInfo(), "pid": .int(Int64(getpid()))]
    return JSONValue.object(["id": id, "err_msg": .null, "output": output]).serializedString
}

func echoLoop() -> Never {
    var held: [(JSONValue, JSONValue)] = []
    while let line = readLine() {
        guard let request = try? JSONValue.parse(line), let id = request["id"], let task = request["task"] else {
            complain("fake-processor: bad request line\n")
            continue
        }
        if task["crash"]?.boolValue == true {
            exit(3)
        }
        if task["garbage"]?.boolValue == true {
            emit("this is not json {{{")
            emit(#"{"id":987654321,"err_msg":null,"output":null}"#)
        }
        if task["hold"]?.boolValue == true {
            held.append((id, task))
            continue
        }
        emit(answer(id: id, task: task))
        if task["release"]?.boolValue == true {
            for (heldID, heldTask) in held.reversed() {
                emit(answer(id: heldID, task: heldTask))
            }
            held = []
        }
    }
    exit(0)
}

/// 32 copies of `byte`, as a JSON array.
func bytes32(_ byte: Int64) -> JSONValue { .array(Array(repeating: .int(byte), count: 32)) }

/// An output of damocles' shape for a task that passed the schema.
func damoclesOutput(_ task: JSONValue) -> JSONValue {
    switch stage {
    case "add_pieces":
        let pieces = task["pieces"]?.arrayValue ?? []
        if pieces.isEmpty {
            // A CC sector: one pledge piece filling it (2KiB: 2032 unpadded bytes).
            return [["commitment": bytes32(0x21), "size": 2032]]
        }
        return .array(pieces.map { ["commitment": bytes32(0x22), "size": $0["piece_size"] ?? 0] })
    case "tree_d", "transfer":
        return true
    case "pc1":
        // filecoin-proofs-api's SealPreCommitPhase1Output; labels and config much simplified.
        return ["registered_proof": task["registered_proof"] ?? .null,
                "labels": ["StackedDrg2KiBV1": ["labels": [], "_h": nil]],
                "config": ["path": task["cache_path"] ?? .null, "id": "tree-d", "size": 127, "rows_to_discard": 0],
                "comm_d": bytes32(0x31)]
    case "pc2":
        return ["registered_proof": task["pc1out"]?["registered_proof"] ?? .null, "comm_r": bytes32(0x32),
                "comm_d": task["pc1out"]?["comm_d"] ?? .null]
    case "c2":
        return ["proof": .array(Array(repeating: .int(0x42), count: 192))]
    case "snap_encode":
        return ["comm_r_new": bytes32(0x51), "comm_r_last_new": bytes32(0x52), "comm_d_new": bytes32(0x53)]
    case "snap_prove":
        return .array(Array(repeating: .int(0x54), count: 64))
    case "unseal":
        return task["num_bytes"] ?? .null
    case "supra_pc1":
        return true
    case "supra_pc2":
        return .array((0..<Int(task["num_sectors"]?.intValue ?? 0)).map { bytes32(0x70 + Int64($0 % 16)) })
    case "supra_c1":
        return ["registered_proof": task["registered_proof"] ?? .null, "vanilla_proofs": [:], "comm_r": bytes32(0x71),
                "comm_d": bytes32(0x72), "replica_id": task["pc1_replica_id"] ?? .null, "seed": task["seed"] ?? .null,
                "ticket": task["ticket"] ?? .null]
    case "window_post":
        // 3 bytes 0x61 in standard base64.
        return ["proofs": ["YWFh"], "faults": []]
    default:
        return .null
    }
}

func damoclesLoop() -> Never {
    while let line = readLine() {
        guard let request = try? JSONValue.parse(line), let id = request["id"], let task = request["task"] else {
            complain("fake-processor: bad request line\n")
            continue
        }
        let reply: JSONValue
        if let shape = DamoclesShape.task(stage: stage) {
            if let error = shape.mismatch(task, at: "task") {
                reply = ["id": id, "err_msg": .string("\(stage): \(error)"), "output": nil]
            } else {
                reply = ["id": id, "err_msg": nil, "output": damoclesOutput(task)]
            }
        } else {
            reply = ["id": id, "err_msg": .string("damocles has no \(stage) processor"), "output": nil]
        }
        emit(reply.serializedString)
    }
    exit(0)
}

let ready = "\(stage) processor ready"

switch mode {
case "echo":
    emit(ready)
    echoLoop()
case "damocles":
    emit(ready)
    damoclesLoop()
case "slow-ready":
    // Far longer than any test's startup window, so a loaded machine cannot make it ready early.
    sleep(600)
    emit(ready)
    echoLoop()
case "wrong-ready":
    emit("hello")
    echoLoop()
case "hang":
    emit(ready)
    while readLine() != nil {}
    exit(0)
case "ignore-eof":
    // A stuck child: neither EOF nor SIGTERM ends it, only SIGKILL.
    _ = signal(SIGTERM, SIG_IGN)
    emit(ready)
    while readLine() != nil {}
    while true { sleep(60) }
case "crash-once":
    guard let marker else {
        complain("fake-processor: crash-once needs --marker\n")
        exit(2)
    }
    if FileManager.default.fileExists(atPath: marker) {
        emit(ready)
        echoLoop()
    }
    _ = FileManager.default.createFile(atPath: marker, contents: Data("crashed".utf8))
    emit(ready)
    _ = readLine()
    exit(3)
case "crash-then-bad-ready":
    // First run: like crash-once. Later runs: a wrong ready line (the respawn fails).
    guard let marker else {
        complain("fake-processor: crash-then-bad-ready needs --marker\n")
        exit(2)
    }
    if FileManager.default.fileExists(atPath: marker) {
        emit("not ready at all")
        echoLoop()
    }
    _ = FileManager.default.createFile(atPath: marker, contents: Data("crashed".utf8))
    emit(ready)
    _ = readLine()
    exit(3)
default:
    complain("fake-processor: unknown mode \(mode)\n")
    exit(2)
}
