import Dispatch
import Foundation
import Synchronization

/// A task executor with one thread of its own for one stage run, for a prover whose calls block
/// (filecoin-ffi) when no lease pins the work to cores: the computation never holds a thread of
/// the cooperative pool, which the actors answering pauses and RPCs run on. `finish()` ends the
/// thread once the stage is done.
final class DedicatedExecutor: TaskExecutor {
    private let jobs = Mutex<(queue: [UnownedJob], finished: Bool)>(([], false))
    private let wake = DispatchSemaphore(value: 0)

    init(name: String) {
        Thread.start(named: name) { [self] in run() }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        jobs.withLock { $0.queue.append(job) }
        wake.signal()
    }

    /// Lets the thread exit once the jobs already queued have run.
    func finish() {
        jobs.withLock { $0.finished = true }
        wake.signal()
    }

    private func run() {
        while true {
            wake.wait()
            let (job, done) = jobs.withLock { s -> (UnownedJob?, Bool) in
                if !s.queue.isEmpty { return (s.queue.removeFirst(), false) }
                return (nil, s.finished)
            }
            if let job { job.runSynchronously(on: asUnownedTaskExecutor()) } else if done { return }
        }
    }
}
