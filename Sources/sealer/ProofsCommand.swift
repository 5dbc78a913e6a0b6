import Foundation
import ProofsFFI
import Scheduler

/// `sealer proofs check [-c FILE] [--size SIZE]`: are the proof parameters the configured sector
/// sizes need in filecoin-ffi's parameter cache, and does the configured libfilcrypto load with
/// every symbol sealer calls? Lists each file as present or MISSING on stdout; exits 1 when a
/// file is missing (or empty) or the library does not load, 0 when all is there.
enum ProofsCommand {
    static let spec = OptionSpec(command: "sealer proofs check", options: [
        .init(["--config", "-c"], value: true,
              help: "config whose sector sizes and [proofs] ffi_library to check; else \(EnvironmentVariables.named(EnvironmentVariables.config))"),
        .init(["--size"], value: true, help: "check this sector size (2KiB, 8MiB, 512MiB, 32GiB, 64GiB) instead of the config's"),
        .init(["--help", "-h"], value: false, help: "show this help"),
    ], maxPositionals: 1)

    static let usage = "usage: sealer proofs check [-c FILE] [--size SIZE]"

    static func run(_ args: [String], environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32 {
        let parsed: ParsedOptions
        do { parsed = try spec.parse(args) } catch { return usageFailure(error, usage: usage) }
        if parsed.has("--help") {
            print(usage + "\n\nlists the proof parameter files the sector sizes need under $\(ProofParameters.cacheVariable) (default "
                + "\(ProofParameters.defaultCache)) and which are missing, and checks that [proofs] ffi_library (else "
                + "$\(FilCrypto.libraryVariable)) loads with every symbol sealer calls\n\n" + spec.help)
            return CommandExit.success
        }
        switch parsed.positionals.first {
        case "check"?: break
        case nil: return usageFailure("missing subcommand: proofs check", usage: usage)
        case let other?: return usageFailure("unknown proofs subcommand '\(other)'", usage: usage)
        }
        var sizeOption: SectorSize?
        if let text = parsed.value("--size") {
            do { sizeOption = try ConfigBridge.sectorSize(text, what: "--size") } catch { return usageFailure("\(error)", usage: usage) }
        }
        let configSetting = parsed.setting("--config", orEnvironment: EnvironmentVariables.config, environment)
        guard sizeOption != nil || configSetting != nil else {
            return usageFailure("proofs check needs -c FILE (or \(EnvironmentVariables.either(EnvironmentVariables.config))) or --size SIZE",
                                usage: usage)
        }

        var config: SealerConfig?
        if let setting = configSetting {
            let result = ConfigDecoder.load(path: setting.value)
            for diagnostic in result.diagnostics { FileHandle.standardError.write(Data("\(diagnostic)\n".utf8)) }
            guard let loaded = result.config else {
                return fail("\(setting.value): \(result.errors.count) error(s)"
                    + (setting.source == "--config" ? "" : " (the config named by \(setting.source))"))
            }
            config = loaded
        }

        let (sizes, origin) = sizeOption.map { ([$0], "--size") } ?? sectorSizes(config ?? SealerConfig())
        let cache = ProofParameters.cacheDirectory(environment: environment)
        let fromVariable = !(environment[ProofParameters.cacheVariable] ?? "").isEmpty
        print("parameter cache: \(cache) (\(fromVariable ? "$" + ProofParameters.cacheVariable : "default"))")
        print("sector sizes: \(sizes.map(\.description).joined(separator: ", ")) (\(origin))")
        var missing = 0, total = 0
        for size in sizes {
            for file in ProofParameters.files(for: size) {
                total += 1
                let state = fileState(cache + "/" + file.name)
                if state != "present" { missing += 1 }
                print("  \(state.padding(toLength: 8, withPad: " ", startingAt: 0)) \(size.description.padding(toLength: 7, withPad: " ", startingAt: 0)) "
                    + "\(file.kind.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)) \(file.name)")
            }
        }
        print("\(total - missing) of \(total) parameter files present")

        var libraryFailed = false
        if let library = libraryToCheck(config, environment) {
            do {
                let lib = try FilCrypto.load(path: library, environment: environment)
                print("library: \(lib.path) loads with all \(FilCrypto.symbolNames.count) symbols sealer calls")
            } catch {
                print("library: \(error)")
                libraryFailed = true
            }
        } else {
            print("library: not checked (set [proofs] ffi_library or $\(FilCrypto.libraryVariable))")
        }

        if missing > 0 {
            let fetch = "fetch them into \(cache), e.g. with lotus fetch-params or curio fetch-params"
            return fail("\(missing) parameter file(s) missing; \(fetch)" + (libraryFailed ? "; and the library does not load" : ""))
        }
        if libraryFailed { return fail("the filecoin-ffi library does not load") }
        return CommandExit.success
    }

    /// The sector sizes the config's threads may seal, and where that came from. A thread
    /// without `allowed_sizes` takes whatever the manager gives: the embedded mock manager's
    /// `sector_size`, or, with a real manager, any size.
    static func sectorSizes(_ config: SealerConfig) -> ([SectorSize], String) {
        var sizes = Set<SectorSize>()
        var unrestricted = config.sealingThreads.isEmpty
        for index in config.sealingThreads.indices {
            if let allowed = config.sealingOptions(forThread: index).allowedSizes { sizes.formUnion(allowed) } else { unrestricted = true }
        }
        var origin = "allowed_sizes"
        if unrestricted {
            if case .embedded = config.sectorManager.address {
                sizes.insert(config.sectorManager.mock.sectorSize)
                origin = sizes.count == 1 ? "the embedded manager's sector_size" : "allowed_sizes and the embedded manager's sector_size"
            } else {
                sizes = Set(SectorSize.allCases)
                origin = "a thread without allowed_sizes may get any size"
            }
        }
        return (SectorSize.allCases.filter(sizes.contains), origin)
    }

    /// The library to load: `[proofs] ffi_library`, else `$FIL_PROOFS_LIBRARY`, else, with
    /// `backend = "ffi"`, the loader's `libfilcrypto.so`; nil when none of these applies.
    static func libraryToCheck(_ config: SealerConfig?, _ environment: [String: String]) -> String? {
        if let path = config?.proofs.ffiLibrary { return path }
        if let path = environment[FilCrypto.libraryVariable], !path.isEmpty { return path }
        if config?.proofs.backend == .ffi { return FilCrypto.defaultLibraryName }
        return nil
    }

    /// "present" for a non-empty regular file, "MISSING" or "EMPTY" otherwise.
    private static func fileState(_ path: String) -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              attributes[.type] as? FileAttributeType == .typeRegular else { return "MISSING" }
        return (attributes[.size] as? Int ?? 0) > 0 ? "present" : "EMPTY"
    }
}
