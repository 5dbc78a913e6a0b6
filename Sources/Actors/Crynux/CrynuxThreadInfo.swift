/// What `worker list` and the node API show of a Crynux thread.
public struct CrynuxThreadInfo: Sendable, Hashable, Codable {
    public var index: Int
    public var node: String
    public var taskID: String?
    public var relayStatus: String?
    public var localAction: String
    public var nodeStatus: String?
    public var executions: Int
    public var lastError: String?
}
