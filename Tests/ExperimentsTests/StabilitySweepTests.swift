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

  @Test func fullScaleWithoutCIFARIsOneClearError() {
    #expect(throws: DataError.self) { _ = try DataCache.shared.images(size: .full, train: 10, test: 10, dataDirectory: nil) }
    #expect(throws: DataError.self) { _ = try DataCache.shared.images(size: .full, train: 10, test: 10, dataDirectory: "/nonexistent") }
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
  /// it; the flatter init diverges at η = 1 only; the worse init fails at 0.3 without warmup only.
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
      // The flatter init starts below 2/η at η = 1 (λ1₀·η/2 = 0.5) and still diverges, with
      // and without warmup.
      if r.model == roles.flatterInit && r.learningRate == 1 { fails = true }
      let o = StabilityOutcome(status: fails ? .diverged : .trained, lambdaInit: lambda0, lambdaInitResidual: 0,
                               lambdaMid: 1, lambdaMidStep: 15, lambdaMidLearningRate: r.learningRate,
                               divergenceStep: fails ? 3 : nil, initialLoss: 2.3,
                               finalTrainLoss: fails ? nil : 1, testLoss: nil, testAccuracy: nil, sharpness: [])
      return (r, o)
    }
  }

  @Test func fig3LettersFollowTheirRules() {
    let roles = StabilitySweep.settings(for: .tiny, seed: 0).roles
    let picks = Fig3.lettered(grid(), roles: roles).map { $0.run.map { "\($0.model) \($0.learningRate) \($0.warmup)" } }
    // D: started below 2/η and diverged, other than C (the same model and η without warmup).
    #expect(picks[3] == "\(roles.flatterInit) 1.0 10")
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
    #expect(follow.count == 6 && follow.allSatisfy(\.trace))
  }
}

@Suite("Stability claims C1–C4")
struct StabilityClaimsTests {
  /// A model row: λ1 at init, and the runs trained up to `etaMax` (no warmup).
  func row(_ model: String, lambda0: Double, etaMax: Double, etas: [Double] = [0.01, 0.1, 1]) -> [StabilityPoint] {
    etas.map { eta in
      StabilityPoint(model: model, learningRate: eta, warmup: 0, seed: 0, status: eta <= etaMax ? .trained : .diverged,
                     lambdaInit: lambda0, lambdaMid: 1 / eta, lambdaMidStep: 10, lambdaMidLearningRate: eta)
    }
  }

  func data(_ rows: [[StabilityPoint]]) -> Fig2Data {
    Fig2Data(models: rows.map { $0[0].model }, momentum: 0.9, nesterov: nil, midStep: 10, points: rows.flatMap { $0 })
  }

  @Test func c2ComparesModelsOnTheSameDataOnly() {
    // Image models order strictly; the LM has a higher λ1₀ than all and the largest η, which
    // would be discordant with every image model if compared across data sets.
    let d = data([row("wrn-bn", lambda0: 2, etaMax: 1), row("wrn-nobn", lambda0: 7, etaMax: 0.1),
                  row("resmlp-none", lambda0: 100, etaMax: 0.01), row("lm-pre", lambda0: 500, etaMax: 1)])
    let c = StabilityClaims.c2(d)
    #expect(c.holds, "\(c.measured)")
    #expect(c.measured.hasPrefix("3 concordant, 0 discordant"))
    // A BN-like exception among image models breaks it, and is named.
    let e = StabilityClaims.c2(data([row("wrn-bn", lambda0: 9, etaMax: 1), row("wrn-nobn", lambda0: 7, etaMax: 0.1)]))
    #expect(!e.holds && e.measured.contains("wrn-bn (λ1₀ 9"))
  }

  @Test func c2bWantsTheScaledInitSharperAndLessTrainable() {
    let holds = StabilityClaims.c2b(data([row("wrn-nobn", lambda0: 7, etaMax: 0.1), row("wrn-nobn-x1.5", lambda0: 300, etaMax: 0.01)]))
    #expect(holds.holds)
    let fails = StabilityClaims.c2b(data([row("wrn-nobn", lambda0: 7, etaMax: 0.1), row("wrn-nobn-x1.5", lambda0: 300, etaMax: 0.1)]))
    #expect(!fails.holds)
    #expect(!StabilityClaims.c2b(data([row("wrn-nobn", lambda0: 7, etaMax: 0.1)])).holds)
  }

  @Test func c1CountsSuccessfulRunsWithinTolerance() {
    var points = row("wrn-nobn", lambda0: 7, etaMax: 1)
    let heavyBall = Fig2Data(models: [], momentum: 0.9, nesterov: nil, midStep: 10, points: []).momentumBound
    #expect(StabilityClaims.c1(points, momentumBound: heavyBall).holds)  // λ1·η/2 = 0.5 everywhere
    points[2].lambdaMid = 3  // η = 1: λ1·η/2 = 1.5 > 1.1, within (2 + 2β)/η
    let c = StabilityClaims.c1(points, momentumBound: heavyBall)
    #expect(!c.holds && c.measured.contains("2 of 3 successful runs within") && c.measured.contains("momentum bound (2+2β)/η: 3 of 3"))
    // Nesterov's bound at β = 0.9 is 1.36/η: λ1·η/2 = 1.5 is outside it.
    let nesterov = Fig2Data(models: [], momentum: 0.9, nesterov: true, midStep: 10, points: []).momentumBound
    #expect(StabilityClaims.c1(points, momentumBound: nesterov).measured.contains("(2+2β)/((1+2β)η): 2 of 3"))
  }
}
