/// What a node does about an execution failure (spec 2.5): report only provably invalid
/// arguments, stay silent on everything else, never abort (the relay owns the clock).
public enum CrynuxErrorPolicy {
    /// The protocol write for `outcome`: `.reportError` only for `.taskInvalid`; else none
    /// (the row closes locally and the relay's timeout ends the task).
    public static func protocolAction(for outcome: CrynuxExecutionOutcome) -> CrynuxAction {
        switch outcome {
        case .taskInvalid: .reportError
        case .failed, .cancelled: .closeAborted
        }
    }

    /// Whether the node itself may call abort in `mode`: never on the current relay; the
    /// legacy on-chain flow let the selected node abort after start + timeout (+5 s grace).
    public static func nodeMayAbort(mode: CrynuxFlowMode, now: Double, start: Double, timeout: Double) -> Bool {
        mode == .legacy && now >= start + timeout + 5
    }
}
