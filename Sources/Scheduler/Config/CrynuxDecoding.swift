/// Decoding of `[crynux]` in the config decoder's style (issue 10).
extension ConfigDecoder {
    static func decodeCrynux(_ c: inout TableReader, _ log: inout DiagnosticLog) -> CrynuxSection {
        var s = CrynuxSection()
        if let url = c.string("relay_url", &log) {
            if url == "embedded" {
                s.relay = .embedded
            } else if url.hasPrefix("http://"), url.count > 7 {
                s.relay = .url(url)
            } else {
                log.error(c.keyPath("relay_url"), c.position("relay_url"), "invalid relay_url \"\(url)\" (an http:// URL, or \"embedded\" for the built-in relay mock)")
            }
        }
        if let key = c.string("node_key_file", &log) {
            if key.isEmpty { log.error(c.keyPath("node_key_file"), c.position("node_key_file"), "node_key_file is empty") } else { s.nodeKeyFile = key }
        } else if c.table["node_key_file"] == nil {
            log.error(c.keyPath("node_key_file"), c.table.origin, "missing: the file holding the node's private key (hex)")
        }
        if let gpus = c.array("gpus", &log) {
            s.gpus = gpus.compactMap { v in
                if case let .integer(n) = v, n >= 0, n < 1024 { return Int(n) }
                log.error(c.keyPath("gpus"), c.position("gpus"), "expected GPU indices (0, 1, ...), found \(TableReader.describe(v))")
                return nil
            }
        }
        s.gpuName = c.string("gpu_name", &log)
        s.platform = c.string("platform", &log) ?? s.platform
        if let t = c.int("distance_threshold", &log, range: 0...64) {
            s.distanceThreshold = Int(t)
            if t == 0 { log.warning(c.keyPath("distance_threshold"), c.position("distance_threshold"), "0 rejects every SD score comparison (spec 3.4); production uses e.g. 24") }
        }
        s.modelDir = c.string("model_dir", &log)
        if let exe = c.string("executor", &log), exe != "mock" {
            if exe.isEmpty { log.error(c.keyPath("executor"), c.position("executor"), "executor is empty (leave it out, or \"mock\", for the built-in mock)") } else { s.executor = exe }
        }
        s.executorArgs = c.strings("executor_args", &log) ?? []
        s.gpuShare = c.fraction("gpu_share", &log) ?? 0
        if let p = c.string("priority", &log) {
            if let value = CrynuxSection.Priority(rawValue: p) { s.priority = value } else {
                log.error(c.keyPath("priority"), c.position("priority"), "unknown priority \"\(p)\" (\(CrynuxSection.Priority.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
        }
        if var m = c.table("mock", &log) {
            if let mode = m.string("mode", &log) {
                if let value = CrynuxFlowMode(rawValue: mode) { s.mock.mode = value } else {
                    log.error(m.keyPath("mode"), m.position("mode"), "unknown mode \"\(mode)\" (relay or legacy)")
                }
            }
            s.mock.taskInterval = m.duration("task_interval", &log) ?? s.mock.taskInterval
            s.mock.taskCount = m.int("task_count", &log, range: 0...1_000_000_000).map(Int.init) ?? 0
            if let type = m.string("task_type", &log) {
                switch type {
                case "sd": s.mock.taskType = .sd
                case "llm": s.mock.taskType = .llm
                default: log.error(m.keyPath("task_type"), m.position("task_type"), "unknown task_type \"\(type)\" (sd or llm)")
                }
            }
            s.mock.outputs = m.int("outputs", &log, range: 1...64).map(Int.init) ?? s.mock.outputs
            s.mock.minVRAMGiB = m.int("min_vram", &log, range: 0...1024).map(Int.init) ?? s.mock.minVRAMGiB
            s.mock.executionTimeout = m.positiveDuration("execution_timeout", &log) ?? s.mock.executionTimeout
            s.mock.queueTimeout = m.positiveDuration("queue_timeout", &log) ?? s.mock.queueTimeout
            s.mock.validationTimeout = m.positiveDuration("validation_timeout", &log) ?? s.mock.validationTimeout
            s.mock.uploadTimeout = m.positiveDuration("upload_timeout", &log) ?? s.mock.uploadTimeout
            s.mock.groupRate = m.fraction("group_rate", &log) ?? 0
            s.mock.errorRate = m.fraction("error_rate", &log) ?? 0
            if let seed = m.int("seed", &log) { s.mock.seed = UInt64(seed) }
            if let ids = m.strings("model_ids", &log) {
                for id in ids {
                    do { _ = try CrynuxModelID(parsing: id) } catch { log.error(m.keyPath("model_ids"), m.position("model_ids"), error.description) }
                }
                s.mock.modelIDs = ids
            }
            m.reportUnknown(&log)
        }
        c.reportUnknown(&log)
        return s
    }
}

extension CrynuxSection {
    /// `[crynux]` with every default resolved, for `sealer config check` (reads back the same).
    var effectiveTOML: String {
        func q(_ s: String) -> String { TOMLTaggedJSON.quote(s) }
        func d(_ x: Duration) -> String { q(HumanDuration.format(x)) }
        var out = "\n[crynux]\n"
        switch relay {
        case .embedded: out += "relay_url = \"embedded\"\n"
        case let .url(url): out += "relay_url = \(q(url))\n"
        }
        if let key = nodeKeyFile { out += "node_key_file = \(q(key))\n" }
        out += "gpus = [\(gpus.map(String.init).joined(separator: ", "))]\n"
        if let name = gpuName { out += "gpu_name = \(q(name))\n" } else { out += "# gpu_name: not set; the discovered GPU's name, else \"GPU\"\n" }
        out += "platform = \(q(platform))\ndistance_threshold = \(distanceThreshold)\n"
        if let dir = modelDir { out += "model_dir = \(q(dir))\n" } else { out += "# model_dir: not set; the crynux thread's location + \"/models\"\n" }
        out += "executor = \(q(executor ?? "mock"))\nexecutor_args = [\(executorArgs.map(q).joined(separator: ", "))]\n"
        out += "gpu_share = \(gpuShare)\npriority = \(q(priority.rawValue))\n"
        let m = mock
        out += "\n[crynux.mock]\nmode = \(q(m.mode.rawValue))\ntask_interval = \(d(m.taskInterval))\ntask_count = \(m.taskCount)\n"
        out += "task_type = \(q(m.taskType == .llm ? "llm" : "sd"))\noutputs = \(m.outputs)\nmin_vram = \(m.minVRAMGiB)\n"
        out += "execution_timeout = \(d(m.executionTimeout))\nqueue_timeout = \(d(m.queueTimeout))\n"
        out += "validation_timeout = \(d(m.validationTimeout))\nupload_timeout = \(d(m.uploadTimeout))\n"
        out += "group_rate = \(m.groupRate)\nerror_rate = \(m.errorRate)\nseed = \(m.seed)\n"
        out += "model_ids = [\(m.modelIDs.map(q).joined(separator: ", "))]\n"
        return out
    }
}
