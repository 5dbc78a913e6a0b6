/// Where a sealing thread stands with its operator: the one control state machine every pause
/// and resume (CLI, management RPC, signals, failures) goes through.
///
/// Pure value: the thread's controller changes it synchronously under one lock, so a command
/// registered at any instant is either seen by the next checkpoint or refused, never lost.
public enum ControlState: Sendable, Hashable, CustomStringConvertible {
    /// Working; checkpoints pass.
    case running
    /// A pause was asked for; the next checkpoint parks the thread.
    case pauseRequested
    /// Parked, waiting for an operator.
    case paused
    /// A resume was accepted and the parked thread is waking. `target` is the state it resumes
    /// from (`resume -s`); `thenPause` records a pause that arrived while it woke, so the thread
    /// applies the resume and parks again at its next checkpoint instead of losing the pause.
    case resuming(target: SectorState?, thenPause: Bool)

    public var description: String {
        switch self {
        case .running: "running"
        case .pauseRequested: "pause requested"
        case .paused: "paused"
        case let .resuming(target, thenPause):
            "resuming" + (target.map { " from \($0)" } ?? "") + (thenPause ? " (pause pending)" : "")
        }
    }
}

/// What a pause request did.
public enum PauseOutcome: Sendable, Hashable {
    /// Registered: the thread parks at its next checkpoint.
    case requested
    /// A pause was already pending; nothing changed.
    case alreadyRequested
    /// The thread was already paused; nothing changed.
    case alreadyPaused
}

/// Why a resume request was refused by the control state machine.
public enum ResumeRefusal: Error, Sendable, Hashable {
    /// The thread runs (and no pause is pending).
    case notPaused
    /// A resume is already being applied.
    case alreadyResuming
    /// A pause is pending but the thread has not parked yet; a resume with a target state must
    /// wait until it has (a plain resume simply withdraws the pause).
    case pausePending
}

/// The control state machine: transitions are total functions of the current state.
public struct ThreadControl: Sendable, Hashable {
    public private(set) var state: ControlState

    public init(_ state: ControlState = .running) { self.state = state }

    /// True when a checkpoint must stop the thread's current step.
    public var parkRequested: Bool {
        switch state {
        case .pauseRequested, .paused: true
        case .running, .resuming: false
        }
    }

    /// An operator's (or signal's) pause.
    public mutating func requestPause() -> PauseOutcome {
        switch state {
        case .running:
            state = .pauseRequested
            return .requested
        case .pauseRequested:
            return .alreadyRequested
        case .paused:
            return .alreadyPaused
        case let .resuming(target, thenPause):
            if thenPause { return .alreadyRequested }
            state = .resuming(target: target, thenPause: true)
            return .requested
        }
    }

    /// An operator's resume, optionally from `target`. A plain resume while a pause is still
    /// pending withdraws the pause.
    public mutating func requestResume(target: SectorState?) -> Result<Void, ResumeRefusal> {
        switch state {
        case .running:
            return .failure(.notPaused)
        case .resuming:
            return .failure(.alreadyResuming)
        case .pauseRequested:
            guard target == nil else { return .failure(.pausePending) }
            state = .running
            return .success(())
        case .paused:
            state = .resuming(target: target, thenPause: false)
            return .success(())
        }
    }

    /// The thread is about to park: after a pause request, or on its own (`force`: a failure, a
    /// pause kept across a restart). False when there is no reason left to park: a plain resume
    /// withdrew the pause in the meantime. A resume already accepted stays, to be taken at once.
    public mutating func park(force: Bool) -> Bool {
        switch state {
        case .pauseRequested, .paused:
            state = .paused
            return true
        case .running:
            if force { state = .paused }
            return force
        case .resuming:
            return true
        }
    }

    /// The woken thread takes the accepted resume: returns its target, and leaves the machine
    /// running, or pause-requested when a pause arrived while it woke. Nil when no resume was
    /// accepted (the thread stays parked).
    public mutating func takeResume() -> (target: SectorState?, pauseAgain: Bool)? {
        guard case let .resuming(target, thenPause) = state else { return nil }
        state = thenPause ? .pauseRequested : .running
        return (target, thenPause)
    }

    /// Applying an accepted resume failed (the state could not be written, the location is still
    /// locked): the thread stays parked.
    public mutating func resumeFailed() {
        state = .paused
    }
}
