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
