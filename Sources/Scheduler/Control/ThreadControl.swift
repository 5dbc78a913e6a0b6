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
    /// Parked at a sector boundary after a drain: it finished its sector and takes no new one.
    case drained

    public var description: String {
        switch self {
        case .running: "running"
        case .pauseRequested: "pause requested"
        case .paused: "paused"
        case let .resuming(target, thenPause):
            "resuming" + (target.map { " from \($0)" } ?? "") + (thenPause ? " (pause pending)" : "")
        case .drained: "drained"
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

/// What a drain request did.
public enum DrainOutcome: Sendable, Hashable {
    /// Registered: the thread finishes its current sector (or job) and takes no new one.
    case requested
    case alreadyDraining
    case alreadyDrained
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
    /// A drain is pending: at its next sector boundary the thread parks as drained. Orthogonal to
    /// pauses (a paused thread can be asked to drain); any accepted resume withdraws it.
    public private(set) var draining = false

    public init(_ state: ControlState = .running, draining: Bool = false) {
        self.state = state
        self.draining = draining
    }

    /// True when a checkpoint must stop the thread's current step.
    public var parkRequested: Bool {
        switch state {
        case .pauseRequested, .paused, .drained: true
        case .running, .resuming: false
        }
    }

    /// An operator's drain (`worker drain`, SIGQUIT): the current sector is finished, no new one
    /// is taken. It never interrupts a wait.
    public mutating func requestDrain() -> DrainOutcome {
        if state == .drained { return .alreadyDrained }
        if draining { return .alreadyDraining }
        draining = true
        return .requested
    }

    /// The thread is at a sector boundary: with a drain pending it parks as drained (true).
    public mutating func drainAtBoundary() -> Bool {
        guard draining, state == .running else { return false }
        state = .drained
        return true
    }

    /// An operator's (or signal's) pause.
    public mutating func requestPause() -> PauseOutcome {
        switch state {
        case .drained:
            return .alreadyPaused
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
    /// A resume also undoes a drain (damocles #301's `resume`).
    public mutating func requestResume(target: SectorState?) -> Result<Void, ResumeRefusal> {
        switch state {
        case .running:
            guard draining, target == nil else { return .failure(.notPaused) }
            draining = false
            return .success(())
        case .resuming:
            return .failure(.alreadyResuming)
        case .pauseRequested:
            guard target == nil else { return .failure(.pausePending) }
            state = .running
            draining = false
            return .success(())
        case .paused, .drained:
            state = .resuming(target: target, thenPause: false)
            draining = false
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
        case .resuming, .drained:
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
