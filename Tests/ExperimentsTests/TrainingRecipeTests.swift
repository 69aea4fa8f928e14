import Foundation
import ML
import Testing
@testable import Experiments

@Suite("Training recipes and outcomes")
struct TrainingRecipeTests {
  static func recipe() -> TrainingRecipe {
    let s = StabilitySweep.settings(for: .tiny, seed: 0)
    return StabilitySweep.recipe(s, row: "resmlp-none-x1.5", learningRate: 0.3, warmup: 10, seed: 1, trace: false)
  }

  func json(_ r: TrainingRecipe) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: RunKey.canonicalJSON(r)) as! [String: Any]
  }

  @Test func defaultsAreLeftOutOfTheKey() throws {
    var r = Self.recipe()
    r.initScale = 1
    let keys = Set(try json(r).keys)
    // At their defaults these fields are absent, so a field added later with a default keeps
    // every stored run's key.
    for absent in ["initScale", "initMethod", "modelWidth", "loss", "decay", "clipNorm", "l2", "evalEvery", "targetAccuracy"] {
      #expect(!keys.contains(absent), "\(absent) is at its default and must not be encoded")
    }
    #expect(keys.isSuperset(of: ["model", "optimizer", "batchSize", "steps", "learningRate", "warmup", "data", "measurement", "seed"]))
    // Away from their defaults they are encoded, and change the key.
    var scaled = r
    scaled.initScale = 1.5
    scaled.clipNorm = 1
    #expect(try json(scaled)["initScale"] as? Double == 1.5 && json(scaled)["clipNorm"] as? Double == 1)
    #expect(try RunKey(label: "x", configuration: scaled) != RunKey(label: "x", configuration: r))
  }

  @Test func absentFieldsDecodeToTheirDefaultsAndKeepTheKey() throws {
    let r = Self.recipe()
    var object = try json(r)
    object.removeValue(forKey: "warmup")  // a JSON written before `warmup` existed
    let old = try JSONSerialization.data(withJSONObject: object)
    let decoded = try JSONDecoder().decode(TrainingRecipe.self, from: old)
    #expect(decoded.warmup == 0 && decoded.initScale == 1.5 && decoded.model == "resmlp-none")
    var noWarmup = r
    noWarmup.warmup = 0
    #expect(try RunKey(label: "r", configuration: decoded) == RunKey(label: "r", configuration: noWarmup))
    // A round trip is the identity.
    #expect(try JSONDecoder().decode(TrainingRecipe.self, from: RunKey.canonicalJSON(r)) == r)
  }

  @Test func keyIsPinned() throws {
    // The canonical JSON of a fixed recipe hashes to this value: a change to the recipe's
    // encoding that would re-key (and so orphan) every stored run fails here first.
    let key = try RunKey(label: StabilitySweep.label(Self.recipe()), configuration: Self.recipe())
    #expect(key.label == "resmlp-none-x1.5_eta=0.3_w=10_s=1")
    #expect(String(format: "%016llx", key.hash) == "2b1f44874cae50df")
  }

  @Test func badRecipesAreNamedBeforeTraining() {
    var r = Self.recipe()
    #expect(r.problems.isEmpty)
    r.batchSize = 0
    r.warmup = r.steps + 1
    r.learningRate = -1
    r.data.measurementExamples = r.data.trainExamples + 1
    let p = r.problems
    #expect(p.count == 4, "\(p)")
    #expect(throws: RecipeTrainer.InvalidRecipe.self) { _ = try RecipeTrainer.train(r) }
  }

  @Test func settingsOutsideTheRunAreRejected() throws {
    var s = StabilitySweep.settings(for: .tiny, seed: 0)
    try s.apply(overrides: ["midStep=500"])
    #expect(throws: RecipeTrainer.InvalidRecipe.self) { try Fig2().validate(s) }
  }
}

@Suite("How a run is classified")
struct OutcomeRulesTests {
  let chance = log(10.0)

