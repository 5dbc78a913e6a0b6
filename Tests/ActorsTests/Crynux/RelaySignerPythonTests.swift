@testable import Actors
import Foundation
import ProofsFFI
import TestSupport
import Testing

/// Relay request signatures checked by an independent implementation: the Crynux node's own
/// signing recipe (`crynux_server/relay/sign.py`: sorted compact JSON + decimal timestamp,
/// keccak256, recoverable secp256k1, `0x` + hex with v 0/1) written in Python over
/// libsecp256k1 (coincurve) and pycryptodome's Keccak, which `.ci/run` installs.
@Suite struct RelaySignerPythonTests {
    @Test func pythonSignsTheSameBytesAndRecoversOurAddress() async throws {
        let key = try Secp256k1PrivateKey(hex: "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318")
        let signer = RelaySigner(key: key)
        let inputs: [[String: JSONValue]] = [
            ["task_id_commitment": .string("0x" + String(repeating: "ab", count: 32))],
            ["task_id_commitment": "0x01", "score": "0x0011223344556677"],
            ["task_id_commitment": "0x02", "task_error": 1],
            ["address": .string(signer.address.description), "gpu_name": "NVIDIA GeForce RTX 4090+Linux", "gpu_vram": 24, "model_ids": ["base:x"], "version": "2.5.0"],
        ]
        var lines: [String] = []
        for (i, input) in inputs.enumerated() {
            let t = Int64(1_700_000_000 + i)
            lines.append(JSONValue.object(input).serializedString + "\t\(t)\t" + (try signer.sign(input, timestamp: t)))
        }
        // Go's HTML escaping: Python's json.dumps does not escape, so here only recovery from
        // the Go bytes is checked (the bytes themselves are pinned in CrynuxNodeTests).
        let html: [String: JSONValue] = ["task_args": "<b>&</b>", "task_id_commitment": "0x03"]
        let goBytes = RelaySigner.message(html, timestamp: 1_700_000_100)
        let htmlSig = try signer.sign(html, timestamp: 1_700_000_100)
        let script = """
        import sys, json, coincurve
        from Crypto.Hash import keccak
        def k256(b):
            h = keccak.new(digest_bits=256); h.update(b); return h.digest()
        key = coincurve.PrivateKey(bytes.fromhex(sys.argv[2]))
        addr = "0x" + k256(key.public_key.format(compressed=False)[1:])[-20:].hex()
        n = 0
        for line in open(sys.argv[1]):
            doc, ts, sig = line.rstrip("\\n").split("\\t")
            if doc == "HTML":
                msg = bytes.fromhex(ts)
            else:
                msg = json.dumps(dict(sorted(json.loads(doc).items())), ensure_ascii=False, separators=(",", ":")).encode() + ts.encode()
                mine = key.sign_recoverable(k256(msg), hasher=None)
                assert "0x" + mine.hex() == sig, ("signature differs", doc)
            pub = coincurve.PublicKey.from_signature_and_message(bytes.fromhex(sig[2:]), k256(msg), hasher=None)
            assert "0x" + k256(pub.format(compressed=False)[1:])[-20:].hex() == addr, ("recovery", doc)
            n += 1
        print("checked", n, addr)
        """
        lines.append("HTML\t" + Hex.encode(goBytes) + "\t" + htmlSig)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("relaysig-\(UUID().uuidString).txt").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let (status, output) = try await runTool(["python3", "-c", script, file, "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"])
        #expect(status == 0, "python3 said: \(output)")
        #expect(output.contains("checked \(lines.count) \(signer.address.lowercaseHex)"), "python3 said: \(output)")
    }
}
