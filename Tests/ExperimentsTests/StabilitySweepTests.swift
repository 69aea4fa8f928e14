import Foundation
import ML
import Testing
@testable import Experiments

@Suite("Stability sweep pieces")
struct StabilitySweepTests {
  @Test func labelEntropyIsTheBestConstantLoss() {
    let balanced = Dataset<Float>(inputs: Tensor(shape: [20, 1], scalars: [Float](repeating: 0, count: 20)),
                                  labels: (0..<20).map { $0 % 10 }, classes: 10)
    #expect(abs(labelEntropy(balanced) - log(10)) < 1e-12)
    let single = Dataset<Float>(inputs: Tensor(shape: [4, 1], scalars: [0, 0, 0, 0]), labels: [3, 3, 3, 3], classes: 10)
    #expect(labelEntropy(single) == 0)
  }

  @Test func rowIdsCarryTheInitScale() {
    let v = ModelCatalog.variant("wrn-nobn-x1.5")
    #expect(v.id == "wrn-nobn" && v.initScale == 1.5 && v.isKnown)
    #expect(ModelCatalog.variant("resnet-relu-bn") == .init(id: "resnet-relu-bn", initScale: 1))
    #expect(!ModelCatalog.variant("vit-b16").isKnown && !ModelCatalog.variant("wrn-nobn-x0").isKnown)
    #expect(ModelCatalog.title("wrn-nobn-x1.5") == "WRN, no BN, 1.5× init")
    var s = StabilitySweep.settings(for: .tiny, seed: 0)
    #expect(throws: HarnessError.self) { try s.apply(overrides: ["models=wrn-nobn,vit"]) }
    try? s.apply(overrides: ["models=wrn-nobn-x2,lm-pre", "nesterov=true", "modelSize=small"])
    #expect(s.models == ["wrn-nobn-x2", "lm-pre"] && s.nesterov && s.modelSize == .small)
    #expect(StabilitySweep.runs(s).allSatisfy { $0.initScale == ($0.model == "wrn-nobn-x2" ? 2 : 1) && !$0.trace })
  }

  /// A hand-made grid: the plain model fails at η ≥ 1 without warmup and trains at η = 1 with
  /// it; the flatter init trains everywhere; the worse init fails at 0.3 without warmup only.
  func grid() -> [(run: StabilityRun, outcome: StabilityOutcome)] {
    let s = StabilitySweep.settings(for: .tiny, seed: 0)
    let roles = s.roles
    var s2 = s
    s2.models = [roles.plain, roles.flatterInit, roles.worseInit]
    s2.learningRates = [0.1, 0.3, 1, 3]
    s2.warmups = [0, 10]
    return StabilitySweep.runs(s2).map { r in
      let lambda0 = r.model == roles.flatterInit ? 1.0 : (r.model == roles.worseInit ? 50 : 10)
      var fails: Bool
      switch r.model {
      case roles.plain: fails = r.learningRate >= 1 && !(r.learningRate == 1 && r.warmup > 0)
      case roles.worseInit: fails = r.learningRate >= 0.3 && !(r.learningRate == 0.3 && r.warmup > 0)
      default: fails = false
      }
      // One flatter-init run starts below 2/η (λ1₀·η/2 = 0.5 at η = 1) and still diverges.
      if r.model == roles.flatterInit && r.learningRate == 3 && r.warmup == 0 { fails = true }
      let o = StabilityOutcome(status: fails ? .diverged : .trained, lambdaInit: lambda0, lambdaInitResidual: 0,
                               lambdaMid: 1, lambdaMidStep: 15, lambdaMidLearningRate: r.learningRate,
                               divergenceStep: fails ? 3 : nil, initialLoss: 2.3, finalLoss: fails ? nil : 1,
                               finalTrainLoss: fails ? nil : 1, testLoss: nil, testAccuracy: nil, sharpness: [])
      return (r, o)
    }
  }

  @Test func fig3LettersFollowTheirRules() {
    let roles = StabilitySweep.settings(for: .tiny, seed: 0).roles
    let picks = Fig3.lettered(grid(), roles: roles).map { $0.run.map { "\($0.model) \($0.learningRate) \($0.warmup)" } }
    // D needs λ1₀·η/2 < 1: λ1₀ = 1 at η = 3 gives 1.5, so no run qualifies here.
    #expect(picks[3] == nil)
    #expect(picks[0] == "\(roles.plain) 1.0 0" && picks[1] == "\(roles.plain) 1.0 10" && picks[2] == "\(roles.flatterInit) 1.0 0")
    #expect(picks[4] == "\(roles.plain) 0.1 0")
    #expect(picks[5] == "\(roles.worseInit) 0.3 10", "F: \(picks[5] ?? "none")")
    // A failure at a smaller η that warmup does not rescue leaves A at the rescued η…
    var g = grid()
    for i in g.indices where g[i].run.model == roles.plain && g[i].run.learningRate == 0.3 { g[i].outcome.status = .notTrained }
    #expect(Fig3.lettered(g, roles: roles)[0].run?.learningRate == 1)
    // …and with no rescued η at all, A is the smallest failing η.
    for i in g.indices where g[i].run.model == roles.plain && g[i].run.learningRate == 1 { g[i].outcome.status = .diverged }
    #expect(Fig3.lettered(g, roles: roles)[0].run?.learningRate == 0.3)
    // The follow-ups are the picks, traced.
    let s = StabilitySweep.settings(for: .tiny, seed: 0)
    let follow = Fig3().followUpRuns(s, results: grid())
    #expect(follow.count == 5 && follow.allSatisfy(\.trace))
  }
}
