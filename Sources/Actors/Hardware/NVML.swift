import Glibc
import Scheduler

/// An NVML call failed; codes are `nvmlReturn_t` values.
public enum NVMLError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The library loaded but lacks a required symbol (driver too old).
    case missingSymbol(String)
    /// `nvmlInit_v2` failed (e.g. 9 = driver not loaded).
    case initFailed(code: Int32)
    /// A later NVML call failed.
    case callFailed(function: String, code: Int32)

    public var description: String {
        switch self {
        case .missingSymbol(let s): "NVML: symbol \(s) not found"
        case .initFailed(let code): "NVML: nvmlInit_v2 failed with code \(code)"
        case .callFailed(let f, let code): "NVML: \(f) failed with code \(code)"
        }
    }
}

/// Lists GPUs through NVML loaded at run time with dlopen, so the daemon links and runs on
/// machines without the NVIDIA driver.
public enum NVML {
    /// Soname the driver installs.
    public static let defaultLibrary = "libnvidia-ml.so.1"

    private typealias InitFn = @convention(c) () -> Int32
    private typealias CountFn = @convention(c) (UnsafeMutablePointer<UInt32>) -> Int32
    private typealias HandleFn = @convention(c) (UInt32, UnsafeMutablePointer<OpaquePointer?>) -> Int32
    private typealias StringFn = @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>, UInt32) -> Int32
    private typealias StructFn = @convention(c) (OpaquePointer?, UnsafeMutableRawPointer) -> Int32

    /// Probes the GPUs. A library that cannot be loaded means no GPUs (`.success([])`), not an error.
    /// NUMA nodes are filled from PCI sysfs under `sysfsRoot`.
    public static func probe(libraryName: String = defaultLibrary, sysfsRoot: String = "/") -> Result<[GPUDevice], NVMLError> {
        guard let lib = dlopen(libraryName, RTLD_NOW | RTLD_LOCAL) else { return .success([]) }
        defer { dlclose(lib) }

        func sym<T>(_ name: String, _: T.Type) throws(NVMLError) -> T {
            guard let p = dlsym(lib, name) else { throw .missingSymbol(name) }
            return unsafeBitCast(p, to: T.self)
        }
        do throws(NVMLError) {
            let initFn = try sym("nvmlInit_v2", InitFn.self)
            let shutdown = try sym("nvmlShutdown", InitFn.self)
            let getCount = try sym("nvmlDeviceGetCount_v2", CountFn.self)
            let getHandle = try sym("nvmlDeviceGetHandleByIndex_v2", HandleFn.self)
            let getName = try sym("nvmlDeviceGetName", StringFn.self)
            let getUUID = try sym("nvmlDeviceGetUUID", StringFn.self)
            let getMemory = try sym("nvmlDeviceGetMemoryInfo", StructFn.self)
            let getPci = try sym("nvmlDeviceGetPciInfo_v3", StructFn.self)

            let rc = initFn()
            guard rc == 0 else { throw .initFailed(code: rc) }
            defer { _ = shutdown() }

            func check(_ rc: Int32, _ f: String) throws(NVMLError) {
                if rc != 0 { throw .callFailed(function: f, code: rc) }
            }
            var count: UInt32 = 0
            try check(getCount(&count), "nvmlDeviceGetCount_v2")
            var gpus: [GPUDevice] = []
            for i in 0..<count {
                var handle: OpaquePointer?
                try check(getHandle(i, &handle), "nvmlDeviceGetHandleByIndex_v2")
                var nameBuf = [CChar](repeating: 0, count: 256)
                try check(getName(handle, &nameBuf, 256), "nvmlDeviceGetName")
                var uuidBuf = [CChar](repeating: 0, count: 256)
                try check(getUUID(handle, &uuidBuf, 256), "nvmlDeviceGetUUID")
                // nvmlMemory_t { unsigned long long total, free, used }
                var memory = [UInt64](repeating: 0, count: 3)
                try check(memory.withUnsafeMutableBytes { getMemory(handle, $0.baseAddress!) }, "nvmlDeviceGetMemoryInfo")
                // nvmlPciInfo_t { char busIdLegacy[16]; unsigned domain, bus, device, pciDeviceId,
                // pciSubSystemId; char busId[32] } = 68 bytes; the buffer is oversized for safety.
                var pci = [UInt8](repeating: 0, count: 256)
                try check(pci.withUnsafeMutableBytes { getPci(handle, $0.baseAddress!) }, "nvmlDeviceGetPciInfo_v3")
                var busID = cString(pci[36..<68])
                if busID.isEmpty { busID = cString(pci[0..<16]) }
                gpus.append(
                    GPUDevice(
                        index: Int(i), name: cString(nameBuf.map { UInt8(bitPattern: $0) }[...]),
                        uuid: cString(uuidBuf.map { UInt8(bitPattern: $0) }[...]), vramBytes: memory[0], pciBusID: busID))
            }
            return .success(SysfsTopology.attachNUMANodes(gpus, root: sysfsRoot))
        } catch {
            return .failure(error)
        }
    }

    /// Bytes up to the first NUL as UTF-8.
    private static func cString(_ bytes: ArraySlice<UInt8>) -> String {
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }
}
