import Testing
@testable import ProofsFFI

@Suite("Proof parameter table")
struct ProofParametersTests {
    @Test("each size needs PoRep, two PoSt and SnapDeals circuits (plus the Poseidon snap one from 32GiB), each as .params and .vk")
    func table() {
        for size in SectorSize.allCases {
            let files = ProofParameters.files(for: size)
            let large = size == .gib32 || size == .gib64
            #expect(files.count == (large ? 10 : 8), "\(size)")
            #expect(Set(files.map(\.name)).count == files.count)
            #expect(files.filter { $0.name.hasSuffix(".params") }.count == files.count / 2)
            #expect(files.allSatisfy { $0.sectorSize == size && $0.name.hasPrefix("v28-") })
            #expect(files.filter { $0.kind == .post }.count == 4)
            #expect(files.contains { $0.kind == .snapPoseidon } == large)
        }
        #expect(ProofParameters.files(for: .gib32).first?.name
            == "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher-82a357d2f2ca81dc61bb45f4a762807aedee1b0a53fd6c4e77b46a01bfef7820.params")
    }

    @Test("the cache is $FIL_PROOFS_PARAMETER_CACHE when set and not empty, else /var/tmp/filecoin-proof-parameters")
    func cache() {
        #expect(ProofParameters.cacheDirectory(environment: ["FIL_PROOFS_PARAMETER_CACHE": "/p"]) == "/p")
        #expect(ProofParameters.cacheDirectory(environment: ["FIL_PROOFS_PARAMETER_CACHE": ""]) == "/var/tmp/filecoin-proof-parameters")
        #expect(ProofParameters.cacheDirectory(environment: [:]) == "/var/tmp/filecoin-proof-parameters")
    }
}
