import ProofsFFI
import Foundation

/// A whole config file: damocles-worker's sections plus sealer's additions.
public struct SealerConfig: Sendable, Hashable {
    public var worker = WorkerSection()
    public var metrics = MetricsSection()
    public var sectorManager = SectorManagerSection()
    public var sealing = SealingOverrides()
    public var sealingThreads: [SealingThreadConfig] = []
    public var attached: [AttachedStore] = []
    public var processors = ProcessorsSection()
    public var proofs = ProofsSection()
    public var resources = ResourcesSection()
    /// `[crynux]` (issue 10); nil when the box is not a Crynux node.
    public var crynux: CrynuxSection?
    /// `[sealing] mode = "batch"`: SupraSeal batches; nil seals sector by sector.
    public var batch: BatchMode?

    public init() {}

    /// The options thread `index` runs with (defaults ← `[sealing]` ← its `sealing.*`).
    public func sealingOptions(forThread index: Int) -> SealingOptions {
        SealingOptions().merged(with: sealing).merged(with: sealingThreads[index].sealing)
    }
}

/// `[worker]`.
public struct WorkerSection: Sendable, Hashable {
    /// Reported to the manager; damocles defaults it to the local IP toward the manager.
    public var name: String?
    /// Management server bind host; ours defaults to loopback (damocles: 0.0.0.0).
    public var rpcHost = "127.0.0.1"
    public var rpcPort: UInt16 = 17890
    /// Ours: when set, the management API requires `Authorization: Bearer <token>`.
    public var rpcToken: String?
    public var pingInterval: Duration = .seconds(30)
    public var localPiecesDirs: [String] = []
    public var scanPersistStores: [String] = []
    /// Ours: how long a graceful stop may take before the daemon exits anyway.
    public var shutdownTimeout: Duration = .seconds(10)
    public init() {}
}

/// `[metrics]`: `enable` serves `/metrics` (Prometheus text) and `/healthz` on `http_listen`
/// (`HOST:PORT`; ours listens on 127.0.0.1 unless told otherwise, damocles on 0.0.0.0).
public struct MetricsSection: Sendable, Hashable {
    public var enable = false
    public var httpListen = "127.0.0.1:9000"
    public init() {}
}

/// Where the sector manager is.
public enum ManagerAddress: Sendable, Hashable, CustomStringConvertible {
    /// Ours: the mock manager inside the daemon.
    case embedded
    /// damocles' `<scheme>://<host>:<port>/rpc/v0`.
    case url(scheme: String, host: String, port: UInt16, path: String)

