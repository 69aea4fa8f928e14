import Foundation
import ML
import Testing
@testable import Experiments

@Suite("table2: warmup against initialization methods and LayerNorm")
struct Table2Tests {
  @Test func rowsCarryTheirInitializationMethod() {
    let v = ModelCatalog.variant("resmlp-none-x1.5+metainit")
    #expect(v.id == "resmlp-none" && v.initScale == 1.5 && v.initMethod == .metaInit && v.isKnown)
    #expect(ModelCatalog.variant("wrn-nobn+gradinit").initMethod == .gradInit)
    #expect(ModelCatalog.variant("wrn-nobn").initMethod == .standard)
    #expect(!ModelCatalog.variant("wrn-nobn+fixup").isKnown)
    // A recipe's row reads back as the same variant, so figures group MetaInit runs apart.
    let s = StabilitySweep.settings(for: .small, seed: 0)
    for row in ["resmlp-none+metainit", "wrn-nobn-x1.5", "resmlp-none-x0.5+gradinit", "resmlp-fixup"] {
      let r = StabilitySweep.recipe(s, row: row, learningRate: 0.1, warmup: 0, seed: 0, trace: false)
      #expect(r.row == row)
    }
    #expect(StabilitySweep.recipe(s, row: "resmlp-none+metainit", learningRate: 0.1, warmup: 0, seed: 0, trace: false).initMethod == .metaInit)
    #expect(ModelCatalog.title("resmlp-none+metainit") == "residual MLP, no norm, MetaInit")
  }

  @Test func armsParseAndName() {
    #expect(Table2Arm("resmlp-none@w200") == Table2Arm(row: "resmlp-none", warmup: 200))
    #expect(Table2Arm("mt-none-x0.25@w400")?.method(clip: 1) == "warmup 400 + clip 1 + 0.25× init")
    #expect(Table2Arm("resmlp-fixup")?.method(clip: nil) == "Fixup")
    #expect(Table2Arm("wrn-nobn+metainit")?.method(clip: nil) == "MetaInit")
    #expect(Table2Arm("mt-pre@w400")?.method(clip: 1) == "warmup 400 + clip 1 + LayerNorm")
    #expect(Table2Arm("resmlp-none@wx") == nil && Table2Arm("nope") == nil && Table2Arm("resmlp-none@w-3") == nil)
  }

