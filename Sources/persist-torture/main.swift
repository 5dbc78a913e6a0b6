// persist-torture <dir> <count>
//
// Child program for the kill -9 crash tests. For i = 1...count it
//   1. writes DurableFile <dir>/state with JSON {"seq": i, "pad": "<~4 KiB derived from i>"}
//      and prints "state <i>";
//   2. appends the journal record {"seq": i} to <dir>/history and prints "ok <i>".
// Each line is written straight to file descriptor 1 (unbuffered) only after the step it
// reports is durable, so a parent that SIGKILLs this process at any instant can check that
// everything it saw acknowledged is on disk.
//
// The pad is `torturePad(seq:)` below; CrashTortureTests carries an identical copy.
//
// persist-torture sector <data-dir> <store-root> <miner> <number>
//
// Second mode, for SectorPersisterTests: persists the 32GiB-layout sector s-t0<miner>-<number>
// from <data-dir> (sealed/, cache/) into <store-root> with 1 MiB chunks, printing
// "progress <copied>" after each chunk and "done <copied files> <already complete files>" at
// the end, so a parent can SIGKILL it in the middle of a copy.

import Actors
import ProofsFFI

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Deterministic ~4 KiB of lowercase hex derived from `seq` (SplitMix64 stream).
func torturePad(seq: Int) -> String {
    var state = UInt64(truncatingIfNeeded: seq) &* 0x9E37_79B9_7F4A_7C15
    let digits = Array("0123456789abcdef".utf8)
    var bytes: [UInt8] = []
    bytes.reserveCapacity(4096)
    for _ in 0..<256 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        for shift in stride(from: 60, through: 0, by: -4) {
            bytes.append(digits[Int((z >> UInt64(shift)) & 0xF)])
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Writes `line` plus a newline to stdout with write(2); exits if stdout is gone.
func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { buffer in
            write(1, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
        }
        if written < 0 {
            if errno == EINTR { continue }
            exit(3)
        }
        offset += written
    }
}

/// Prints `message` to stderr and exits with `code`.
func fail(_ message: String, code: Int32) -> Never {
    let bytes = Array(("persist-torture: " + message + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
    exit(code)
}

/// The `sector` mode: persist one sector, reporting every chunk, then exit.
func persistSector(_ arguments: [String]) -> Never {
    guard arguments.count == 6 || arguments.count == 7, let miner = UInt64(arguments[4]), let number = UInt64(arguments[5]) else {
        fail("usage: persist-torture sector <data-dir> <store-root> <miner> <number> [pause-µs-per-chunk]", code: 2)
    }
    // An optional pause after each chunk's line keeps the copy from outrunning a killer that a
    // loaded machine schedules late (the test aims its SIGKILL by these lines).
    let pause = arguments.count == 7 ? UInt32(arguments[6]) ?? 0 : 0
    let sector = SectorID(miner: miner, number: number)
    let paths = SectorPaths(dataDirectory: arguments[2], sector: sector)
    let persister = SectorPersister(storeRoot: arguments[3], chunkSize: 1 << 20)
    do {
        let routes = persister.routes(sector: sector, size: .gib32, replica: paths.sealed, cache: paths.cache)
        let report = try persister.persistBlocking(routes, progress: { progress in
            say("progress \(progress.copied)")
            if pause > 0 { usleep(pause) }
        })
        say("done \(report.copied.count) \(report.alreadyComplete.count)")
        exit(0)
    } catch {
        fail(error.description, code: 1)
    }
}

let arguments = CommandLine.arguments
if arguments.count > 1 && arguments[1] == "sector" { persistSector(arguments) }
guard arguments.count == 3, let count = Int(arguments[2]), count >= 0 else {
    fail("usage: persist-torture <dir> <count>", code: 2)
}
let directory = arguments[1]
let state = DurableFile(path: directory + "/state")
let journal: Journal
do {
    journal = try Journal(path: directory + "/history")
} catch {
    fail(error.description, code: 1)
}

var seq = 1
while seq <= count {
    do {
        let document = "{\"seq\": \(seq), \"pad\": \"\(torturePad(seq: seq))\"}"
        try state.write(Array(document.utf8))
        say("state \(seq)")
        try journal.append(Array("{\"seq\": \(seq)}".utf8))
        say("ok \(seq)")
    } catch {
        fail(error.description, code: 1)
    }
    seq += 1
}
journal.close()
