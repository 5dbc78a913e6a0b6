import Testing
@testable import Scheduler

@Suite("Command-line parsing")
struct CommandLineTests {
    let spec = OptionSpec(command: "sealer worker", options: [
        .init(["--host", "-H"], value: true, help: ""),
        .init(["--json"], value: false, help: ""),
        .init(["--index", "-i"], value: true, help: ""),
    ], maxPositionals: 1)

    @Test("values, switches, aliases, --name=value and positionals")
    func parses() throws {
        let p = try spec.parse(["-H", "10.0.0.1:17890", "list", "--json", "--index=3"])
        #expect(p.value("--host") == "10.0.0.1:17890")
        #expect(p.has("--json"))
        #expect(try p.int("--index") == 3)
        #expect(p.positionals == ["list"])
    }

    @Test("mistakes are named", arguments: [
        (["--bogus"], "unknown option '--bogus' for 'sealer worker' (see 'sealer worker --help')"),
        (["-i"], "option -i needs a value"),
        (["--json=1"], "option --json takes no value"),
        (["list", "extra"], "unexpected argument 'extra' for 'sealer worker'"),
    ])
    func errors(args: [String], message: String) {
        #expect(throws: UsageError(message)) { try spec.parse(args) }
    }

    @Test("an option followed by another of the command's options has no value")
    func valueIsAnotherOption() throws {
        #expect(throws: UsageError("option -H needs a value")) { try spec.parse(["-H", "--json", "list"]) }
        #expect(throws: UsageError("option --host needs a value")) { try spec.parse(["--host", "--index=2"]) }
        // A value that only looks like an option is still a value.
        #expect(try spec.parse(["-i", "-1"]).value("--index") == "-1")
    }

    @Test("a command that takes no arguments says so")
    func noPositionals() {
        let daemon = OptionSpec(command: "sealer daemon", options: [.init(["--config", "-c"], value: true, help: "")])
        #expect(throws: UsageError("unexpected argument 'x.toml' for 'sealer daemon' (it takes options only)")) { try daemon.parse(["x.toml"]) }
    }

    @Test("a flag wins over the environment; ours wins over damocles'; empty variables count as unset")
    func settingPrecedence() throws {
        let env = ["SEALER_CONFIG": "/ours.toml", "DAMOCLES_WORKER_CONFIG": "/damocles.toml"]
        let configSpec = OptionSpec(command: "sealer daemon", options: [.init(["--config", "-c"], value: true, help: "")])
        let flag = try configSpec.parse(["-c", "/flag.toml"])
        #expect(flag.setting("--config", orEnvironment: EnvironmentVariables.config, env) == Setting("/flag.toml", from: "--config"))
        let none = try configSpec.parse([])
        #expect(none.setting("--config", orEnvironment: EnvironmentVariables.config, env) == Setting("/ours.toml", from: "$SEALER_CONFIG"))
        #expect(none.setting("--config", orEnvironment: EnvironmentVariables.config, ["SEALER_CONFIG": "", "DAMOCLES_WORKER_CONFIG": "/d.toml"])
            == Setting("/d.toml", from: "$DAMOCLES_WORKER_CONFIG"))
        #expect(none.setting("--config", orEnvironment: EnvironmentVariables.config, [:]) == nil)
    }

    @Test("worker's daemon: flags, then SEALER_*, then DAMOCLES_WORKER_*, then the default; a config beats a host at each level",
          arguments: [
              (nil, nil, [String: String](), ManagementTarget.host(Setting("127.0.0.1:17890", from: "the default"))),
              ("/c.toml", "h:1", ["SEALER_CONFIG": "/s.toml"], .config(Setting("/c.toml", from: "--config"))),
              (nil, "h:1", ["SEALER_CONFIG": "/s.toml", "DAMOCLES_WORKER_CONFIG": "/d.toml"], .host(Setting("h:1", from: "--host"))),
              (nil, nil, ["SEALER_CONFIG": "/s.toml", "SEALER_WORKER_HOST": "h:2"], .config(Setting("/s.toml", from: "$SEALER_CONFIG"))),
              (nil, nil, ["SEALER_WORKER_HOST": "h:2", "DAMOCLES_WORKER_CONFIG": "/d.toml"], .host(Setting("h:2", from: "$SEALER_WORKER_HOST"))),
              (nil, nil, ["DAMOCLES_WORKER_CONFIG": "/d.toml", "DAMOCLES_WORKER_HOST": "h:3"], .config(Setting("/d.toml", from: "$DAMOCLES_WORKER_CONFIG"))),
              (nil, nil, ["DAMOCLES_WORKER_HOST": "h:3"], .host(Setting("h:3", from: "$DAMOCLES_WORKER_HOST"))),
          ] as [(String?, String?, [String: String], ManagementTarget)])
    func managementTarget(config: String?, host: String?, env: [String: String], expected: ManagementTarget) {
        #expect(ManagementTarget.choose(config: config, host: host, environment: env) == expected)
    }

    @Test("HOST:PORT is split; a bad one is named with where it came from")
    func hostPort() throws {
        #expect(try ManagementTarget.hostPort(Setting("10.0.0.2:17890", from: "--host")) == ("10.0.0.2", 17890))
        #expect(try ManagementTarget.hostPort(Setting("[::1]:17890", from: "--host")) == ("::1", 17890))
        #expect(throws: UsageError("$DAMOCLES_WORKER_HOST expects HOST:PORT, got 'box'")) {
            try ManagementTarget.hostPort(Setting("box", from: "$DAMOCLES_WORKER_HOST"))
        }
        #expect(throws: UsageError("--host expects HOST:PORT, got ':17890'")) { try ManagementTarget.hostPort(Setting(":17890", from: "--host")) }
        #expect(throws: UsageError("--host expects HOST:PORT, got 'h:99999'")) { try ManagementTarget.hostPort(Setting("h:99999", from: "--host")) }
    }

    @Test("a non-integer index is reported with the option's name")
    func badInt() throws {
        let p = try spec.parse(["-i", "two"])
        #expect(throws: UsageError("--index expects an integer, got 'two'")) { try p.int("--index") }
    }

    @Test("resume targets are validated per plan")
    func resumeTargets() {
        #expect(Plan.sealer.resumeTarget(named: "treedbuilt") == .success(.treeDBuilt))
        #expect(Plan.sealer.resumeTarget(named: "Aborted") == .success(.aborted))
        guard case let .failure(error) = Plan.snapup.resumeTarget(named: "PC1Done") else {
            Issue.record("PC1Done is not a snapup state")
            return
        }
        #expect(error.description == "'PC1Done' is not a state of plan snapup; valid states: Empty, Allocated, PieceAdded, TreeDBuilt, Persisted, Finished, Aborted, SnapEncoded, SnapProved")
    }
}
