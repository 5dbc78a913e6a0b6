import ProofsFFI
import Testing
@testable import Scheduler

/// Model ids and their plan (spec 2.4), the reported GPU identity (spec 3.3) and the inference
/// lease's admission identity (issue 10).
@Suite struct CrynuxIdentityTests {
    @Test func modelIDsParseAndMapToReversiblePaths() throws {
        let lora = try CrynuxModelID(parsing: "lora:https://civitai.com/api/download/models/12?type=Model")
        #expect(lora.kind == .lora && lora.name == "https://civitai.com/api/download/models/12?type=Model")
        #expect(!lora.relativePath.dropFirst("lora/".count).contains("/"))
        let entry = String(lora.relativePath.dropFirst("lora/".count))
        #expect(CrynuxModelID.fromDisk(kind: .lora, entry: entry) == lora)
        let base = try CrynuxModelID(parsing: "base:stabilityai/stable-diffusion-xl-base-1.0+fp16")
        #expect(base.relativePath == "base/stabilityai%2Fstable-diffusion-xl-base-1.0+fp16")
        #expect(base.description == "base:stabilityai/stable-diffusion-xl-base-1.0+fp16")
        // Entries that are not escaped ids (temporary files, foreign names) are not models.
        #expect(CrynuxModelID.fromDisk(kind: .base, entry: ".partial-1") == nil)
        #expect(CrynuxModelID.fromDisk(kind: .base, entry: "a/b") == nil)
        for bad in ["sd15", "vae:x", "base:", ":x"] {
            #expect(throws: CrynuxModelIDError.self, "\(bad)") { try CrynuxModelID(parsing: bad) }
        }
    }

    @Test func modelPlanNeedsTheBaseOnDiskAndDownloadsTheRest() {
        let base = CrynuxModelID(kind: .base, name: "sd15")
        let have = CrynuxModelID(kind: .lora, name: "have")
        #expect(CrynuxModelPlan.plan(["base:sd15", "lora:have", "controlnet:c"], onDisk: [base, have])
            == .download([CrynuxModelID(kind: .controlnet, name: "c")]))
        #expect(CrynuxModelPlan.plan(["base:sd15"], onDisk: [base]) == .download([]))
        #expect(CrynuxModelPlan.plan(["base:sd15", "lora:x"], onDisk: [have]) == .baseMissing(base))
        guard case .unusable = CrynuxModelPlan.plan(["lora:x"], onDisk: [base]) else { Issue.record("no base model must be unusable"); return }
        guard case .unusable = CrynuxModelPlan.plan(["base:a", "base:b"], onDisk: [base]) else { Issue.record("two base models must be unusable"); return }
        guard case .unusable = CrynuxModelPlan.plan(["base:sd15", "junk"], onDisk: [base]) else { Issue.record("a bad id must be unusable"); return }
    }

    @Test func gpuIdentityIsNamePlusPlatformAndCeilGiB() {
        let gib: UInt64 = 1 << 30, mib: UInt64 = 1 << 20
        // 24564 MiB (an RTX 4090 as NVML reports it) -> ceil(23.99) = 24.
        let card = CrynuxGPUIdentity.Card(index: 0, name: "NVIDIA GeForce RTX 4090", vramBytes: 24564 * mib)
        let one = CrynuxGPUIdentity.report(cards: [card], selected: [], configuredName: nil, platform: "docker")
        #expect(one == CrynuxGPUIdentity(name: "NVIDIA GeForce RTX 4090+docker", vramGiB: 24, gpus: [0]))
        #expect(CrynuxGPUIdentity.gib(24 * gib + mib) == 25 && CrynuxGPUIdentity.gib(24 * gib) == 24)
        // The largest group of identical selected cards; the config's name wins over discovery.
        let a100 = CrynuxGPUIdentity.Card(index: 1, name: "NVIDIA A100-SXM4-80GB", vramBytes: 81920 * mib)
        let a100b = CrynuxGPUIdentity.Card(index: 2, name: "NVIDIA A100-SXM4-80GB", vramBytes: 81920 * mib)
        let mixed = CrynuxGPUIdentity.report(cards: [card, a100, a100b], selected: [], configuredName: nil, platform: "Linux")
        #expect(mixed == CrynuxGPUIdentity(name: "NVIDIA A100-SXM4-80GB+Linux", vramGiB: 80, gpus: [1, 2]))
        let selected = CrynuxGPUIdentity.report(cards: [card, a100, a100b], selected: [0], configuredName: "RTX 4090", platform: "Linux")
        #expect(selected == CrynuxGPUIdentity(name: "RTX 4090+Linux", vramGiB: 24, gpus: [0]))
        let none = CrynuxGPUIdentity.report(cards: [], selected: [], configuredName: nil, platform: "Linux", fallbackVRAM: 8)
        #expect(none == CrynuxGPUIdentity(name: "GPU+Linux", vramGiB: 8, gpus: []))
    }

    @Test func inferenceIsItsOwnStageBelowSealingUnlessRaised() {
        #expect(ProofStage.inference.rawValue == "crynux_inference")
        let below = CrynuxAdmission.request(vramGiB: 8, allowedGPUs: [0], ahead: false)
        #expect(below.stage == .inference && below.vramBytes == 8 << 30 && below.allowedGPUs == [0])
        let sealing = ProofStage.allCases.filter { $0 != .inference }
        #expect(sealing.allSatisfy { ResourceRequest.priority($0) > below.priority })
        // A task sized to the reported (ceil) VRAM asks no more than the card has.
        #expect(CrynuxAdmission.request(vramGiB: 24, cardBytes: 24564 << 20, allowedGPUs: nil, ahead: false).vramBytes == 24564 << 20)
        #expect(CrynuxAdmission.request(vramGiB: 8, cardBytes: 24564 << 20, allowedGPUs: nil, ahead: false).vramBytes == 8 << 30)
        let ahead = CrynuxAdmission.request(vramGiB: 8, allowedGPUs: nil, ahead: true)
        #expect(ahead.stage == .inference && ahead.priority == ResourceRequest.priority(.c2))
        #expect(ahead.priority < ResourceRequest.priority(.windowPost))
        // Admission order: WindowPoSt, then a raised inference lease, then PC2, then one below sealing.
        let post = ResourceRequest(stage: .windowPost, cost: CostTable.defaults.cost(.windowPost, .gib32))
        let pc2 = ResourceRequest(stage: .pc2, cost: CostTable.defaults.cost(.pc2, .gib32))
        let waiters = [below, pc2, ahead, post].enumerated().map { Waiter(id: UInt64($0.offset), request: $0.element, sequence: UInt64($0.offset)) }
        #expect(AdmissionPolicy().ordered(waiters).map(\.id) == [3, 2, 1, 0])
        // like_c2 always, gpu_share while under it, else below sealing.
        #expect(CrynuxAdmission.aheadOfSealing(.likeC2, shareUsed: 1, share: 0))
        #expect(CrynuxAdmission.aheadOfSealing(.belowSealing, shareUsed: 0.1, share: 0.2))
        #expect(!CrynuxAdmission.aheadOfSealing(.belowSealing, shareUsed: 0.2, share: 0.2))
        #expect(!CrynuxAdmission.aheadOfSealing(.belowSealing, shareUsed: 0, share: 0))
    }
}