  /// The image arms are fig2's recipes (the same runs), their first seeds fig2's role seeds.
  @Test func imageRunsAreTheStabilitySweepsRecipes() throws {
    let s = Table2Settings.settings(for: .small, seed: 0)
    let fig2 = Set(StabilitySweep.runs(s.sweep))
    let t = Table2()
    try t.validate(s)
    #expect(t.sweepID == Fig2().sweepID && t.resultsVersion == Fig2().resultsVersion)
    let shared = s.imageRuns.filter(fig2.contains)
    #expect(s.imageRuns.contains { $0.row == "resmlp-none+gradinit" } && !shared.contains { $0.row == "resmlp-none+gradinit" })
    #expect(shared.contains { $0.row == "resmlp-none+metainit" && $0.seed == 2 } && shared.contains { $0.row == "wrn-nobn" && $0.warmup == 200 })
    for r in shared { #expect(t.label(r) == Fig2().label(r)) }
    #expect(s.translationRuns.allSatisfy { $0.isTranslationModel && $0.clipNorm == s.translationClip })
    #expect(Set(t.runs(s).map(t.label)).count == t.runs(s).count)
    // Each family needs its warmup arm.
    var bad = s
    bad.arms = ["resmlp-none+metainit"]
    #expect(throws: RecipeTrainer.InvalidRecipe.self) { try t.validate(bad) }
  }

  static func run(_ acc: Double?, status: TrainingOutcome.Status = .trained, loss: Double = 0.3, bleu: Double? = nil, g: Double? = 1,
                  l: Double? = 10) -> Table2Run {
    Table2Run(seed: 0, status: status, finalTrainLoss: status == .diverged ? nil : loss, testAccuracy: acc, bleu: bleu, lambda1AtStart: l,
              initialGradientNorm: g, clippedFraction: nil, samples: nil, lossCurve: [2, 1])
  }

  static func arm(_ spec: String, _ cells: [(Double, [Table2Run])]) -> Table2ArmData {
    let c = cells.map { Table2Cell(learningRate: $0.0, runs: $0.1) }
    let best = c.filter(\.trains).min { ($0.meanFinalTrainLoss ?? .infinity) < ($1.meanFinalTrainLoss ?? .infinity) }
    let a = Table2Arm(spec)!
    return Table2ArmData(arm: spec, family: a.family, method: a.method(clip: a.family == "mt" ? 1 : nil), cells: c, bestLearningRate: best?.learningRate)
  }

  static func data(images: [Table2ArmData], text: [Table2ArmData] = []) -> Table2Data {
    Table2Data(imageArms: images, translationArms: text, imageSteps: 100, imageRecipe: "", translationSteps: 100,
               translationClip: 1, translationTestPairs: 10, curveEvery: 20, missing: [])
  }

  @Test func theBestLearningRateIsTheLowestTrainingLossAmongTrainedCells() throws {
    // η 0.3: two of three seeds fail, however low its one trained loss; η 0.1 beats 0.03 on loss.
    let a = Self.arm("resmlp-none@w200", [
      (0.03, [Self.run(0.80, loss: 0.4), Self.run(0.81, loss: 0.4)]), (0.1, [Self.run(0.85, loss: 0.2), Self.run(0.84, loss: 0.3)]),
      (0.3, [Self.run(0.9, loss: 0.01), Self.run(nil, status: .diverged), Self.run(0.1, status: .collapsed)]),
    ])
    #expect(a.bestLearningRate == 0.1)
    let s = Table2Settings.settings(for: .tiny, seed: 0)
    // figureData applies the same rule to stored outcomes.
    let t = Table2()
    let d = t.figureData(settings: s, results: [])
    #expect(d.imageArms.allSatisfy { $0.bestLearningRate == nil } && !d.missing.isEmpty)
    #expect(!t.claims(d)[0].holds)
  }

  @Test func c8AllowsOnePointBelowEachMethod() {
    let w = Self.arm("resmlp-none@w200", [(0.1, [Self.run(0.850)])])
    let good = [Self.arm("resmlp-none+metainit", [(0.1, [Self.run(0.859)])]), Self.arm("resmlp-fixup", [(0.1, [Self.run(0.84)])])]
    let c = Table2().claims(Self.data(images: [w] + good))
    #expect(c[0].id == "C8" && c[0].holds)
    let bad = [Self.arm("resmlp-none+gradinit", [(0.1, [Self.run(0.861)])])]
    #expect(!Table2().claims(Self.data(images: [w] + good + bad))[0].holds)
    // A warmup arm that trains at no η fails the claim.
    let never = Self.arm("resmlp-none@w200", [(0.1, [Self.run(0.1, status: .collapsed)])])
    #expect(!Table2().claims(Self.data(images: [never] + good))[0].holds)
  }

  @Test func translationClaimsCompareBleuAndTheInitialCurvature() {
    let ln = Self.arm("mt-pre@w400", [(1e-3, [Self.run(nil, bleu: 10, g: 5, l: 100)])])
    let method = Self.arm("mt-none-x0.25@w400", [(1e-3, [Self.run(nil, bleu: 9.2, g: 2, l: 50)])])
    let plain = Self.arm("mt-none@w400", [(1e-3, [Self.run(nil, status: .collapsed, bleu: 0.5, g: 40, l: 900)])])
    let roles = Table2.translationRoles(Self.data(images: [], text: [ln, plain, method]))
    #expect(roles.ln?.arm == ln.arm && roles.method?.arm == method.arm && roles.plain?.arm == plain.arm)
    let c = Table2().claims(Self.data(images: [], text: [ln, plain, method]))
    #expect(c.first { $0.id == "C8b" }?.holds == true)
    #expect(c.first { $0.id == "C8c" }?.holds == true)
    // 8.9 < 0.9 × 10; a default init whose gradient is only 5× larger is not "extreme".
    let weak = Self.arm("mt-none-x0.25@w400", [(1e-3, [Self.run(nil, bleu: 8.9, g: 8, l: 50)])])
    let c2 = Table2().claims(Self.data(images: [], text: [ln, plain, weak]))
    #expect(c2.first { $0.id == "C8b" }?.holds == false && c2.first { $0.id == "C8c" }?.holds == false)
  }
}
