/// A byte count written as damocles writes it (`"32GiB"`, `"512MiB"`, `"8GB"`, `1024`).
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var bytes: UInt64

    public init(bytes: UInt64) { self.bytes = bytes }

    private static let units: [(String, UInt64)] = [
        ("b", 1), ("kib", 1 << 10), ("mib", 1 << 20), ("gib", 1 << 30), ("tib", 1 << 40), ("pib", 1 << 50),
        ("k", 1000), ("kb", 1000), ("m", 1_000_000), ("mb", 1_000_000), ("g", 1_000_000_000), ("gb", 1_000_000_000),
        ("t", 1_000_000_000_000), ("tb", 1_000_000_000_000), ("ki", 1 << 10), ("mi", 1 << 20), ("gi", 1 << 30), ("ti", 1 << 40),
    ]

    /// Parses `"<number>[ ]<unit>"`; units are case-insensitive, binary (KiB) or decimal (KB).
    public init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let numberPart = trimmed.prefix { $0.isNumber || $0 == "." }
        let unit = trimmed.dropFirst(numberPart.count).trimmingCharacters(in: .whitespaces).lowercased()
        guard !numberPart.isEmpty, let number = Double(numberPart), number >= 0 else { return nil }
        let scale: UInt64
        if unit.isEmpty {
            scale = 1
        } else if let match = Self.units.first(where: { $0.0 == unit }) {
            scale = match.1
        } else {
            return nil
        }
        let value = number * Double(scale)
        guard value < 1.8e19, value == value.rounded() else { return nil }
        bytes = UInt64(value)
    }

    /// The largest binary unit that divides the size exactly (`"32GiB"`), else bytes.
    public var description: String {
        for (unit, scale) in [("PiB", UInt64(1) << 50), ("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)]
        where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(unit)"
        }
        return "\(bytes)"
    }

    public static func < (a: ByteSize, b: ByteSize) -> Bool { a.bytes < b.bytes }

    /// `12GiB`, `1.5GiB`, `512MiB`: rounded to one decimal, for logs and explanations.
    public static func short(_ count: UInt64) -> String {
        let units: [(String, Double)] = [("TiB", 1_099_511_627_776), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
        for (unit, scale) in units where Double(count) >= scale {
            let value = Double(count) / scale
            let text = value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
            return text + unit
        }
        return "\(count)B"
    }
}

import Foundation
