import Foundation

/// A model a Crynux task names (spec 2.4): `base:<hf-id>[+variant]`, `lora:<id>` or
/// `controlnet:<id>`. The node keeps each under `model_dir/<kind>/<escaped id>`, so the ids on
/// disk can be read back for the relay's base-model gate (spec 3.2).
public struct CrynuxModelID: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable { case base, lora, controlnet }
    public var kind: Kind
    /// The id after the prefix (a Hugging Face id, perhaps with `+variant`, or a URL for LoRA).
    public var name: String

    public init(kind: Kind, name: String) {
        self.kind = kind
        self.name = name
    }

    /// Parses `kind:name`; a missing or unknown kind, or an empty name, is refused with the text.
    public init(parsing text: String) throws(CrynuxModelIDError) {
        guard let colon = text.firstIndex(of: ":"), let kind = Kind(rawValue: String(text[..<colon])) else {
            throw CrynuxModelIDError(text: text, reason: "no known kind prefix (\(Kind.allCases.map { $0.rawValue + ":" }.joined(separator: ", ")))")
        }
        let name = String(text[text.index(after: colon)...])
        guard !name.isEmpty else { throw CrynuxModelIDError(text: text, reason: "empty model id") }
        self.init(kind: kind, name: name)
    }

    public var description: String { "\(kind.rawValue):\(name)" }

    /// The path under `model_dir`: the kind's folder, then the id with every byte outside
    /// `[A-Za-z0-9._+-]` percent-escaped (so `/` never nests and the id reads back exactly).
    public var relativePath: String { kind.rawValue + "/" + Self.escape(name) }

    /// The id stored at `kind/<entry>`; nil when the entry is not an escaped id.
    public static func fromDisk(kind: Kind, entry: String) -> CrynuxModelID? {
        guard !entry.hasPrefix("."), let name = entry.removingPercentEncoding, !name.isEmpty, escape(name) == entry else { return nil }
        return CrynuxModelID(kind: kind, name: name)
    }

    static func escape(_ name: String) -> String {
        var out = ""
        for byte in name.utf8 {
            let c = Character(UnicodeScalar(byte))
            if byte < 0x80, c.isLetter || c.isNumber || "._+-".contains(c) { out.append(c) } else { out += String(format: "%%%02X", byte) }
        }
        return out
    }
}

/// A model id that does not parse, with the text and why.
public struct CrynuxModelIDError: Error, Sendable, Hashable, CustomStringConvertible {
    public var text: String
    public var reason: String
    public var description: String { "model id \"\(text)\": \(reason)" }
}
