import Foundation

/// The Groth parameter and verifying-key files filecoin-ffi reads from its parameter cache.
///
/// Transcribed from rust-fil-proofs' `parameters.json` (github.com/filecoin-project/rust-fil-proofs,
/// commit de000dd3732471e1cb79b1fdc842d3f9267cea9b, the last to change it as of 87348a749d80447d00c595af834a8ed73c09e4d9),
/// the list lotus' `fetch-params` and curio download from. Every entry has a `.params` and a
/// `.vk` file. Each size has two PoSt circuits (winning and window); parameters.json does not say
/// which hash is which, so both are listed as `post`. It lists no NI-PoRep-only files, and the
/// SnarkPack SRS (`srs-inner-product.json`, for aggregation) is not a sealing need.
public enum ProofParameters {
    /// What a parameter file proves.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// StackedDRG PoRep (C2).
        case porep
        /// Fallback PoSt (winning and window).
        case post
        /// SnapDeals empty-sector-update proofs.
        case snap
        /// SnapDeals, the Poseidon-hashed variant (32GiB and 64GiB only).
        case snapPoseidon = "snap-poseidon"
    }

    /// One file of the parameter cache.
    public struct File: Sendable, Hashable {
        public var name: String
        public var sectorSize: SectorSize
        public var kind: Kind
        public init(name: String, sectorSize: SectorSize, kind: Kind) {
            self.name = name
            self.sectorSize = sectorSize
            self.kind = kind
        }
    }

    /// The variable filecoin-ffi reads its parameter cache directory from.
    public static let cacheVariable = "FIL_PROOFS_PARAMETER_CACHE"
    /// filecoin-ffi's parameter cache when the variable is not set.
    public static let defaultCache = "/var/tmp/filecoin-proof-parameters"

    /// `$FIL_PROOFS_PARAMETER_CACHE` when set and not empty, else `defaultCache`.
    public static func cacheDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let dir = environment[cacheVariable], !dir.isEmpty { return dir }
        return defaultCache
    }

    /// Every file a sector size needs: for each circuit, its `.params` then its `.vk`.
    public static func files(for size: SectorSize) -> [File] {
        (circuits[size] ?? []).flatMap { kind, base in
            [File(name: base + ".params", sectorSize: size, kind: kind), File(name: base + ".vk", sectorSize: size, kind: kind)]
        }
    }

    private static let circuits: [SectorSize: [(Kind, String)]] = [
        .kib2: [
            (.porep, "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-0-0-sha256_hasher-032d3138d22506ec0082ed72b2dcba18df18477904e35bafee82b3793b06832f"),
            (.post, "v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-0-0-0170db1f394b35d995252228ee359194b13199d259380541dc529fb0099096b0"),
            (.post, "v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-0-0-3ea05428c9d11689f23529cde32fd30aabd50f7d2c93657c1d3650bca3e8ea9e"),
            (.snap, "v28-empty-sector-update-merkletree-poseidon_hasher-8-0-0-fb9e095bebdd77511c0269b967b4d87ba8b8a525edaa0e165de23ba454510194"),
        ],
        .mib8: [
            (.porep, "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-0-0-sha256_hasher-ecd683648512ab1765faa2a5f14bab48f676e633467f0aa8aad4b55dcb0652bb"),
            (.post, "v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-0-0-50c7368dea9593ed0989e70974d28024efa9d156d585b7eea1be22b2e753f331"),
            (.post, "v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-0-0-5294475db5237a2e83c3e52fd6c2b03859a1831d45ed08c4f35dbf9a803165a9"),
            (.snap, "v28-empty-sector-update-merkletree-poseidon_hasher-8-0-0-92180959e1918d26350b8e6cfe217bbdd0a2d8de51ebec269078b364b715ad63"),
        ],
        .mib512: [
            (.porep, "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-0-0-sha256_hasher-6babf46ce344ae495d558e7770a585b2382d54f225af8ed0397b8be7c3fcd472"),
            (.post, "v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-0-0-0cfb4f178bbb71cf2ecfcd42accce558b27199ab4fb59cb78f2483fe21ef36d9"),
            (.post, "v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-0-0-7d739b8cf60f1b0709eeebee7730e297683552e4b69cab6984ec0285663c5781"),
            (.snap, "v28-empty-sector-update-merkletree-poseidon_hasher-8-0-0-61fa69f38b9cc771ba27b670124714b4ea77fbeae05e377fb859c4a43b73a30c"),
        ],
        .gib32: [
            (.porep, "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-0-sha256_hasher-82a357d2f2ca81dc61bb45f4a762807aedee1b0a53fd6c4e77b46a01bfef7820"),
            (.post, "v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-8-0-0377ded656c6f524f1618760bffe4e0a1c51d5a70c4509eedae8a27555733edc"),
            (.post, "v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-8-0-559e581f022bb4e4ec6e719e563bf0e026ad6de42e56c18714a2c692b1b88d7e"),
            (.snap, "v28-empty-sector-update-merkletree-poseidon_hasher-8-8-0-3b7f44a9362e3985369454947bc94022e118211e49fd672d52bec1cbfd599d18"),
            (.snapPoseidon, "v28-empty-sector-update-poseidon-merkletree-poseidon_hasher-8-8-0-3b7f44a9362e3985369454947bc94022e118211e49fd672d52bec1cbfd599d18"),
        ],
        .gib64: [
            (.porep, "v28-stacked-proof-of-replication-merkletree-poseidon_hasher-8-8-2-sha256_hasher-96f1b4a04c5c51e4759bbf224bbc2ef5a42c7100f16ec0637123f16a845ddfb2"),
            (.post, "v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-8-2-2627e4006b67f99cef990c0a47d5426cb7ab0a0ad58fc1061547bf2d28b09def"),
            (.post, "v28-proof-of-spacetime-fallback-merkletree-poseidon_hasher-8-8-2-b62098629d07946e9028127e70295ed996fe3ed25b0f9f88eb610a0ab4385a3c"),
            (.snap, "v28-empty-sector-update-merkletree-poseidon_hasher-8-8-2-102e1444a7e9a97ebf1e3d6855dcc77e66c011ea66f936d9b2c508f87f2f83a7"),
            (.snapPoseidon, "v28-empty-sector-update-poseidon-merkletree-poseidon_hasher-8-8-2-102e1444a7e9a97ebf1e3d6855dcc77e66c011ea66f936d9b2c508f87f2f83a7"),
        ],
    ]
}
