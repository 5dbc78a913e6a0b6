/// How full each pool is, per NUMA node and per GPU: what `sealer top` draws as bars and what
/// the management method `VenusWorker.WorkerActivity` answers (snake_case JSON).
public struct PoolOccupancy: Sendable, Hashable, Codable {
    /// One NUMA node's cores, memory and 1 GiB hugepages: capacity and what stages hold.
    public struct Node: Sendable, Hashable, Codable {
        public var id: Int
        public var cores: Int
        public var coresHeld: Int
        public var memoryBytes: UInt64
        public var memoryHeld: UInt64
        public var hugepages: Int
        public var hugepagesHeld: Int

        enum CodingKeys: String, CodingKey {
            case id, cores, coresHeld = "cores_held", memoryBytes = "memory_bytes", memoryHeld = "memory_held"
            case hugepages, hugepagesHeld = "hugepages_held"
        }

        public init(id: Int, cores: Int, coresHeld: Int, memoryBytes: UInt64, memoryHeld: UInt64, hugepages: Int, hugepagesHeld: Int) {
            self.id = id
            self.cores = cores
            self.coresHeld = coresHeld
            self.memoryBytes = memoryBytes
            self.memoryHeld = memoryHeld
            self.hugepages = hugepages
            self.hugepagesHeld = hugepagesHeld
        }
    }

    /// One GPU's stage slots and VRAM: capacity and what stages hold.
    public struct GPU: Sendable, Hashable, Codable {
        public var index: Int
        public var slots: Int
        public var slotsHeld: Int
        public var vramBytes: UInt64
        public var vramHeld: UInt64

        enum CodingKeys: String, CodingKey {
            case index, slots, slotsHeld = "slots_held", vramBytes = "vram_bytes", vramHeld = "vram_held"
        }

        public init(index: Int, slots: Int, slotsHeld: Int, vramBytes: UInt64, vramHeld: UInt64) {
            self.index = index
            self.slots = slots
            self.slotsHeld = slotsHeld
            self.vramBytes = vramBytes
            self.vramHeld = vramHeld
        }
    }

    /// One NVMe drive's layer space for batch sealing: capacity and what batches hold.
    public struct Drive: Sendable, Hashable, Codable {
        public var index: Int
        public var bytes: UInt64
        public var held: UInt64

        public init(index: Int, bytes: UInt64, held: UInt64) {
            self.index = index
            self.bytes = bytes
            self.held = held
        }
    }

    public var nodes: [Node]
    public var gpus: [GPU]
    /// The NVMe pool's drives (batch sealing); empty on a box without one.
    public var nvme: [Drive] = []
    /// Stages waiting for the pools to admit them.
    public var waiting: Int
    /// Waiting stages by the pool that blocks each now (`cpu`, `memory`, `gpu`, ...).
    public var blocked: [String: Int]
    /// Waiting requests by stage (`crynux_inference` for Crynux leases); empty from older daemons.
    public var waitingByStage: [String: Int] = [:]

    public init(nodes: [Node], gpus: [GPU], waiting: Int, blocked: [String: Int]) {
        self.nodes = nodes
        self.gpus = gpus
        self.waiting = waiting
        self.blocked = blocked
    }

    /// The occupancy of `capacity` while `held` grants are out; the same sums `/metrics` reports
    /// as `sealer_pool_*{kind="leased"}`.
    public init(capacity: BoxCapacity, held: [Grant], waiting: Int, blocked: [String: Int]) {
        nodes = capacity.nodes.map { node in
            let cpus = Set(node.cpus)
            return Node(
                id: node.id, cores: cpus.count,
                coresHeld: held.reduce(0) { $0 + $1.cpus.filter { cpus.contains($0) }.count },
                memoryBytes: node.memoryBytes, memoryHeld: held.reduce(UInt64(0)) { $0 + ($1.memory[node.id] ?? 0) },
                hugepages: node.hugepages, hugepagesHeld: held.filter { $0.node == node.id }.reduce(0) { $0 + $1.hugepages })
        }
        gpus = capacity.gpus.map { gpu in
            let on = held.filter { $0.gpu == gpu.index }
            return GPU(index: gpu.index, slots: gpu.slots, slotsHeld: on.count, vramBytes: gpu.vramBytes,
                       vramHeld: on.reduce(UInt64(0)) { $0 + $1.vramBytes })
        }
        nvme = capacity.nvme.map { drive in
            Drive(index: drive.index, bytes: drive.bytes, held: held.reduce(UInt64(0)) { $0 + ($1.nvme[drive.index] ?? 0) })
        }
        self.waiting = waiting
        self.blocked = blocked
    }

    enum CodingKeys: String, CodingKey {
        case nodes, gpus, nvme, waiting, blocked
        case waitingByStage = "waiting_by_stage"
    }

    /// `nvme` may be absent (a daemon from before batch sealing answers without it).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        nodes = try c.decode([Node].self, forKey: .nodes)
        gpus = try c.decode([GPU].self, forKey: .gpus)
        nvme = try c.decodeIfPresent([Drive].self, forKey: .nvme) ?? []
        waiting = try c.decode(Int.self, forKey: .waiting)
        blocked = try c.decode([String: Int].self, forKey: .blocked)
        waitingByStage = try c.decodeIfPresent([String: Int].self, forKey: .waitingByStage) ?? [:]
    }
}
