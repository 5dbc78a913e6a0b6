import Actors
import Foundation
import Scheduler

// How every subcommand ends: 0 done (and --help), 1 a runtime failure (`fail`, in
// WorkerCommand.swift), 2 a command-line mistake (`usageFailure`). Messages go to stderr;
// stdout carries only what a command was asked to print.

/// Writes `sealer: <message>` (and the command's synopsis, when given) to stderr and returns
/// `CommandExit.usage` (2).
func usageFailure(_ message: String, usage: String? = nil) -> Int32 {
    var text = "sealer: " + message + "\n"
    if let usage { text += usage + (usage.hasSuffix("\n") ? "" : "\n") }
    FileHandle.standardError.write(Data(text.utf8))
    return CommandExit.usage
}

/// `usageFailure` for a thrown `UsageError`.
func usageFailure(_ error: UsageError, usage: String? = nil) -> Int32 {
    usageFailure(error.message, usage: usage)
}

/// Parses `<command> mock [options]` (the manager and relay stand-ins): nil to go on with the
/// options, else the exit status (help printed, or a usage mistake named).
func parseMockCommand(_ args: [String], spec: OptionSpec, usage: String, command: String) -> (ParsedOptions?, Int32) {
    let parsed: ParsedOptions
    do { parsed = try spec.parse(args) } catch { return (nil, usageFailure(error, usage: usage)) }
    if parsed.has("--help") {
        print(usage + "\n\n" + spec.help)
        return (nil, 0)
    }
    switch parsed.positionals.first {
    case "mock"?: return (parsed, 0)
    case nil: return (nil, usageFailure("missing subcommand: \(command) mock", usage: usage))
    case let other?: return (nil, usageFailure("unknown \(command) subcommand '\(other)'", usage: usage))
    }
}

/// `sealer version`.
enum VersionCommand {
    static let spec = OptionSpec(command: "sealer version", options: [
        .init(["--help", "-h"], value: false, help: "show this help"),
    ])

    static func run(_ args: [String]) -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error) }
        if parsed.has("--help") {
            print("usage: sealer version\n\n" + spec.help)
            return CommandExit.success
        }
        print("sealer \(SealerVersion.string)")
        return CommandExit.success
    }
}

/// A command that was understood but could not be done (exit 1), worded for the operator.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
