import Foundation
import ML
import Testing
@testable import Experiments

@Suite("fig14: Adam's preconditioned sharpness at its threshold")
struct AdaptiveExperimentTests {
  /// A squared-loss run at η with preconditioned λ1 = ratios[i]·threshold at steps 0, 50, 100, ….
  static func run(eta: Double = 0.01, beta1: Double = 0.9, ratios: [Double]) -> AdaptiveRun {
    let t = OptimizerKind.adam(beta1: beta1, beta2: 0.999, epsilon: 1e-8, weightDecay: 0).stabilityThreshold(learningRate: eta)
    let steps = ratios.indices.map { 50 * $0 }
    return AdaptiveRun(learningRate: eta, beta1: beta1, loss: "squared", status: .trained, failureStep: nil, threshold: t, steps: steps,
                       lambda1: ratios.map { _ in 1 }, preconditioned: ratios.map { $0 * t },
                       preconditionedResiduals: ratios.map { _ in 0 }, lossSteps: steps, losses: ratios.map { _ in 0.1 })
  }

  @Test func theThresholdIsTheFormula38OverEtaAtBeta09And2OverEtaAtBeta0() {
    let adam = { (b1: Double) in OptimizerKind.adam(beta1: b1, beta2: 0.999, epsilon: 1e-8, weightDecay: 0) }
    #expect(abs(adam(0.9).stabilityThreshold(learningRate: 0.01) - 3800) < 1e-9)
    #expect(abs(adam(0).stabilityThreshold(learningRate: 0.01) - 200) < 1e-12)
    #expect(abs(adam(0.5).stabilityThreshold(learningRate: 0.01) - 600) < 1e-9)
  }

  @Test func quantilesInterpolateLinearlyAsNumpyDoes() {
    // numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.75]) = 1.75, 2.5, 3.25.
    let s: [Double] = [1, 2, 3, 4]
    #expect(quantile(sorted: s, 0.25) == 1.75 && quantile(sorted: s, 0.5) == 2.5 && quantile(sorted: s, 0.75) == 3.25)
    #expect(quantile(sorted: [7], 0.5) == 7 && quantile(sorted: [], 0.5) == nil)
  }

  @Test func aRunIsAnalyzedFromTheFirstMeasurementAtNineTenthsOfItsThreshold() throws {
    // Sharpening 0.2, 0.5, 0.95, then hovering 1.0, 1.1, 0.9, 1.05: from step 100 on.
    let a = Self.run(ratios: [0.2, 0.5, 0.95, 1.0, 1.1, 0.9, 1.05]).stability
    #expect(a.firstReach == 100 && a.count == 5)
    // Sorted 0.9, 0.95, 1.0, 1.05, 1.1: median 1.0, quartiles 0.95 and 1.05.
    #expect(abs(try #require(a.median) - 1.0) < 1e-12)
    let q1 = try #require(a.lowerQuartile), q3 = try #require(a.upperQuartile)
    #expect(abs(q1 - 0.95) < 1e-12 && abs(q3 - 1.05) < 1e-12)
    #expect(a.equilibrates)
  }

  @Test func aRunThatNeverReachesOrOvershootsDoesNotEquilibrate() {
    let low = Self.run(ratios: [0.1, 0.3, 0.85]).stability
    #expect(low.firstReach == nil && low.count == 0 && !low.equilibrates)
    let high = Self.run(ratios: [0.5, 1.3, 1.4, 1.25]).stability
    #expect(high.firstReach == 50 && high.median == 1.3 && !high.equilibrates)
  }

  @Test func claimsHoldOnlyWhenEveryRunEquilibratesAndNoneIsMissing() {
    let f = Fig14()
    let good = [Self.run(eta: 0.01, ratios: [0.3, 1.0, 1.02]), Self.run(eta: 0.02, ratios: [0.5, 0.98, 1.0]),
                Self.run(eta: 0.01, beta1: 0, ratios: [0.4, 1.0, 0.99])]
    var d = Fig14Data(model: "mlp-tanh", width: 8, examples: 10, beta1: 0.9, sweepLearningRate: 0.01, runs: good, missing: [])
    var c = f.claims(d)
    #expect(c.map(\.id) == ["C12", "C12b"] && c.allSatisfy(\.holds))
    // The β1 = 0 run sits at 1.33× its 2/η: C12b fails, C12 (β1 = 0.9 only) still holds.
    d.runs[2] = Self.run(eta: 0.01, beta1: 0, ratios: [0.4, 1.3, 1.35])
    c = f.claims(d)
    #expect(c[0].holds && !c[1].holds && c[1].measured.contains("✗"))
    d.runs = good
    d.missing = ["mlp-tanh_adam_eta=0.005_b1=0.9_squared"]
    #expect(f.claims(d).allSatisfy { !$0.holds })
  }

  @Test func runsAreListedOnceWhenTheSweepRepeatsAMainRun() {
    var s = AdaptiveSettings.settings(for: .small, seed: 0)
    s.sweepBetas = [0, 0.5, 0.9]
    // η 1e-2 at β1 0.9 is a main run already: 4 + 2 sweep + 1 cross-entropy.
    #expect(s.runs.count == 7 && Set(s.runs).count == 7)
    #expect(Set(s.runs.map { Fig14().label($0) }).count == 7)
    #expect(s.runs.allSatisfy { $0.batchSize == nil && $0.data.measurementExamples == s.examples })
  }

  @Test func driftFlagsAChangedSharpnessAndAMissingRun() {
    let f = Fig14()
    let g = Fig14Data(model: "m", width: 8, examples: 10, beta1: 0.9, sweepLearningRate: 0.01,
                      runs: [Self.run(ratios: [0.3, 1.0]), Self.run(eta: 0.02, ratios: [0.3, 1.0])], missing: [])
    #expect(f.drift(g, golden: g).isEmpty)
    var d = g
    d.runs[0] = Self.run(ratios: [0.3, 1.2])
    #expect(f.drift(d, golden: g).count == 1)
    d.runs = [g.runs[0]]
    #expect(!f.drift(d, golden: g).isEmpty)
  }

  @Test func invalidSettingsAreRefusedBeforeTraining() {
    var s = AdaptiveSettings.settings(for: .tiny, seed: 0)
    s.learningRates = []
    #expect(throws: RecipeTrainer.InvalidRecipe.self) { try Fig14().validate(s) }
  }
}
