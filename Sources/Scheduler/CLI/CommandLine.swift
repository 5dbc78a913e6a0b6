/// A command-line mistake, worded for the person who typed it.
public struct UsageError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
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
                    guard i < arguments.count else { throw UsageError("option \(name) needs a value") }
                    result.values[canonical] = arguments[i]
                    i += 1
                }
            } else {
                if inline != nil { throw UsageError("option \(name) takes no value") }
                result.flags.insert(canonical)
            }
        }
        if result.positionals.count > maxPositionals {
            throw UsageError("unexpected argument '\(result.positionals[maxPositionals])' for '\(command)'")
        }
        return result
    }
}
