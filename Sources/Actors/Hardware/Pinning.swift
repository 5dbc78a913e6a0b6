import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Thread placement: the calling thread's CPU affinity, and its memory preferred from a NUMA
/// node (libnuma, when present). `PinnedExecutor` and processor children use it.
public enum Pinning {
    /// Why a thread could not be pinned.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    // glibc declares these only under _GNU_SOURCE, which Swift's Glibc module does not set.
    private typealias Affinity = @convention(c) (pid_t, Int, UnsafeMutableRawPointer?) -> Int32
    private static let setAffinityCall: Affinity? = libc("sched_setaffinity", Affinity.self)
    private static let getAffinityCall: Affinity? = libc("sched_getaffinity", Affinity.self)
    private typealias CurrentCPU = @convention(c) () -> Int32
    private static let currentCPUCall: CurrentCPU? = libc("sched_getcpu", CurrentCPU.self)

    private static func libc<F>(_ name: String, _: F.Type) -> F? {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: F.self)
    }

    /// The CPU the calling thread runs on now (sched_getcpu), or -1.
    public static func currentCPU() -> Int { currentCPUCall.map { Int($0()) } ?? -1 }

    /// Restricts the calling thread to `cpus` (sched_setaffinity).
    public static func setAffinity(_ cpus: [Int]) -> Result<Void, Failure> {
        var set = cpu_set_t()
        let capacity = MemoryLayout<cpu_set_t>.size * 8
        for cpu in cpus {
            guard cpu >= 0, cpu < capacity else { return .failure(Failure(description: "cpu \(cpu) is beyond the kernel's cpu_set_t")) }
        }
        withUnsafeMutableBytes(of: &set) { bytes in
            for cpu in cpus { bytes[cpu / 8] |= UInt8(1 << (cpu % 8)) }
        }
        guard let setAffinityCall else { return .failure(Failure(description: "sched_setaffinity is not available")) }
        guard setAffinityCall(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else {
            return .failure(Failure(description: "sched_setaffinity(\(cpus)): \(String(cString: strerror(errno)))"))
        }
        return .success(())
    }

    /// The calling thread's allowed CPUs.
    public static func affinity() -> [Int] {
        var set = cpu_set_t()
        guard let getAffinityCall, getAffinityCall(0, MemoryLayout<cpu_set_t>.size, &set) == 0 else { return [] }
        return withUnsafeBytes(of: &set) { bytes in
            (0..<(bytes.count * 8)).filter { bytes[$0 / 8] & UInt8(1 << ($0 % 8)) != 0 }
        }
    }

    private typealias SetPreferred = @convention(c) (Int32) -> Void
    /// `numa_set_preferred` from libnuma, loaded once; nil when libnuma is absent.
    private static let setPreferred: SetPreferred? = {
        guard let handle = dlopen("libnuma.so.1", RTLD_NOW | RTLD_LOCAL), let symbol = dlsym(handle, "numa_set_preferred") else { return nil }
        return unsafeBitCast(symbol, to: SetPreferred.self)
    }()

    /// Prefers `node` for the calling thread's new memory; false when libnuma is not installed
    /// or this machine has no such node (libnuma would complain on stderr).
    @discardableResult
    public static func preferNode(_ node: Int) -> Bool {
        guard let setPreferred, node >= 0, FileManager.default.fileExists(atPath: "/sys/devices/system/node/node\(node)") else { return false }
        setPreferred(Int32(node))
        return true
    }
}
