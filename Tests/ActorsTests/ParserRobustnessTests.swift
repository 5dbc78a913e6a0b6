import Foundation
import Testing
import ProofsFFI
@testable import Actors

/// Untrusted bytes from the network must give errors, never crashes.
@Suite("HTTP and JSON parser robustness")
struct ParserRobustnessTests {
    struct Mutator {
        var rng: SplitMix64
        init(state: UInt64) { rng = SplitMix64(seed: state) }
        mutating func next() -> UInt64 { rng.next() }
        mutating func mutate(_ input: [UInt8]) -> [UInt8] {
            var bytes = input
            let interesting: [UInt8] = Array("{}[]\":,0-9eE.\\u\r\n: \tchunked".utf8) + [0x00, 0xFF, 0xC3]
            for _ in 0..<(1 + Int(next() % 4)) {
                let at = bytes.isEmpty ? 0 : Int(next() % UInt64(bytes.count))
                switch next() % 4 {
                case 0 where !bytes.isEmpty: bytes[at] = interesting[Int(next() % UInt64(interesting.count))]
                case 1: bytes.insert(interesting[Int(next() % UInt64(interesting.count))], at: at)
                case 2 where !bytes.isEmpty: bytes.remove(at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            return bytes
        }
    }

    static let bodies = [
        #"{"jsonrpc":"2.0","id":1,"method":"VenusWorker.WorkerResume","params":[3,"TreeDBuilt"]}"#,
        #"[{"jsonrpc":"2.0","id":"a","method":"VenusWorker.WorkerList","params":[]},{"jsonrpc":"2.0","method":"x"}]"#,
        #"{"a":[1.5e10,-0,true,false,null,"\u00e9\n"],"b":{"c":{"d":[[[]]]}}}"#,
    ]

    @Test("mutated JSON-RPC bodies parse or fail cleanly")
    func json() {
        var m = Mutator(state: 7)
        var outcomes = (ok: 0, failed: 0)
        for body in Self.bodies {
            for _ in 0..<2000 {
                if (try? JSONValue.parse(m.mutate(Array(body.utf8)))) != nil { outcomes.ok += 1 } else { outcomes.failed += 1 }
            }
        }
        #expect(outcomes.ok > 0 && outcomes.failed > 0)
    }

    @Test("mutated HTTP requests, fed in random slices, parse or fail cleanly")
    func http() {
        let requests = [
            "POST /rpc/v0 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n{\"jsonrpc\":\"2.0\"}",
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            "GET / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
        ]
        var m = Mutator(state: 11)
        var outcomes = (requests: 0, errors: 0)
        for request in requests {
            for _ in 0..<2000 {
                var parser = HTTPRequestParser(maxHeaderBytes: 512, maxBodyBytes: 64)
                var bytes = m.mutate(Array(request.utf8))
                feeding: while !bytes.isEmpty {
                    let take = 1 + Int(m.next() % UInt64(bytes.count))
                    parser.append(bytes.prefix(take))
                    bytes.removeFirst(take)
                    while true {
                        do {
                            switch try parser.next() {
                            case .needMoreData: continue feeding
                            case .expectContinue: continue
                            case .request: outcomes.requests += 1
                            }
                        } catch {
                            outcomes.errors += 1
                            break feeding
                        }
                    }
                }
            }
        }
        #expect(outcomes.requests > 0 && outcomes.errors > 0)
    }
}
