import Dispatch

/// Runs blocking work (fsync, rename) on a Dispatch thread instead of the cooperative pool,
/// so a burst of durable writes cannot starve the actors that answer pause requests and RPCs.
func offload<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
    let result: Result<T, E> = await withCheckedContinuation { continuation in
        DispatchQueue.global(qos: .userInitiated).async {
            do throws(E) {
                continuation.resume(returning: .success(try body()))
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
    }
    return try result.get()
}
