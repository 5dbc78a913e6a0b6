import Actors
import Foundation
import Testing

@Suite struct JSONValueTests {
    @Test func roundTripCompactSortedKeys() throws {
        let text = #" { "z": [1, -2, 3.5, true, false, null], "a": {"nested": "x\ny", "e": {}}, "m": [] } "#
        let value = try JSONValue.parse(text)
        #expect(value.serializedString == #"{"a":{"e":{},"nested":"x\ny"},"m":[],"z":[1,-2,3.5,true,false,null]}"#)
        #expect(try JSONValue.parse(value.serialized()) == value)
    }

    @Test func integersStayExact() throws {
        let text = "[9007199254740993,9223372036854775807,-9223372036854775808,0,-0,18446744073709551615]"
        let value = try JSONValue.parse(text)
        #expect(value[0] == .int(9_007_199_254_740_993))
        #expect(value[1] == .int(Int64.max))
        #expect(value[2] == .int(Int64.min))
        #expect(value[3] == .int(0))
        #expect(value[4]?.intValue == 0)
        // Beyond Int64 falls back to Double (documented limit).
        #expect(value[5] == .double(Double(UInt64.max)))
        #expect(value.serializedString.hasPrefix("[9007199254740993,9223372036854775807,-9223372036854775808,0,0,"))
        #expect(value[0]?.uint64Value == 9_007_199_254_740_993)
        #expect(JSONValue.int(-1).uint64Value == nil)
    }

    @Test func doubles() throws {
        #expect(try JSONValue.parse("1.0") == .double(1.0))
        #expect(try JSONValue.parse("1.0").serializedString == "1.0")
        #expect(try JSONValue.parse("-2.5e-3") == .double(-0.0025))
        #expect(try JSONValue.parse("1E2") == .double(100))
        #expect(try JSONValue.parse("1e-7").doubleValue == 1e-7)
        let tiny = try JSONValue.parse(JSONValue.double(1e-7).serialized())
        #expect(tiny == .double(1e-7))
        #expect(JSONValue.double(.nan).serializedString == "null")
        #expect(JSONValue.double(.infinity).serializedString == "null")
        #expect(JSONValue.double(2.0).intValue == 2)
        #expect(JSONValue.double(2.5).intValue == nil)
    }

    @Test func stringsAndEscapes() throws {
        let value = try JSONValue.parse(#""q\"b\\s\/n\nr\rt\tb\bf\f\u0041\u00e9\u4e2d\ud83d\ude00 raw é""#)
        #expect(value == .string("q\"b\\s/n\nr\rt\tb\u{8}f\u{c}Aé中😀 raw é"))
        let control = JSONValue.string("a\u{1}b\u{1f}\"\\")
        #expect(control.serializedString == #""a\u0001b\u001f\"\\""#)
        #expect(try JSONValue.parse(control.serialized()) == control)
        #expect(JSONValue.string("é中😀").serialized() == Array("\"é中😀\"".utf8))
    }

    @Test(arguments: [
        ("", 0),
        (" ", 1),
        ("{\"a\":1,}", 7),
        ("[1,2", 4),
        ("[1,]", 3),
        ("tru", 0),
        ("nul", 0),
        ("01", 0),
        ("1.", 2),
        ("-", 1),
        ("1e", 2),
        ("\"abc", 0),
        ("[1] x", 4),
        ("{\"a\" 1}", 5),
        ("{1:2}", 1),
        ("\"a\u{01}b\"", 2),
        ("\"\\ud800\"", 1),
        ("\"\\udc00\"", 1),
        ("\"\\x\"", 1),
        ("\"\\u12g4\"", 5),
        ("1e999", 0),
        ("[1 2]", 3),
        ("@", 0),
    ])
    func invalidInputNamesOffset(input: String, offset: Int) {
        do {
            let v = try JSONValue.parse(input)
            Issue.record("parsed \(input.debugDescription) as \(v)")
        } catch {
            #expect(error.offset == offset, "\(input.debugDescription): \(error)")
            #expect(error.description.hasPrefix("invalid JSON at byte \(error.offset): "))
        }
    }

    @Test func invalidUTF8Rejected() {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0x22]
        do {
            _ = try JSONValue.parse(bytes)
            Issue.record("accepted invalid UTF-8")
        } catch {
            #expect(error.reason.contains("UTF-8"))
        }
    }

    @Test func nestingLimit() throws {
        let ok = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        #expect(throws: Never.self) { try JSONValue.parse(ok) }
        let tooDeep = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(tooDeep) }
        let objects = String(repeating: "{\"a\":", count: 129) + "1" + String(repeating: "}", count: 129)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(objects) }
        // Hostile input: no crash, a clear error.
        let hostile = [UInt8](repeating: UInt8(ascii: "["), count: 200_000)
        do {
            _ = try JSONValue.parse(hostile)
            Issue.record("accepted hostile nesting")
        } catch {
            #expect(error.reason.contains("nesting deeper than 128"))
            #expect(error.offset == 128)
        }
        #expect(throws: Never.self) { try JSONValue.parse(tooDeep, maxDepth: 200) }
    }

    struct Sector: Codable, Equatable {
        var miner: UInt64
        var number: UInt64
        var label: String?
        var pieces: [Int]
        var ratio: Double
    }

    @Test func codableBridging() throws {
        let sector = Sector(miner: 1000, number: 9_007_199_254_740_993, label: "hot", pieces: [1, 2], ratio: 0.25)
        let value = try JSONValue(encoding: sector)
        #expect(value["number"] == .int(9_007_199_254_740_993))
        #expect(value["label"]?.stringValue == "hot")
        #expect(value.serializedString == #"{"label":"hot","miner":1000,"number":9007199254740993,"pieces":[1,2],"ratio":0.25}"#)
        #expect(try value.decode(Sector.self) == sector)

        // JSONValue itself through JSONEncoder / JSONDecoder.
        let doc: JSONValue = ["a": [1, 2.5, "s", nil, true], "b": ["c": 9_007_199_254_740_993]]
        let data = try JSONEncoder().encode(doc)
        let back = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(back == doc)
        #expect(try JSONValue(encoding: doc) == doc)
        #expect(throws: (any Error).self) { try JSONValue.string("x").decode(Sector.self) }
    }

    @Test func accessorsAndLiterals() {
        let v: JSONValue = ["s": "str", "i": 42, "d": 1.5, "b": true, "n": nil, "a": [1, 2], "o": ["k": "v"]]
        #expect(v["s"]?.stringValue == "str")
        #expect(v["i"]?.intValue == 42)
        #expect(v["d"]?.doubleValue == 1.5)
        #expect(v["i"]?.doubleValue == 42)
        #expect(v["b"]?.boolValue == true)
        #expect(v["n"]?.isNull == true)
        #expect(v["a"]?.arrayValue?.count == 2)
        #expect(v["a"]?[1] == 2)
        #expect(v["a"]?[5] == nil)
        #expect(v["o"]?["k"] == "v")
        #expect(v["o"]?.objectValue?.keys.sorted() == ["k"])
        #expect(v["missing"] == nil)
        #expect(v["s"]?.intValue == nil)
        #expect(JSONValue.int(1)["x"] == nil)
        #expect(v.description == v.serializedString)
    }
}
