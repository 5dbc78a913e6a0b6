import Foundation

#if canImport(Glibc)
import Glibc
#endif

extension Thread {
    /// Starts `body` on a new thread that `top -H`, gdb and `/proc` show as `name` (its first 15
    /// bytes, all Linux keeps). Foundation's `name` set before `start()` never reaches the kernel
    /// on Linux, so the thread names itself first thing.
    public static func start(named name: String, stackSize: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        let thread = Thread {
            nameCurrentThread(name)
            body()
        }
        if let stackSize { thread.stackSize = stackSize }
        thread.start()
    }

    /// Gives the calling thread `name` in `/proc/thread-self/comm`; a failure (no /proc) leaves
    /// the name it had, which is only a loss of a label.
    public static func nameCurrentThread(_ name: String) {
        #if os(Linux)
        let bytes = Array(name.utf8.prefix(15))
        let fd = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        #endif
    }
}
