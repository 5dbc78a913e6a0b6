/// A command-line mistake, worded for the person who typed it: an unknown option or
/// subcommand, a missing option value or required argument, a value of the wrong form.
/// Every sealer command exits with `CommandExit.usage` (2) for one.
public struct UsageError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The exit statuses every sealer command uses.
public enum CommandExit {
    /// Done (also for `--help`).
    public static let success: Int32 = 0
    /// The command was understood but failed: an invalid config, an unreachable daemon, a
    /// missing file, a daemon that stopped on an error.
    public static let failure: Int32 = 1
    /// The command line itself is wrong (a `UsageError`); nothing was done.
    public static let usage: Int32 = 2
}

/// The options one (sub)command accepts: flags that take a value, and boolean switches.
public struct OptionSpec: Sendable {
    public struct Option: Sendable {
        public var names: [String]
        public var takesValue: Bool
        public var help: String
        public init(_ names: [String], value: Bool, help: String) {
            self.names = names
            takesValue = value
            self.help = help
        }
    }

    public var command: String
    public var options: [Option]
    public var maxPositionals: Int

    public init(command: String, options: [Option], maxPositionals: Int = 0) {
        self.command = command
        self.options = options
        self.maxPositionals = maxPositionals
    }

    /// Usage lines for `--help`.
    public var help: String {
        options.map { option in
            let names = option.names.joined(separator: ", ") + (option.takesValue ? " VALUE" : "")
            return "  " + names.padding(toLength: 30, withPad: " ", startingAt: 0) + option.help
        }.joined(separator: "\n")
    }
}

/// Parsed options: values by canonical (first) name, switches, positionals.
public struct ParsedOptions: Sendable, Hashable {
    public var values: [String: String] = [:]
    public var flags: Set<String> = []
    public var positionals: [String] = []

    public func value(_ name: String) -> String? { values[name] }
    public func has(_ name: String) -> Bool { flags.contains(name) }

    /// An integer option, with an error naming the option when it is not one.
    public func int(_ name: String) throws(UsageError) -> Int? {
        guard let text = values[name] else { return nil }
        guard let n = Int(text) else { throw UsageError("\(name) expects an integer, got '\(text)'") }
        return n
    }

    public func double(_ name: String) throws(UsageError) -> Double? {
        guard let text = values[name] else { return nil }
        guard let n = Double(text) else { throw UsageError("\(name) expects a number, got '\(text)'") }
        return n
    }

    public func required(_ name: String) throws(UsageError) -> String {
        guard let text = values[name] else { throw UsageError("missing required option \(name)") }
        return text
    }
}

extension OptionSpec {
    /// Parses `arguments` (after the command words). Accepts `--name value`, `--name=value`,
    /// `-n value`; `--` ends options.
    public func parse(_ arguments: [String]) throws(UsageError) -> ParsedOptions {
        var result = ParsedOptions()
        var i = 0
        var optionsEnded = false
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if optionsEnded || !arg.hasPrefix("-") || arg == "-" {
                result.positionals.append(arg)
                continue
            }
            if arg == "--" {
                optionsEnded = true
                continue
            }
            var name = arg
            var inline: String?
            if arg.hasPrefix("--"), let eq = arg.firstIndex(of: "=") {
                name = String(arg[..<eq])
                inline = String(arg[arg.index(after: eq)...])
            }
            guard let option = options.first(where: { $0.names.contains(name) }) else {
                throw UsageError("unknown option '\(name)' for '\(command)' (see '\(command) --help')")
            }
            let canonical = option.names[0]
            if option.takesValue {
                if let inline {
                    result.values[canonical] = inline
                } else {
                    // `-c --json`: the next word is one of our options, not this one's value.
                    guard i < arguments.count, !isOption(arguments[i]) else { throw UsageError("option \(name) needs a value") }
                    result.values[canonical] = arguments[i]
                    i += 1
                }
            } else {
                if inline != nil { throw UsageError("option \(name) takes no value") }
                result.flags.insert(canonical)
            }
        }
        if result.positionals.count > maxPositionals {
            if maxPositionals == 0 { throw UsageError("unexpected argument '\(result.positionals[0])' for '\(command)' (it takes options only)") }
            throw UsageError("unexpected argument '\(result.positionals[maxPositionals])' for '\(command)'")
        }
        return result
    }
}

