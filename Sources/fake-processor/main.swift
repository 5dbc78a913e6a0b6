// Test double for a damocles external processor.
//
// Usage: fake-processor <stage> [--mode echo|slow-ready|wrong-ready|hang|crash-once|crash-then-bad-ready|ignore-eof] [--marker PATH]
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

let ready = "\(stage) processor ready"

switch mode {
case "echo":
    emit(ready)
    echoLoop()
case "slow-ready":
    sleep(30)
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
