import Actors
import Foundation

/// `sealer crynux executor --mock`: one inference request on stdin, deterministic results.
enum CrynuxCommand {
    static let usage = "usage: sealer crynux executor --mock   (reads one JSON request line on stdin)"

    static func run(_ args: [String]) -> Int32 {
        guard args == ["executor", "--mock"] else { return usageFailure("expected 'crynux executor --mock'", usage: usage) }
        let line = readLine() ?? ""
        let answer = MockInference.runOnce(input: line, environment: ProcessInfo.processInfo.environment)
        print(answer.serializedString)
        return answer["result"]?.stringValue == "success" || answer["result"]?.stringValue == "invalid" ? 0 : 1
    }
}