    /// Parses a multiaddr (`/ip4/1.2.3.4/tcp/1789[/http]`, `/dns/h/tcp/p`) or URL, as damocles does.
    public init?(parsing text: String) {
        if text == "embedded" {
            self = .embedded
            return
        }
        if text.hasPrefix("/") {
            let parts = text.split(separator: "/").map(String.init)
            guard parts.count >= 4, ["ip4", "ip6", "dns", "dns4", "dns6"].contains(parts[0]), parts[2] == "tcp",
                  let port = UInt16(parts[3]), Self.validHost(parts[1], kind: parts[0]) else { return nil }
            var scheme = "http"
            if parts.count >= 5 {
                guard parts.count == 5, ["http", "https", "ws", "wss"].contains(parts[4]) else { return nil }
                scheme = parts[4]
            }
            self = .url(scheme: scheme, host: parts[1], port: port, path: "/rpc/v0")
            return
        }
        guard let schemeEnd = text.range(of: "://") else { return nil }
        let scheme = String(text[..<schemeEnd.lowerBound])
        guard ["http", "https", "ws", "wss"].contains(scheme) else { return nil }
        let rest = text[schemeEnd.upperBound...]
        let hostPort = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(hostPort.count)
        guard let colon = hostPort.lastIndex(of: ":"), let port = UInt16(hostPort[hostPort.index(after: colon)...]) else {
            let defaultPort: UInt16 = scheme == "https" || scheme == "wss" ? 443 : 80
            guard !hostPort.isEmpty, Self.validHost(String(hostPort), kind: "dns") else { return nil }
            self = .url(scheme: scheme, host: String(hostPort), port: defaultPort, path: path.isEmpty || path == "/" ? "/rpc/v0" : String(path))
            return
        }
        let host = String(hostPort[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard Self.validHost(host, kind: host.contains(":") ? "ip6" : "dns") else { return nil }
        self = .url(scheme: scheme, host: host, port: port, path: path.isEmpty || path == "/" ? "/rpc/v0" : String(path))
    }

    /// Whether `host` is a dotted-quad IPv4 address, an IPv6 address, or a DNS name — so a
    /// documentation placeholder like `{some_ip}` is refused at load time, not at first call.
    static func validHost(_ host: String, kind: String) -> Bool {
        switch kind {
        case "ip4":
            let octets = host.split(separator: ".", omittingEmptySubsequences: false)
            return octets.count == 4 && octets.allSatisfy { $0.count <= 3 && UInt8($0) != nil }
        case "ip6":
            return host.contains(":") && host.allSatisfy { $0.isHexDigit || $0 == ":" || $0 == "." }
        default:
            return !host.isEmpty && host.count <= 253
                && host.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "." || $0 == "_" }
        }
    }

    public var description: String {
        switch self {
        case .embedded: "embedded"
        case let .url(scheme, host, port, path): "\(scheme)://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)"
        }
    }
}

/// `[sector_manager]`.
public struct SectorManagerSection: Sendable, Hashable {
    public var address: ManagerAddress = .embedded
    public var headers: [String: String] = [:]
    public var pieceToken: String?
    /// Ours: `[sector_manager.mock]`, the embedded mock manager.
    public var mock = MockManagerConfig()
    public init() {}
}

/// Ours: the embedded mock manager's identity and failure knobs.
public struct MockManagerConfig: Sendable, Hashable {
    public var miner: UInt64 = 10000
    public var sectorSize: SectorSize = .kib2
    public var rejectSubmitRate = 0.0
    public var pollFailedRate = 0.0
    public var transportErrorRate = 0.0
    public var delay: Duration = .zero
    public var seed: UInt64 = 1
    public init() {}
}

/// One `[[sealing_thread]]`.
public struct SealingThreadConfig: Sendable, Hashable {
    /// The sealing store directory; nil only for `plan = "wdpost"`.
    public var location: String?
    public var plan: PlanKind = .sealer
    /// `plan = "crynux"`: a Crynux node thread (issue 10), not a sealing plan.
    public var crynux = false
    public var sealing = SealingOverrides()
    /// Where the thread's `[[sealing_thread]]` header is, for messages.
    public var position: TOMLPosition?
    public init() {}
}

/// One `[[attached]]` persist store.
public struct AttachedStore: Sendable, Hashable {
    public var location: String
    public var name: String
    public var readonly = false
    public init(location: String, name: String, readonly: Bool = false) {
        self.location = location
        self.name = name
        self.readonly = readonly
    }
}

/// `[processors]`: parsed and validated now, enforced by the resource pools.
public struct ProcessorsSection: Sendable, Hashable {
    /// `limitation.concurrent` (or legacy `limit`): most tasks of a stage at once.
    public var concurrent: [String: Int] = [:]
    /// `limitation.staggered`: least spacing between starts of a stage.
    public var staggered: [String: Duration] = [:]
    public var extLocks: [String: Int] = [:]
    public var staticTreeD: [String: String] = [:]
    /// `[[processors.<stage>]]` external processors, by stage name.
    public var external: [String: [ExternalProcessorConfig]] = [:]
    public init() {}

    /// Stage names damocles accepts for `[[processors.<stage>]]`.
    public static let externalStages = ["add_pieces", "tree_d", "pc1", "pc2", "c2", "snap_encode", "snap_prove", "transfer",
                                        "unseal", "window_post", "sealing_daemons"]
    /// Stage names a limitation may name.
    public static let limitStages = ["add_pieces", "tree_d", "pc1", "pc2", "synth_proof", "c1", "c2", "snap_encode", "snap_prove",
                                     "unseal", "transfer", "window_post"]
}

/// One external processor child (damocles' `Ext`).
public struct ExternalProcessorConfig: Sendable, Hashable {
    public var bin: String?
    public var args: [String]?
    public var stableWait: Duration = .seconds(5)
    public var cpuset: String?
    public var groupName = "vc-worker"
    public var envs: [String: String] = [:]
    public var inheritEnvs = true
    public var numaPreferred: Int?
    public var concurrent: Int?
    public var locks: [String] = []
    public var autoRestart = true
    public init() {}
}

/// Ours: `[proofs]`, which prover seals.
public struct ProofsSection: Sendable, Hashable {
    public enum Backend: String, Sendable, Hashable {
        /// The deterministic mock prover.
        case mock
        /// filecoin-ffi loaded at run time (not available in this build).
        case ffi
    }

    public var backend: Backend = .mock
    /// `ffi_library`: the filecoin-ffi `libfilcrypto.so` to load (else `$FIL_PROOFS_LIBRARY`,
    /// else the dynamic loader's search path); `sealer proofs check` verifies it loads.
    public var ffiLibrary: String?
    /// `[proofs.mock]` stage durations; stages not listed take `defaultMockDuration`.
    public var mockDurations: [ProofStage: Duration] = [:]
    public var mockFailureRate = 0.0
    public static let defaultMockDuration: Duration = .milliseconds(50)
    public init() {}

    /// Every stage's mock duration, defaults filled in.
    public var resolvedMockDurations: [ProofStage: Duration] {
        Dictionary(uniqueKeysWithValues: ProofStage.allCases.map { ($0, mockDurations[$0] ?? Self.defaultMockDuration) })
    }
}