extension OptionSpec {
    /// Whether `word` is one of this command's option names (`--json`, `--host=...`).
    func isOption(_ word: String) -> Bool {
        let name = word.hasPrefix("--") ? String(word.prefix { $0 != "=" }) : word
        return options.contains { $0.names.contains(name) }
    }
}

/// A setting's value and where it came from (`--config`, `$SEALER_CONFIG`), so a message about
/// a bad value can say where to fix it.
public struct Setting: Sendable, Hashable, CustomStringConvertible {
    public var value: String
    /// The option as typed in the spec (`--config`) or the variable (`$DAMOCLES_WORKER_CONFIG`).
    public var source: String
    public init(_ value: String, from source: String) {
        self.value = value
        self.source = source
    }
    public var description: String { "\(value) (from \(source))" }
}

/// The environment variables sealer reads beside its flags: ours first, then damocles-worker's
/// (`damocles-worker daemon|worker -c` reads `DAMOCLES_WORKER_CONFIG`, `worker -H` reads
/// `DAMOCLES_WORKER_HOST`), so a box set up for damocles-worker needs no new variables.
public enum EnvironmentVariables {
    /// The config file of `daemon`, `config check` and `worker`.
    public static let config = ["SEALER_CONFIG", "DAMOCLES_WORKER_CONFIG"]
    /// The management address (`HOST:PORT`) `worker` connects to.
    public static let workerHost = ["SEALER_WORKER_HOST", "DAMOCLES_WORKER_HOST"]
    /// The management API's bearer token (ours only: damocles' API has none).
    public static let rpcToken = ["SEALER_RPC_TOKEN"]

    /// `$A, then $B`, for help texts.
    public static func named(_ variables: [String]) -> String {
        variables.map { "$" + $0 }.joined(separator: ", then ")
    }

    /// `$A or $B`, for messages asking for one of them.
    public static func either(_ variables: [String]) -> String {
        variables.map { "$" + $0 }.joined(separator: " or ")
    }
}

extension ParsedOptions {
    /// The option's value when given, else the first of `variables` set to a non-empty value
    /// in `environment` (an empty variable counts as unset, as in clap).
    public func setting(_ name: String, orEnvironment variables: [String], _ environment: [String: String]) -> Setting? {
        if let value = values[name] { return Setting(value, from: name) }
        return Self.fromEnvironment(variables, environment)
    }

    /// The first of `variables` set to a non-empty value in `environment`.
    public static func fromEnvironment(_ variables: [String], _ environment: [String: String]) -> Setting? {
        for variable in variables {
            if let value = environment[variable], !value.isEmpty { return Setting(value, from: "$" + variable) }
        }
        return nil
    }
}

/// Which daemon `sealer worker` talks to.
public enum ManagementTarget: Sendable, Hashable {
    /// The `[worker] rpc_server` (and token) of this config file.
    case config(Setting)
    /// This `HOST:PORT`.
    case host(Setting)

    /// damocles-worker's default management address.
    public static let defaultHost = "127.0.0.1:17890"

    /// Flags first (`--config`, then `--host`), then ours (`$SEALER_CONFIG`, then
    /// `$SEALER_WORKER_HOST`), then damocles-worker's (`$DAMOCLES_WORKER_CONFIG`, then
    /// `$DAMOCLES_WORKER_HOST`), then 127.0.0.1:17890. At each level a config wins over a host,
    /// as in damocles-worker.
    public static func choose(config: String?, host: String?, environment: [String: String]) -> ManagementTarget {
        if let config { return .config(Setting(config, from: "--config")) }
        if let host { return .host(Setting(host, from: "--host")) }
        for (configVariable, hostVariable) in zip(EnvironmentVariables.config, EnvironmentVariables.workerHost) {
            if let found = ParsedOptions.fromEnvironment([configVariable], environment) { return .config(found) }
            if let found = ParsedOptions.fromEnvironment([hostVariable], environment) { return .host(found) }
        }
        return .host(Setting(defaultHost, from: "the default"))
    }

    /// `HOST:PORT` split, with an error naming where the text came from.
    public static func hostPort(_ setting: Setting) throws(UsageError) -> (host: String, port: UInt16) {
        let text = setting.value
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]), colon > text.startIndex else {
            throw UsageError("\(setting.source) expects HOST:PORT, got '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }
}
