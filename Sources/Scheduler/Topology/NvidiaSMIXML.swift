/// Reads GPUs from `nvidia-smi -q -x` output, the fallback when NVML cannot be loaded.
public enum NvidiaSMIXML {
    /// Parses the report; GPUs are indexed in document order (nvidia-smi's PCI order).
    /// NUMA node is not in the report and is left nil (fill it from sysfs).
    public static func parse(_ xml: String) throws(TopologyParseError) -> [GPUDevice] {
        let root = try XMLScanner.parse(xml)
        guard root.name == "nvidia_smi_log" else {
            throw TopologyParseError("nvidia-smi XML: root is <\(root.name)>, expected <nvidia_smi_log>")
        }
        var gpus: [GPUDevice] = []
        for gpu in root.children where gpu.name == "gpu" {
            guard let busID = gpu.attributes["id"] ?? gpu.child("pci")?.child("pci_bus_id")?.trimmedText else {
                throw TopologyParseError("nvidia-smi XML: <gpu> \(gpus.count) has no id attribute")
            }
            var vram: UInt64 = 0
            if let total = gpu.child("fb_memory_usage")?.child("total")?.trimmedText {
                guard let bytes = parseSize(total) else {
                    throw TopologyParseError("nvidia-smi XML: gpu \(busID): bad fb_memory_usage total \"\(total)\"")
                }
                vram = bytes
            }
            gpus.append(
                GPUDevice(
                    index: gpus.count, name: gpu.child("product_name")?.trimmedText ?? "",
                    uuid: gpu.child("uuid")?.trimmedText ?? "", vramBytes: vram, pciBusID: busID))
        }
        return gpus
    }

    /// "81559 MiB" → bytes; accepts B, KiB, MiB, GiB, TiB.
    static func parseSize(_ text: String) -> UInt64? {
        let parts = text.split(separator: " ")
        guard let first = parts.first, let value = UInt64(first) else { return nil }
        let unit = parts.count > 1 ? String(parts[1]) : "B"
        let shift: UInt64
        switch unit {
        case "B": shift = 0
        case "KiB": shift = 10
        case "MiB": shift = 20
        case "GiB": shift = 30
        case "TiB": shift = 40
        default: return nil
        }
        return value << shift
    }
}
