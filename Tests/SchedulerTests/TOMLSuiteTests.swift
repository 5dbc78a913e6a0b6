import Foundation
import Testing
@testable import Scheduler

/// The official toml-test suite (shared/toml-test beside the repository): every TOML 1.0 case.
@Suite("toml-test suite, TOML 1.0")
struct TOMLSuiteTests {
    static let suite: String? = {
        var dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        for _ in 0..<6 {
            for candidate in ["shared/toml-test/tests", "../shared/toml-test/tests"] {
                let path = dir.appendingPathComponent(candidate).standardized.path
                if FileManager.default.fileExists(atPath: path + "/files-toml-1.0.0") { return path }
            }
            dir = dir.deletingLastPathComponent()
        }
        return nil
    }()

    static let cases: [String] = {
        guard let suite, let list = try? String(contentsOfFile: suite + "/files-toml-1.0.0", encoding: .utf8) else { return [] }
        return list.split(separator: "\n").map(String.init).filter { $0.hasSuffix(".toml") }
    }()

    @Test("the suite is present and lists its cases")
    func suitePresent() {
        #expect(Self.suite != nil, "shared/toml-test/tests not found beside the repository")
        #expect(Self.cases.count > 700)
    }

    @Test("valid cases decode to the expected tagged JSON", arguments: cases.filter { $0.hasPrefix("valid/") })
    func valid(_ name: String) throws {
        let suite = try #require(Self.suite)
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: suite + "/" + name)))
        let table = try TOML.parse(bytes: bytes)
        let ours = try JSONSerialization.jsonObject(with: Data(TOMLTaggedJSON.encode(table).utf8), options: [.fragmentsAllowed])
        let expectedData = try Data(contentsOf: URL(fileURLWithPath: suite + "/" + name.dropLast(5) + ".json"))
        let expected = try JSONSerialization.jsonObject(with: expectedData, options: [.fragmentsAllowed])
        #expect(Self.same(expected, ours), "\(name): got \(TOMLTaggedJSON.encode(table))")
    }

    @Test("invalid cases are rejected with a position", arguments: cases.filter { $0.hasPrefix("invalid/") })
    func invalid(_ name: String) throws {
        let suite = try #require(Self.suite)
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: suite + "/" + name)))
        do {
            let table = try TOML.parse(bytes: bytes)
            Issue.record("\(name) was accepted: \(TOMLTaggedJSON.encode(table))")
        } catch {
            #expect(error.position.line >= 1 && error.position.column >= 1)
        }
    }

    /// Structural equality with toml-test's own leniency: floats numerically, datetimes as instants written.
    static func same(_ a: Any, _ b: Any) -> Bool {
        if let a = a as? [String: Any], let b = b as? [String: Any] {
            if let type = a["type"] as? String, let x = a["value"] as? String, a.count == 2 {
                guard let t = b["type"] as? String, t == type, let y = b["value"] as? String else { return false }
                switch type {
                case "float":
                    guard let fx = Double(x.replacingOccurrences(of: "inf", with: "infinity")),
                          let fy = Double(y.replacingOccurrences(of: "inf", with: "infinity")) else { return false }
                    return (fx.isNaN && fy.isNaN) || fx == fy
                case "integer": return Int64(x) == Int64(y)
                case "datetime", "datetime-local", "date-local", "time-local": return normalize(x) == normalize(y)
                default: return x == y
                }
            }
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { same(value, $0) } ?? false }
        }
        if let a = a as? [Any], let b = b as? [Any] {
            return a.count == b.count && zip(a, b).allSatisfy { same($0, $1) }
        }
        return false
    }

    static func normalize(_ text: String) -> String {
        var s = text.uppercased().replacingOccurrences(of: " ", with: "T")
        if s.hasSuffix("+00:00") || s.hasSuffix("-00:00") { s = String(s.dropLast(6)) + "Z" }
        // Trailing zeros of the fraction carry no meaning.
        if let dot = s.firstIndex(of: ".") {
            let digitsEnd = s[dot...].dropFirst().firstIndex { !$0.isNumber } ?? s.endIndex
            var fraction = String(s[s.index(after: dot)..<digitsEnd])
            while fraction.hasSuffix("0") { fraction.removeLast() }
            s = String(s[..<dot]) + (fraction.isEmpty ? "" : "." + fraction) + s[digitsEnd...]
        }
        return s
    }
}

@Suite("TOML parser")
struct TOMLParserTests {
    @Test("errors carry line and column")
    func errorPositions() {
        let cases: [(String, Int, Int, String)] = [
            ("a = 1\nb = \n", 2, 5, "expected a value"),
            ("a = 1\na = 2\n", 2, 1, "duplicate key 'a' (first defined at 1:1)"),
            ("[t]\nx = 1\n[t]\n", 3, 2, "table 't' is already defined"),
            ("s = \"abc\n", 1, 9, "newline in a single-line string"),
            ("n = 0123\n", 1, 5, "invalid value '0123'"),
            ("k = \"\\q\"\n", 1, 6, "invalid escape sequence"),
        ]
        for (text, line, column, message) in cases {
            do {
                _ = try TOML.parse(text)
                Issue.record("accepted: \(text)")
            } catch {
                #expect(error.position == TOMLPosition(line: line, column: column), "\(text): \(error)")
                #expect(error.message.contains(message), "\(text): \(error)")
            }
        }
    }

    @Test("a damocles config decodes: arrays of tables, dotted keys, inline tables, quoted keys, positions")
    func damoclesShapes() throws {
        let text = """
        [worker]
        rpc_server = { host = "0.0.0.0", port = 17890 }

        [[sealing_thread]]
        location = "/nvme0/t0"

        [[sealing_thread]]
        location = "/nvme1/t1"
        sealing.max_retries = 10

        [processors.static_tree_d]
        "32GiB" = "/var/tmp/tree-d.dat"
        """
        let root = try TOML.parse(text)
        guard case let .table(worker)? = root["worker"], case let .table(rpc)? = worker["rpc_server"] else {
            Issue.record("no worker.rpc_server")
            return
        }
        #expect(rpc["port"] == .integer(17890))
        #expect(rpc.origin == TOMLPosition(line: 2, column: 14))
        guard case let .array(threads)? = root["sealing_thread"], threads.count == 2, case let .table(second) = threads[1] else {
            Issue.record("no sealing threads")
            return
        }
        #expect(second.origin?.line == 7)
        #expect(second.position(of: "sealing")?.line == 9)
        guard case let .table(sealing)? = second["sealing"] else { Issue.record("no dotted table"); return }
        #expect(sealing["max_retries"] == .integer(10))
        guard case let .table(processors)? = root["processors"], case let .table(tree)? = processors["static_tree_d"] else {
            Issue.record("no static_tree_d")
            return
        }
        #expect(tree["32GiB"] == .string("/var/tmp/tree-d.dat"))
    }

    @Test("invalid UTF-8 is reported where it is")
    func invalidUTF8() {
        #expect(throws: TOMLError.self) { try TOML.parse(bytes: Array("a = \"".utf8) + [0xFF] + Array("\"\n".utf8)) }
    }
}
