import Foundation
@testable import ProofsFFI
import TestSupport
import Testing

@Suite("secp256k1 signatures and Ethereum addresses", .computeBound)
struct Secp256k1Tests {
    private static func bytes(_ hex: String) -> [UInt8] {
        guard let decoded = Hex.decode(Substring(hex)) else { preconditionFailure("bad test hex \(hex)") }
        return decoded
    }

    /// Deterministic secp256k1 signatures with SHA-256 message digests, from the bitcointalk
    /// thread 285142 (msg3150733) that trezor-crypto, CoreBitcoin and python-ecdsa's test
    /// suites reproduce; k is the RFC 6979 nonce, the signature is the low-s one.
    static let rfc6979Vectors: [(key: String, message: String, k: String, signature: String)] = [
        ("0000000000000000000000000000000000000000000000000000000000000001", "Satoshi Nakamoto",
         "8f8a276c19f4149656b280621e358cce24f5f52542772691ee69063b74f15d15",
         "934b1ea10a4b3c1757e2b0c017d0b6143ce3c9a7e6a4a49860d7a6ab210ee3d82442ce9d2b916064108014783e923ec36b49743e2ffa1c4496f01a512aafd9e5"),
        ("0000000000000000000000000000000000000000000000000000000000000001",
         "All those moments will be lost in time, like tears in rain. Time to die...",
         "38aa22d72376b4dbc472e06c3ba403ee0a394da63fc58d88686c611aba98d6b3",
         "8600dbd41e348fe5c9465ab92d23e3db8b98b873beecd930736488696438cb6b547fe64427496db33bf66019dacbf0039c04199abb0122918601db38a72cfc21"),
        ("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140", "Satoshi Nakamoto",
         "33a19b60e25fb6f4435af53a3d42d493644827367e6453928554f43e49aa6f90",
         "fd567d121db66e382991534ada77a6bd3106f0a1098c231e47993447cd6af2d06b39cd0eb1bc8603e159ef5c20a5c8ad685a45b06ce9bebed3f153d10d93bed5"),
        ("f8b8af8ce3c7cca5e300d33939540c10d45ce001b8f252bfbc57ba0342904181", "Alan Turing",
         "525a82b70e67874398067543fd84c83d30c175fdc45fdeee082fe13b1d7cfdf1",
         "7063ae83e7f62bbb171798131b4a0564b956930092b33b07b395615d9ec7e15c58dfcc1e00a35e1572f366ffe34ba0fc47db1e7189759b9fb233c5b05ab388ea"),
        ("e91671c46231f833a6406ccbea0e3e392c76c167bac1cb013f6f1013980455c2",
         "There is a computer disease that anybody who works with computers knows about. It's a very serious disease and it interferes completely with the work. The trouble with computers is that you 'play' with them!",
         "1f4b84c23a86a221d233f2521be018d9318639d5b8bbd6374a8a59232d16ad3d",
         "b552edd27580141f3b2a5463048cb7cd3e047b97c9f98076c32dbdf85a68718b279fa72dd19bfae05577e06c7c0c1900c371fcd5893f7e1d56a37d30174671f6"),
    ]

    @Test("RFC 6979 nonces and low-s signatures match the published secp256k1 vectors")
    func deterministicSignatures() throws {
        for vector in Self.rfc6979Vectors {
            let digest = SHA256.hash(Array(vector.message.utf8))
            var nonces = RFC6979(privateKey: Self.bytes(vector.key), digest: digest)
            #expect(nonces.next().bigEndianBytes.hex == vector.k, "nonce for \(vector.message)")
            let key = try Secp256k1PrivateKey(hex: vector.key)
            let signature = try key.sign(digest: digest)
            #expect((signature.r + signature.s).hex == vector.signature, "signature for \(vector.message)")
            #expect(try signature.recoverPublicKey(digest: digest) == key.publicKey)
            #expect(key.publicKey.isValidSignature(signature, digest: digest))
        }
    }

