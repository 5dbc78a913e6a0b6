import Actors
import Foundation
import Scheduler

// sealer: a sealing scheduler daemon for Filecoin boxes, wire-compatible with damocles-manager.

let usage = """
usage: sealer <command> [options]

commands:
  daemon -c FILE                 run the sealing daemon (logs on stderr)
  config check -c FILE           print the effective config (defaults resolved) or its errors; --resolve: as on this box
  worker ... list|pause|resume   manage a running daemon (see 'sealer worker --help')
  manager mock [--listen H:P]    serve a mock damocles-manager (see 'sealer manager --help')
  util worker list|info|pause|resume|remove   the manager's boxes, as damocles-manager's 'util worker'
  history -l LOCATION            print a thread's per-sector history
  bench [--threads N]            measure transitions/s, idle CPU and RSS, pause latency
  processor <stage>              run as an external processor child (damocles' protocol)
  hwinfo [--sysfs-root DIR]      print the box as the resource pools see it (--json, --hwloc FILE)
  simulate --workload W.toml     sectors/day of the admission policy in virtual time vs the bound
  proofs check [-c FILE]         proof parameter files the sector sizes need, and the filecoin-ffi library
  relay mock [--listen H:P]      serve a mock Crynux relay (see 'sealer relay --help')
  crynux executor --mock         the mock Crynux inference executor child (JSON lines)
  health [-c FILE]               ask a running daemon's /healthz (exit 0 healthy, 1 not)
  top [-c CFG | -H HOST:PORT]    live view of a running daemon: pools, threads, last transitions
  version                        print the version

exit status: 0 done, 1 failed (see stderr), 2 a mistake in the command line.
config file: -c, else $SEALER_CONFIG, else $DAMOCLES_WORKER_CONFIG.
"""

/// Runs `body` on the concurrency runtime and exits with its status.
func runAsync(_ body: @escaping @Sendable () async -> Int32) -> Never {
    let box = ExitStatus()
    let done = DispatchSemaphore(value: 0)
    Task {
        box.set(await body())
        done.signal()
    }
    done.wait()
    exit(box.get())
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let command = arguments.first else {
    exit(usageFailure("missing command", usage: usage))
}
let rest = Array(arguments.dropFirst())
// The long-running commands take their signals with sigwait: block them before any thread
// exists, so every thread inherits the block and no signal is lost or kills the process early.
if command == "daemon" {
    SignalStream.block([SIGTERM, SIGINT, SIGUSR1, SIGUSR2, SIGHUP, SIGQUIT])
} else if command == "manager" || command == "relay" {
    SignalStream.block([SIGTERM, SIGINT])
}
switch command {
case "daemon":
    runAsync { await DaemonCommand.run(rest) }
case "config":
    exit(ConfigCommand.run(rest))
case "worker":
    runAsync { await WorkerCommand.run(rest) }
case "manager":
    runAsync { await ManagerCommand.run(rest) }
case "util":
    runAsync { await UtilCommand.run(rest) }
case "history":
    exit(HistoryCommand.run(rest))
case "processor":
    exit(ProcessorCommand.run(rest))
case "hwinfo":
    exit(HwinfoCommand.run(rest))
case "simulate":
    exit(SimulateCommand.run(rest))
case "proofs":
    exit(ProofsCommand.run(rest))
case "relay":
    runAsync { await RelayCommand.run(rest) }
case "crynux":
    exit(CrynuxCommand.run(rest))
case "health":
    runAsync { await HealthCommand.run(rest) }
case "top":
    runAsync { await TopCommand.run(rest) }
case "bench":
    runAsync { await BenchCommand.run(rest) }
case "version", "--version":
    exit(VersionCommand.run(rest))
case "help", "--help", "-h":
    print(usage)
default:
    exit(usageFailure("unknown command '\(command)'", usage: usage))
}
