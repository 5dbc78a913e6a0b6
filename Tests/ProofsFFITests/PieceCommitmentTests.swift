import Foundation
import ProofsFFI
import Testing

@Suite("Piece commitments, CIDs, prover ids")
struct PieceCommitmentTests {
    @Test("SHA-256 matches FIPS 180-4's published examples")
    func sha256Vectors() {
        #expect(SHA256.hash(Array("abc".utf8)).hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hash([]).hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)).hex
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hash([UInt8](repeating: 0x61, count: 1_000_000)).hex == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    /// Golden values: Python's hashlib over the same zero tree, and lotus' published zero-piece CIDs.
    @Test("zero commitments per sector size equal an independent computation and lotus' CIDs",
          arguments: [
            (SectorSize.kib2, "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833", "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"),
            (.mib8, "65f29e5d98d246c38b388cfc06db1f6b021303c5a289000bdce832a9c3ec421c", ""),
            (.mib512, "39560e7b13a93b07a243fd2720ffa7cb3e1d2e505ab3629e79f46313512cda06", ""),
            (.gib32, "077e5fde35c50a9303a55009e3498a4ebedff39c42b710b730d8ec7ac7afa63e", "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"),
            (.gib64, "e64005a6bfe3777953b8ad6ef93f0fca1049b2041654f2a411f7702799cece02", "baga6ea4seaqomqafu276g53zko4k23xzh4h4uecjwicbmvhsuqi7o4bhthhm4aq"),
          ])
    func zeroCommitments(size: SectorSize, hex: String, cid: String) throws {
        let pledge = ZeroCommitment.pledge(size)
        #expect(pledge.commP.hex == hex)
        #expect(pledge.size == size.bytes / 128 * 127)
        #expect(pledge.paddedSize == size.bytes)
        if !cid.isEmpty {
            #expect(PieceCID.string(pledge.commP) == cid)
            #expect(try PieceCID.commitment(cid) == pledge.commP)
        }
    }

    @Test("a piece CID round-trips; anything else is a clear error")
    func cidErrors() throws {
        let commP = (0..<32).map { UInt8($0 * 7 & 0xff) }
        #expect(try PieceCID.commitment(PieceCID.string(commP)) == commP)
        #expect(throws: PieceCIDError.self) { try PieceCID.commitment("baga-pledge-abc") }
        #expect(throws: PieceCIDError.self) { try PieceCID.commitment("QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG") }
        // A CIDv1 with another codec (dag-pb, sha2-256): valid base32, wrong kind.
        #expect(throws: PieceCIDError.self) { try PieceCID.commitment("bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi") }
    }

    @Test("the prover id is the miner's ID-address payload (uvarint), zero-padded to 32 bytes")
    func proverID() {
        #expect(ProverID(miner: 1000).bytes == [0xe8, 0x07] + [UInt8](repeating: 0, count: 30))
        #expect(ProverID(miner: 0).bytes == [UInt8](repeating: 0, count: 32))
        #expect(ProverID(miner: 127).bytes.prefix(2) == [0x7f, 0x00])
        #expect(ProverID(miner: 1_234_567).bytes.prefix(4) == [0x87, 0xad, 0x4b, 0x00])
        #expect(ProverID(miner: 1000).bytes.count == 32)
    }
}

@Suite("Piece records across an upgrade")
struct PieceRecordMigrationTests {
    @Test("a piece persisted by an earlier build ({size padded, cid}) still decodes")
    func legacyShape() throws {
        let real = #"{"size":34359738368,"cid":"baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"}"#
        let piece = try JSONDecoder().decode(PieceInfo.self, from: Data(real.utf8))
        #expect(piece == ZeroCommitment.pledge(.gib32))
        let mock = #"{"size":2048,"cid":"baga-pledge-0a1b2c"}"#
        let old = try JSONDecoder().decode(PieceInfo.self, from: Data(mock.utf8))
        #expect(old.commP.count == 32 && old.size == 2032)
        let again = try JSONDecoder().decode(PieceInfo.self, from: try JSONEncoder().encode(piece))
        #expect(again == piece)
        #expect(String(decoding: try JSONEncoder().encode(piece), as: UTF8.self).contains("comm_p"))
    }
}
