@testable import Actors
import ProofsFFI
import TestSupport
import Testing

@Suite("WaitQueue")
struct WaitQueueTests {
    @Test("waiters are served first in, first out")
    func fifo() async {
        let queue = WaitQueue<Int, Int>()
        let tickets = (0..<3).map { queue.enqueue($0) }
        #expect(queue.line.map(\.tag) == [0, 1, 2])
        for (i, ticket) in tickets.enumerated() { #expect(queue.deliver(ticket, i * 10)) }
        for (i, ticket) in tickets.enumerated() { #expect(await queue.wait(ticket) == i * 10) }
        #expect(queue.count == 0)
    }

    @Test("cancellation is synchronous: the ticket leaves the line at once and its waiter gets nil")
    func cancelIsSynchronous() async {
        let queue = WaitQueue<Void, Int>()
        let ticket = queue.enqueue(())
        let waiter = Task { await queue.wait(ticket) }
        #expect(queue.cancel(ticket))
        #expect(queue.count == 0, "gone before any task ran")
        #expect(!queue.deliver(ticket, 1), "a cancelled ticket is never handed a value")
        #expect(await waiter.value == nil)
    }

    @Test("a value handed over before the cancellation stays with the waiter")
    func deliveryWinsOverLaterCancel() async {
        let queue = WaitQueue<Void, Int>()
        let ticket = queue.enqueue(())
        #expect(queue.deliver(ticket, 7))
        #expect(!queue.cancel(ticket), "already served")
        #expect(await queue.wait(ticket) == 7)
    }

    @Test("cancelling the waiting task cancels its ticket")
    func taskCancellation() async throws {
        let queue = WaitQueue<Void, Int>()
        let ticket = queue.enqueue(())
        let waiter = Task { await queue.wait(ticket) }
        waiter.cancel()
        #expect(await waiter.value == nil)
        #expect(queue.count == 0)
    }

    @Test("racing deliveries and cancellations: every value is received exactly once or stays with the deliverer")
    func racingDeliveryAndCancel() async {
        let queue = WaitQueue<Int, Int>()
        var rng = SplitMix64(seed: 5)
        let tickets = (0..<500).map { queue.enqueue($0) }
        let waiters = tickets.map { ticket in Task { await queue.wait(ticket) } }
        let plan = tickets.map { ($0, rng.next() % 2 == 0) }
        let delivered = await withTaskGroup(of: Int.self) { group in
            for chunk in stride(from: 0, to: plan.count, by: 50) {
                let slice = Array(plan[chunk..<min(chunk + 50, plan.count)])
                group.addTask {
                    var count = 0
                    for (ticket, deliverFirst) in slice {
                        if deliverFirst {
                            if queue.deliver(ticket, Int(ticket.id)) { count += 1 }
                            queue.cancel(ticket)
                        } else {
                            queue.cancel(ticket)
                            if queue.deliver(ticket, Int(ticket.id)) { count += 1 }
                        }
                    }
                    return count
                }
            }
            return await group.reduce(0, +)
        }
        var received = 0
        for (i, waiter) in waiters.enumerated() {
            if let value = await waiter.value {
                #expect(value == Int(tickets[i].id))
                received += 1
            }
        }
        #expect(received == delivered)
        #expect(received == plan.filter(\.1).count, "deliver-then-cancel keeps the value; cancel-then-deliver refuses it")
        #expect(queue.count == 0)
    }
}

@Suite("ThreadController waits")
struct ThreadControllerTests {
    @Test("a wait that starts with a pause already pending ends at once and leaves the line")
    func pausePendingAtStart() async {
        let controller = ThreadController()
        let queue = WaitQueue<Void, Int>()
        #expect(controller.requestPause() == .requested)
        let ticket = queue.enqueue(())
        #expect(await controller.wait(on: queue, ticket) == nil)
        #expect(queue.count == 0)
        #expect(throws: StepError.self) { try controller.checkpoint() }
    }

    @Test("a pause ends the wait in progress; a second pause changes nothing")
    func pauseEndsWait() async throws {
        let controller = ThreadController()
        let queue = WaitQueue<Void, Int>()
        let ticket = queue.enqueue(())
        let waiter = Task { await controller.wait(on: queue, ticket) }
        try await eventually("waiting") { queue.count == 1 }
        #expect(controller.requestPause() == .requested)
        #expect(await waiter.value == nil)
        #expect(controller.requestPause() == .alreadyRequested)
        #expect(controller.markParked(force: false))
        #expect(controller.requestPause() == .alreadyPaused)
    }

    @Test("a pause ends a sleep on any clock; a resume wakes the parked thread with its target")
    func sleepAndPark() async throws {
        let controller = ThreadController()
        let sleeper = Task { await controller.sleep(for: .seconds(3600), on: ContinuousClock()) }
        try await eventually("sleeping") { controller.activity == .idle }
        _ = controller.requestPause()
        #expect(await sleeper.value == false)
        #expect(controller.markParked(force: false))
        let parked = Task { await controller.waitForResume() }
        #expect(controller.requestResume(target: .allocated).isSuccess)
        let taken = await parked.value
        #expect(taken?.target == .allocated && taken?.pauseAgain == false)
        #expect(controller.control == .running)
    }
}

extension Result {
    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}
