/// One member of a VSS validation group as the app's validate-group call finds it.
public enum CrynuxGroupMember: Sendable, Hashable {
    /// ScoreReady with this score.
    case score([UInt8])
    /// ErrorReported.
    case error
    /// Already EndAborted (e.g. timed out).
    case aborted
}

/// What group validation makes of one member (status, and the abort reason when EndAborted).
public struct CrynuxGroupResult: Sendable, Hashable, CustomStringConvertible {
    public var status: CrynuxTaskStatus
    public var abortReason: CrynuxAbortReason
    public init(_ status: CrynuxTaskStatus, _ abortReason: CrynuxAbortReason = .none) {
        self.status = status
        self.abortReason = abortReason
    }
    public var description: String { abortReason == .none ? "\(status)" : "\(status)(\(abortReason))" }
}

/// VSS group validation outcomes (spec 1.3), as the relay's `ValidateTaskGroup` decides them.
public enum CrynuxGroupValidation {
    /// Results for `members`, which must already be ordered fastest execution first (relay) or
    /// creation order (legacy). `matches` compares two scores (pHash threshold for SD, equality
    /// for LLM). A member already aborted keeps its own reason (`.none` here = unchanged).
    public static func outcome(_ members: [CrynuxGroupMember], matches: ([UInt8], [UInt8]) -> Bool) -> [CrynuxGroupResult] {
        var next = [CrynuxTaskStatus](repeating: .endAborted, count: members.count)
        let finished = members.indices.filter { members[$0] != .aborted }
        func same(_ a: Int, _ b: Int) -> Bool {
            switch (members[a], members[b]) {
            case let (.score(x), .score(y)): matches(x, y)
            case (.error, .error): true
            default: false
            }
        }
        func isScore(_ i: Int) -> Bool { if case .score = members[i] { return true } else { return false } }
        if finished.count == 2 {
            let (a, b) = (finished[0], finished[1])
            if same(a, b), isScore(a) {
                next[a] = .groupValidated
                next[b] = .endGroupRefund
            }
        } else if finished.count == 3 {
            let (a, b, c) = (finished[0], finished[1], finished[2])
            if same(a, b) {
                if isScore(a) { next[a] = .groupValidated; next[b] = .endGroupRefund }
                next[c] = same(a, c) ? .endGroupRefund : .endInvalidated
            } else if same(a, c) {
                if isScore(a) { next[a] = .groupValidated; next[c] = .endGroupRefund }
                next[b] = .endInvalidated
            } else if same(b, c) {
                if isScore(b) { next[b] = .groupValidated; next[c] = .endGroupRefund }
                next[a] = .endInvalidated
            }
        }
        return members.indices.map { i in
            guard next[i] == .endAborted else { return CrynuxGroupResult(next[i]) }
            if members[i] == .aborted { return CrynuxGroupResult(.endAborted) }
            return CrynuxGroupResult(.endAborted, finished.count < 2 ? .groupTimeout : .incorrectResult)
        }
    }

    /// Score comparison (spec 3.4): SD kinds by per-8-byte-block Hamming distance below
    /// `distanceThreshold`, LLM by exact equality.
    public static func scoresMatch(_ a: [UInt8], _ b: [UInt8], type: CrynuxTaskType, distanceThreshold: Int) -> Bool {
        guard type.isImage else { return a == b }
        guard a.count == b.count, a.count % 8 == 0 else { return false }
        for block in stride(from: 0, to: a.count, by: 8) {
            var d = 0
            for i in block..<block + 8 { d += (a[i] ^ b[i]).nonzeroBitCount }
            if d >= distanceThreshold { return false }
        }
        return true
    }
}