  @Test func trainedUnderTrainedAndCollapsed() {
    let falling = (0..<100).map { chance * exp(-Double($0) / 20) + 0.3 }
    #expect(OutcomeRules.classify(losses: falling, initialLoss: falling[0], chanceLoss: chance, languageModel: false).status == .trained)
    // Below chance but not halved: slow, not failed.
    let slow = (0..<100).map { chance * (1 - 0.003 * Double($0)) }
    let s = OutcomeRules.classify(losses: slow, initialLoss: slow[0], chanceLoss: chance, languageModel: false)
    #expect(s.status == .underTrained && !s.status.failed)
    // The same curve is trained by the text rule (0.8 of the unigram entropy).
    #expect(OutcomeRules.classify(losses: slow, initialLoss: slow[0], chanceLoss: chance, languageModel: true).status == .trained)
  }

  @Test func aCollapseIsDatedWhereTheLossWasLowest() {
    // Falls for 40 steps, then climbs back to chance and stays.
    let losses = (0..<100).map { t -> Double in t < 40 ? chance - 0.04 * Double(t) : min(chance, 0.7 + 0.2 * Double(t - 40)) }
    let c = OutcomeRules.classify(losses: losses, initialLoss: losses[0], chanceLoss: chance, languageModel: false)
    #expect(c.status == .collapsed && c.status.failed)
    // The running mean over 5 steps is lowest over steps 36…40 (its last step the lowest loss).
    #expect(c.failureStep == 36, "\(String(describing: c.failureStep))")
    // A loss that ends far above where it started collapsed too.
    let up = (0..<50).map { 2.3 + Double($0) }
    #expect(OutcomeRules.classify(losses: up, initialLoss: 2.3, chanceLoss: chance, languageModel: false).status == .collapsed)
  }

  @Test func aTinyRunEndToEnd() throws {
    let s = StabilitySweep.settings(for: .tiny, seed: 0)
    let ok = try RecipeTrainer.train(StabilitySweep.recipe(s, row: "resmlp-ln", learningRate: 0.03, warmup: 0, seed: 0, trace: false))
    #expect(ok.status != .diverged && ok.lossCurve.count == s.steps)
    #expect(ok.measurements.map(\.step) == [0] + s.midSteps)
    #expect(ok.measurements.allSatisfy { $0.converged != nil && $0.residual.isFinite })
    let bad = try RecipeTrainer.train(StabilitySweep.recipe(s, row: "resmlp-none", learningRate: 3, warmup: 0, seed: 0, trace: false))
    #expect(bad.status == .diverged)
    // Its last λ1 before failing is from strictly before the divergence.
    if let f = bad.failureStep, let m = bad.lastBeforeFailure { #expect(m.step < f || m.step == 0) }
  }

  @Test func dataDrivenInitializationsRunBeforeTrainingAndTrainingStartsFromTheirResult() throws {
    // The tiny no-norm residual MLP at 1.5×: MetaInit and GradInit run their 200 iterations,
    // report λ1 before and after, and the run's λ1 at step 0 is that of the result (the same
    // parameters, measured the same way); the key changes with the method.
    let s = StabilitySweep.settings(for: .tiny, seed: 0)
    var base = StabilitySweep.recipe(s, row: "resmlp-none-x1.5", learningRate: 0.1, warmup: 0, seed: 0, trace: false)
    base.steps = 5
    for method in [TrainingRecipe.InitMethod.metaInit, .gradInit] {
      var r = base
      r.initMethod = method
      #expect(try RunKey(label: "x", configuration: r) != RunKey(label: "x", configuration: base))
      let o = try RecipeTrainer.train(r)
      let i = try #require(o.initialization, "\(method)")
      #expect(i.method == method && i.iterations == 200 && i.metaLoss.count == 200)
      // Not a traced run: λ1 before and after the method only (a trace measures every 20 iterations).
      #expect(i.lambda1.map(\.step) == [0, 200], "\(method)")
      let first = try #require(o.measurements.first)
      #expect(abs(first.lambda1 - i.lambda1.last!.lambda1) <= 1e-3 * abs(first.lambda1), "\(method): λ1 at step 0 \(first.lambda1), after init \(i.lambda1.last!.lambda1)")
      #expect(abs(i.lambda1.last!.lambda1 - i.lambda1.first!.lambda1) > 1e-3 * i.lambda1.first!.lambda1, "\(method) changed nothing")
      if method == .gradInit { #expect(i.gradientNorms.count == 200) } else { #expect(i.metaLoss.allSatisfy { $0?.isFinite == true }) }
    }
    #expect(try RecipeTrainer.train(base).initialization == nil)
  }
}
