/// A cpuset as cgroups write it: `"0-7,32-39"`.
public enum CPUSet {
    /// The CPUs listed, or nil when the text is not a cpuset.
    public static func parse(_ text: String) -> [Int]? {
        var cpus: [Int] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = part.split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 1 || bounds.count == 2,
                  let low = Int(bounds[0].trimmingCharacters(in: .whitespaces)), low >= 0 else { return nil }
            let high = bounds.count == 2 ? Int(bounds[1].trimmingCharacters(in: .whitespaces)) : low
            guard let high, high >= low, high < 65536 else { return nil }
            cpus.append(contentsOf: low...high)
        }
        return cpus.isEmpty ? nil : cpus
    }
}

import Foundation
