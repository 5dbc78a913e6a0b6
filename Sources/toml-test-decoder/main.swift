import Foundation
import Scheduler

// The toml-test decoder interface: TOML on stdin, tagged JSON on stdout; invalid input exits 1.
let input = FileHandle.standardInput.readDataToEndOfFile()
do {
    let table = try TOML.parse(bytes: Array(input))
    print(TOMLTaggedJSON.encode(table))
} catch {
    FileHandle.standardError.write(Data("toml: \(error)\n".utf8))
    exit(1)
}