    @Test("private key 1 has the generator as public key (SEC 2)")
    func generator() throws {
        let key = try Secp256k1PrivateKey(bytes: [UInt8](repeating: 0, count: 31) + [1])
        #expect(key.publicKey.uncompressed.hex
            == "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8")
    }

    /// go-ethereum crypto/crypto_test.go: testPrivHex, testAddrHex and TestSign (sign
    /// Keccak256("foo"), recover, derive the address).
    @Test("go-ethereum's test key derives its test address and signs what recovers to it")
    func goEthereumKey() throws {
        let key = try Secp256k1PrivateKey(hex: "289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032")
        let expected = try EthereumAddress(hex: "970e8128ab834e8eac17ab8e3812f010678cf791")
        #expect(key.publicKey.ethereumAddress == expected)
        let digest = Keccak256.hash(Array("foo".utf8))
        let signature = try key.sign(digest: digest)
        #expect(signature.bytes.count == 65)
        #expect(signature.recoveryID <= 1)
        #expect(try signature.recoverPublicKey(digest: digest).ethereumAddress == expected)
        // Deterministic: the same digest signs the same bytes.
        #expect(try key.sign(digest: digest) == signature)
    }

    /// go-ethereum crypto/signature_test.go: testmsg, testsig, testpubkey (TestEcrecover).
    @Test("go-ethereum's Ecrecover vector recovers its public key")
    func goEthereumRecover() throws {
        let digest = Self.bytes("0xce0677bb30baa8cf067c88db9811f4333d131bf8bcf12fe7065d211dce971008")
        let signature = try RecoverableSignature(bytes: Self.bytes(
            "0x90f27b8b488db00b00606796d2987f6a5f59ae62ea05effe84fef5b8b0e549984a691139ad57a3f0b906637673aa2f63d1f55cb1a69199d4009eea23ceaddc9301"))
        let expected = try Secp256k1PublicKey(uncompressed: Self.bytes(
            "0x04e32df42865e97135acfb65f3bae71bdc86f4d49150ad6a440b6f15878109880a0a2b2667f7e725ceea70c673093bf67663e0312623c8e091b13cf2c0f11ef652"))
        #expect(try signature.recoverPublicKey(digest: digest) == expected)
        #expect(expected.isValidSignature(signature, digest: digest))
        // Wrong public key (TestVerifySignature's wrongkey idea): recovered key differs.
        var tampered = digest
        tampered[0] ^= 1
        #expect(try signature.recoverPublicKey(digest: tampered) != expected)
        #expect(!expected.isValidSignature(signature, digest: tampered))
    }

    /// go-ethereum crypto/signature_test.go TestVerifySignatureMalleable: s > n/2 is refused.
    @Test("a high-s (malleable) signature is refused, and so is its v = 27/28 form")
    func malleable() {
        let highS = Self.bytes("0x638a54215d80a6713c8d523a6adc4e6e73652d859103a36b700851cb0e61b66b8ebfc1a610c57d732ec6e0a8f06a9a7a28df5051ece514702ff9cdff0b11f454")
        #expect(throws: Secp256k1Error.invalidSignature) { try RecoverableSignature(bytes: highS + [0]) }
        #expect(throws: Secp256k1Error.invalidSignature) { try RecoverableSignature(bytes: highS + [27]) }
    }

    /// EIP-55's specification examples (all caps, all lower, mixed), as go-ethereum's
    /// common/types_test.go TestAddressHexChecksum uses them.
    @Test("EIP-55 checksummed text", arguments: [
        "0x52908400098527886E0F7030069857D2E4169EE7", "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77", "0x27b1fdb04752bbc536007a920d24acb045561c26",
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ])
    func eip55(checksummed: String) throws {
        let address = try EthereumAddress(hex: checksummed.lowercased())
        #expect(address.description == checksummed)
        #expect(address.lowercaseHex == checksummed.lowercased())
        #expect(try EthereumAddress(hex: checksummed) == address)
        #expect(try EthereumAddress(hex: String(checksummed.dropFirst(2)).uppercased()) == address)
    }

    @Test("key files: 0x prefix and surrounding whitespace/newlines are accepted (go-ethereum TestLoadECDSA)")
    func keyText() throws {
        let plain = try Secp256k1PrivateKey(hex: "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
        for text in ["0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
                     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n",
                     " 0x0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\n\n"] {
            #expect(try Secp256k1PrivateKey(hex: text).publicKey == plain.publicKey)
        }
        #expect(!"\(plain)".contains("0123"))
    }

    @Test("bad private keys: length, hex, zero, n, above n")
    func badPrivateKeys() {
        let bad = [
            "", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef01",
            "X123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
            "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364142",
            "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        ]
        for text in bad {
            #expect(throws: Secp256k1Error.invalidPrivateKey, "\(text)") { try Secp256k1PrivateKey(hex: text) }
        }
        #expect(throws: Secp256k1Error.invalidPrivateKey) { try Secp256k1PrivateKey(bytes: [UInt8](repeating: 1, count: 31)) }
        #expect(throws: Secp256k1Error.invalidPrivateKey) { try Secp256k1PrivateKey(bytes: [UInt8](repeating: 1, count: 33)) }
        #expect(throws: Secp256k1Error.invalidPrivateKey) { try Secp256k1PrivateKey(bytes: [UInt8](repeating: 0, count: 32)) }
    }

    @Test("bad signatures: length, r = 0, s = 0, r or s >= n, v out of range; 27/28 normalised")
    func badSignatures() throws {
        let key = try Secp256k1PrivateKey(hex: "289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032")
        let digest = Keccak256.hash(Array("bar".utf8))
        let good = try key.sign(digest: digest).bytes
        let order = Self.bytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141")
        var cases: [[UInt8]] = [Array(good.prefix(64)), good + [0], []]
        cases.append([UInt8](repeating: 0, count: 32) + good[32..<65])
        cases.append(Array(good[0..<32]) + [UInt8](repeating: 0, count: 32) + [good[64]])
        cases.append(order + good[32..<65])
        cases.append(Array(good[0..<32]) + order + [good[64]])
        for v: UInt8 in [2, 3, 26, 29, 255] { cases.append(Array(good[0..<64]) + [v]) }
        for bytes in cases {
            #expect(throws: Secp256k1Error.invalidSignature, "\(bytes.hex)") { try RecoverableSignature(bytes: bytes) }
        }
        let ethereumStyle = try RecoverableSignature(bytes: Array(good[0..<64]) + [good[64] + 27])
        #expect(ethereumStyle.bytes == good)
        #expect(ethereumStyle.recoveryID == good[64])
    }

    @Test("bad digests and public keys are refused")
    func badDigestsAndKeys() throws {
        let key = try Secp256k1PrivateKey(hex: "289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032")
        let digest = Keccak256.hash(Array("baz".utf8))
        let signature = try key.sign(digest: digest)
        #expect(throws: Secp256k1Error.invalidDigest) { try key.sign(digest: Array(digest.prefix(31))) }
        #expect(throws: Secp256k1Error.invalidDigest) { try key.sign(digest: digest + [0]) }
        #expect(throws: Secp256k1Error.invalidDigest) { try signature.recoverPublicKey(digest: []) }
        var uncompressed = key.publicKey.uncompressed
        #expect(try Secp256k1PublicKey(uncompressed: uncompressed) == key.publicKey)
        uncompressed[64] ^= 1
        #expect(throws: Secp256k1Error.invalidPublicKey) { try Secp256k1PublicKey(uncompressed: uncompressed) }
        #expect(throws: Secp256k1Error.invalidPublicKey) { try Secp256k1PublicKey(uncompressed: [0x02] + key.publicKey.uncompressed[1..<33]) }
        var wrongPrefix = key.publicKey.uncompressed
        wrongPrefix[0] = 0x03
        #expect(throws: Secp256k1Error.invalidPublicKey) { try Secp256k1PublicKey(uncompressed: wrongPrefix) }
        #expect(throws: Secp256k1Error.invalidPublicKey) { try EthereumAddress(hex: "0x970e8128ab834e8eac17ab8e3812f010678cf7") }
        #expect(throws: Secp256k1Error.invalidPublicKey) { try EthereumAddress(hex: "0x970e8128ab834e8eac17ab8e3812f010678cf7zz") }
        #expect(throws: Secp256k1Error.invalidPublicKey) { try EthereumAddress(bytes: [UInt8](repeating: 0, count: 21)) }
    }

    @Test("a tampered digest or flipped v recovers a different address")
    func tampering() throws {
        let key = try Secp256k1PrivateKey(hex: "289c2857d4598e37fb9647507e47a309d6133539bf21a8b9cb6df88fd5232032")
        let digest = Keccak256.hash(Array("{\"a\":1}1700000000".utf8))
        let signature = try key.sign(digest: digest)
        var tampered = digest
        tampered[31] ^= 0x80
        #expect(try signature.recoverPublicKey(digest: tampered).ethereumAddress != key.publicKey.ethereumAddress)
        var flipped = signature.bytes
        flipped[64] ^= 1
        let other = try RecoverableSignature(bytes: flipped)
        // The other y parity is another point (or none); either way never the signer.
        let recovered = try? other.recoverPublicKey(digest: digest)
        #expect(recovered != key.publicKey)
    }

    @Test("secret hex decoding agrees with the plain decoder on every ASCII character")
    func secretHex() {
        for code in 0..<128 {
            for position in [0, 1, 63] {
                var characters = [Character](repeating: "0", count: 64)
                characters[position] = Character(Unicode.Scalar(UInt8(code)))
                let text = String(characters)
                // ("0x" at the front leaves 31 bytes: refused by both.)
                let plain = Hex.decode(Substring(text)).flatMap { $0.count == 32 ? $0 : nil }
                #expect(Hex.decodeSecret32(Substring(text)) == plain, "character \(code) at \(position)")
            }
        }
        #expect(Hex.decodeSecret32("0x" + String(repeating: "ab", count: 32)) == [UInt8](repeating: 0xAB, count: 32))
        #expect(Hex.decodeSecret32(Substring(String(repeating: "ab", count: 31))) == nil)
    }

    /// Field (mod p) and scalar (mod n) arithmetic at the values where reductions and carries
    /// happen (0, 1, m-1, m-2, 2^255, limb boundaries, (m-1)/2, a product landing in [p, 2^256)),
    /// checked by Python's integers.
    @Test("field and scalar arithmetic at edge values agree with Python's big integers")
    func arithmeticEdges() async throws {
        func limbs(_ hex: String) -> UInt256Limbs { UInt256Limbs(bigEndian: Self.bytes(hex)[...]) }
        let p = limbs("fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f")
        let n = Secp256k1Scalar.order
        func edges(_ m: UInt256Limbs) -> [UInt256Limbs] {
            let one = UInt256Limbs(1, 0, 0, 0)
            let mMinus1 = m.subtracting(one).difference
            return [.zero, one, UInt256Limbs(2, 0, 0, 0), mMinus1, mMinus1.subtracting(one).difference,
                    UInt256Limbs(0, 0, 0, 1 << 63), UInt256Limbs(~0, 0, 0, 0), UInt256Limbs(0, 0, 1, 0),
                    UInt256Limbs(~0, ~0, ~0, 0), UInt256Limbs(mMinus1.w0 >> 1 | mMinus1.w1 << 63, mMinus1.w1 >> 1 | mMinus1.w2 << 63, mMinus1.w2 >> 1 | mMinus1.w3 << 63, mMinus1.w3 >> 1),
                    m.subtracting(UInt256Limbs(0, 1, 0, 0)).difference,
                    limbs("9d671cd581c69bc5e697f5e45bcd07c6741496c20e7cf878896cf21467d7d140"),
                    // 3 times this is 2^256 + (a value in [p, 2^256) after folding): the last
                    // conditional subtraction of the field product must happen.
                    UInt256Limbs(3, 0, 0, 0), limbs("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa9fffffd75")]
        }
        var lines: [String] = []
        for a in edges(p) {
            for b in edges(p) {
                let (x, y) = (Secp256k1Field(reduced: a), Secp256k1Field(reduced: b))
                lines.append("p \(a.bigEndianBytes.hex) \(b.bigEndianBytes.hex) \((x + y).bigEndianBytes.hex) \((x - y).bigEndianBytes.hex) \((x * y).bigEndianBytes.hex) \(x.inverse.bigEndianBytes.hex)")
            }
        }
        for a in edges(n) {
            for b in edges(n) {
                let (x, y) = (Secp256k1Scalar(reduced: a), Secp256k1Scalar(reduced: b))
                lines.append("n \(a.bigEndianBytes.hex) \(b.bigEndianBytes.hex) \((x + y).bigEndianBytes.hex) \((x - y).bigEndianBytes.hex) \((x * y).bigEndianBytes.hex) \(x.inverse.bigEndianBytes.hex)")
            }
        }
        let script = """
        import sys
        M = {"p": 2**256 - 2**32 - 977, "n": 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141}
        count = 0
        for line in open(sys.argv[1]):
            kind, *values = line.split()
            m = M[kind]
            a, b, s, d, prod, inv = (int(v, 16) for v in values)
            assert s == (a + b) % m, (kind, "add", hex(a), hex(b))
            assert d == (a - b) % m, (kind, "sub", hex(a), hex(b))
            assert prod == (a * b) % m, (kind, "mul", hex(a), hex(b))
            assert inv == (pow(a, -1, m) if a else 0), (kind, "inverse", hex(a))
            count += 1
        print("checked", count)
        """
        let file = try writeTemporary(lines)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try await runTool(["python3", "-c", script, file])
        #expect(result.status == 0, "python3 said: \(result.output)")
        #expect(result.output.contains("checked \(lines.count)"), "python3 said: \(result.output)")
    }

    /// The independent check: libsecp256k1 (through coincurve) and pycryptodome's Keccak
    /// recompute public keys, addresses, signatures (RFC 6979 + low-s there too, so byte for
    /// byte) and recoveries for many deterministic keys and digests; plus Keccak over every
    /// length 0..300. `.ci/run` installs both Python packages.
    @Test("coincurve (libsecp256k1) and pycryptodome agree byte for byte")
    func independentImplementation() async throws {
        var lines: [String] = []
        var state: UInt64 = 0x5EC2_56B1
        func nextBytes(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt8(truncatingIfNeeded: state >> 33)
            }
        }
        for i in 0..<40 {
            var keyBytes = nextBytes(32)
            if i == 0 { keyBytes = [UInt8](repeating: 0, count: 31) + [1] }
            if i == 1 { keyBytes = Self.bytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140") }
            // Keys whose 4-bit windows are mostly zero or all equal (table entries 0 and 1 again
            // and again), and 2^255 (one window set).
            if i == 3 { keyBytes = [UInt8](repeating: 0, count: 31) + [0x10] }
            if i == 4 { keyBytes = [UInt8](repeating: 0x11, count: 32) }
            if i == 5 { keyBytes = [0x80] + [UInt8](repeating: 0, count: 31) }
            let key = try Secp256k1PrivateKey(bytes: keyBytes)
            let digest = i == 2 ? [UInt8](repeating: 0xFF, count: 32) : Keccak256.hash(nextBytes(i * 7))
            let signature = try key.sign(digest: digest)
            let recovered = try signature.recoverPublicKey(digest: digest)
            lines.append("sig \(keyBytes.hex) \(digest.hex) \(signature.bytes.hex) \(key.publicKey.uncompressed.hex) \(recovered.uncompressed.hex) \(key.publicKey.ethereumAddress.lowercaseHex)")
        }
        for length in 0...300 {
            let message = nextBytes(length)
            lines.append("keccak \(message.isEmpty ? "-" : message.hex) \(Keccak256.hash(message).hex)")
        }
        let script = """
        import sys, coincurve
        from Crypto.Hash import keccak
        def k256(b):
            h = keccak.new(digest_bits=256); h.update(b); return h.digest()
        n = 0
        for line in open(sys.argv[1]):
            f = line.split()
            if f[0] == "keccak":
                msg = b"" if f[1] == "-" else bytes.fromhex(f[1])
                assert k256(msg).hex() == f[2], ("keccak", len(msg))
            else:
                key, digest, sig, pub, rec, addr = f[1:]
                d = bytes.fromhex(digest)
                pk = coincurve.PrivateKey(bytes.fromhex(key))
                full = pk.public_key.format(compressed=False)
                assert full.hex() == pub, ("public key", key)
                assert pk.sign_recoverable(d, hasher=None).hex() == sig, ("signature", key, digest)
                got = coincurve.PublicKey.from_signature_and_message(bytes.fromhex(sig), d, hasher=None)
                assert got.format(compressed=False).hex() == rec == pub, ("recovery", key)
                assert "0x" + k256(full[1:])[-20:].hex() == addr, ("address", key)
            n += 1
        print("checked", n)
        """
        let file = try writeTemporary(lines)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let result = try await runTool(["python3", "-c", script, file])
        #expect(result.status == 0, "python3 said: \(result.output)")
        #expect(result.output.contains("checked \(lines.count)"), "python3 said: \(result.output)")
    }
}

/// Writes `lines` to a fresh file under the temporary directory (one per call, so tests may run
/// in parallel) and returns its path.
private func writeTemporary(_ lines: [String]) throws -> String {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("secp256k1-\(UUID().uuidString).txt").path
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    return path
}

