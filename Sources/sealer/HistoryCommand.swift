import Actors
import Foundation
import Scheduler

/// `sealer history -l LOCATION [--sector ID]`: a thread's per-sector history, read from disk
/// (works while the daemon runs or after it stopped).
enum HistoryCommand {
    static let spec = OptionSpec(command: "sealer history", options: [
        .init(["--location", "-l"], value: true, help: "the sealing thread's location directory"),
        .init(["--sector", "-s"], value: true, help: "only this sector (s-t0<miner>-<number>)"),
        .init(["--json"], value: false, help: "one JSON object per line"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ])

    static func run(_ args: [String]) -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error) }
        if parsed.has("--help") {
            print("usage: sealer history -l LOCATION [--sector ID] [--json]\n\n" + spec.help)
            return 0
        }
        guard let location = parsed.value("--location") else { return usageFailure("history needs -l LOCATION", usage: "usage: sealer history -l LOCATION [--sector ID] [--json]") }
        let store = ThreadStore(location: location)
        guard FileManager.default.fileExists(atPath: store.historyPath) else {
            return fail("no history at \(store.historyPath) (is \(location) a sealing thread location?)")
        }
        do {
            let (entries, note) = try ThreadStore.readHistory(path: store.historyPath)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for entry in entries where parsed.value("--sector").map({ $0 == entry.sector }) ?? true {
                if parsed.has("--json") {
                    print(String(decoding: (try? encoder.encode(entry)) ?? Data(), as: UTF8.self))
                } else {
                    let time = Date(timeIntervalSince1970: entry.time).ISO8601Format()
                    print("\(time)  \(entry.sector ?? "-")  \(entry.from) --\(entry.event)--> \(entry.to)\(entry.note.map { "  (\($0))" } ?? "")")
                }
            }
            if let note { FileHandle.standardError.write(Data(("sealer: " + note + "\n").utf8)) }
        } catch {
            return fail("\(error)")
        }
        return 0
    }
}
