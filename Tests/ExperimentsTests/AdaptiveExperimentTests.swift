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

  /// Fig14Data with the full-batch `runs` and the LM runs `lm` (lm-pre at peak 0.01).
  static func data(_ runs: [AdaptiveRun], lm: [AdaptiveWarmupRun] = [], missing: [String] = []) -> Fig14Data {
    Fig14Data(model: "mlp-tanh", width: 8, examples: 10, beta1: 0.9, sweepLearningRate: 0.01, runs: runs, lmModel: "lm-pre",
              lmLearningRate: 0.01, lmBatchSize: 8, lmRuns: lm, missing: missing)
  }

  /// An LM run at peak η 0.01 with linear warmup `w`, measured every 5 steps over 60 steps, its
  /// preconditioned λ1 at ratio(step)·38/η_t, its loss 4 per step but `spikeAt` on (×2).
  static func lmRun(warmup w: Int, ratio: (Int) -> Double, spikeAt: Int? = nil, status: TrainingOutcome.Status = .trained) -> AdaptiveWarmupRun {
    let steps = Array(stride(from: 0, through: 60, by: 5))
    let etas = steps.map { w > 0 && $0 < w ? 0.01 * Double($0 + 1) / Double(w) : 0.01 }
    return AdaptiveWarmupRun(
      warmup: w, status: status, failureStep: status.failed ? spikeAt : nil, steps: steps, learningRates: etas,
      lambda1: steps.map { _ in 1 }, preconditioned: zip(steps, etas).map { ratio($0.0) * 38 / $0.1 }, thresholds: etas.map { 38 / $0 },
      losses: (0..<61).map { t in spikeAt.map { t >= $0 ? 8 : 4 } ?? 4 }, finalTrainLoss: nil)
  }

  @Test func aSpikeIsTheSmoothedLossAboveItsRunningMinimumOrAFailure() {
    // Flat at 4, then 8 from step 30: the 10-step mean passes 1.2 × 4 = 4.8 once 3 of 10 steps are 8 (step 32).
    let jump = (0..<50).map { $0 >= 30 ? 8.0 : 4.0 }
    #expect(AdaptiveInstability.spikeStep(losses: jump, divergenceStep: nil) == 32)
    // A falling loss and a single hard batch (×1.5 for one step: the mean moves 5 %) are no spike.
    var falling = (0..<50).map { 5.0 * exp(-Double($0) / 30) }
    falling[25] *= 1.5
    #expect(AdaptiveInstability.spikeStep(losses: falling, divergenceStep: nil) == nil)
    // A non-finite loss or a divergence is one, whichever comes first.
    #expect(AdaptiveInstability.spikeStep(losses: [4, 4, .nan], divergenceStep: nil) == 2)
    #expect(AdaptiveInstability.spikeStep(losses: jump, divergenceStep: 12) == 12)
    #expect(AdaptiveInstability.spikeStep(losses: [4, 4, 4], divergenceStep: 3) == 3)
    // A collapse (the loss never improving) is none: its failure step dates its lowest loss.
    var stuck = Self.lmRun(warmup: 0, ratio: { _ in 2 }, status: .collapsed)
    stuck.failureStep = 7
    #expect(stuck.spikeStep == nil && stuck.spikeCoincides == nil)
  }

  @Test func theCrossingIgnoresStepZeroAndTheSpikeMustComeWhileAboveTheThreshold() {
    let steps = [0, 5, 10, 15, 20]
    // Step 0 (no preconditioner yet) is above; 1.1 is within the band that counts as at the
    // threshold; the first crossing is step 15 (ratio 1.3 > 1.2).
    let ratios = [50, 0.5, 1.1, 1.3, 2]
    #expect(AdaptiveInstability.crossing(steps: steps, ratios: ratios) == 3)
    #expect(AdaptiveInstability.crossing(steps: steps, ratios: [50, 0.5, 1.1, 1.2, 0.9]) == nil)
    // A spike from the measurement before the crossing (10) on, with the ratio still above, coincides.
    #expect(AdaptiveInstability.coincides(spike: 10, crossing: 3, steps: steps, ratios: ratios))
    #expect(AdaptiveInstability.coincides(spike: 24, crossing: 3, steps: steps, ratios: ratios))
    #expect(!AdaptiveInstability.coincides(spike: 9, crossing: 3, steps: steps, ratios: ratios))
    // The ratio back at 0.9 at step 20, before a spike at 22: the crossing did not cause it.
    #expect(!AdaptiveInstability.coincides(spike: 22, crossing: 3, steps: steps, ratios: [50, 0.5, 1.1, 1.3, 0.9]))
  }

  @Test func c11HoldsWhenEveryTrainedWarmupFollowsItsThreshold() {
    let f = Fig14()
    // Warmup 40: at 0.9× 38/η_t throughout (step 0 excepted, where Adam has no preconditioner).
    let tracking = Self.lmRun(warmup: 40, ratio: { $0 == 0 ? 0.01 : 0.9 })
    var c = f.claims(Self.data([], lm: [tracking]))
    #expect(c.map(\.id) == ["C12", "C12b", "C11", "C11b"] && c[2].holds)
    // At 0.3× it never reaches the band: C11 fails, and says why.
    c = f.claims(Self.data([], lm: [Self.lmRun(warmup: 40, ratio: { _ in 0.3 })]))
    #expect(!c[2].holds && c[2].measured.contains("✗"))
  }

  @Test func c11bHoldsWhenEachSpikeComesWithTheFirstCrossing() {
    let f = Fig14()
    // No warmup: below the threshold, then above it from step 20, the loss doubling at step 20
    // and the run diverging there (the divergence is the spike, at the crossing); warmup 40 trains below it throughout.
    let spiking = Self.lmRun(warmup: 0, ratio: { $0 >= 20 ? 3 : 0.5 }, spikeAt: 20, status: .diverged)
    let calm = Self.lmRun(warmup: 40, ratio: { _ in 0.8 })
    #expect(spiking.spikeStep == 20 && spiking.crossing == 4 && spiking.spikeCoincides == true && calm.spikeCoincides == nil)
    #expect(calm.crossing == nil)
    #expect(f.claims(Self.data([], lm: [spiking, calm]))[3].holds)
    // A spike long after a crossing that came back to the threshold (above 1.2× only at steps 5–15, spike at 52) does not coincide.
    let late = Self.lmRun(warmup: 0, ratio: { (5...15).contains($0) ? 3 : 0.5 }, spikeAt: 50)
    #expect(late.spikeStep == 52 && late.spikeCoincides == false && !f.claims(Self.data([], lm: [late, calm]))[3].holds)
    // Without a longer warmup that trains, nothing contrasts with the spike.
    #expect(!f.claims(Self.data([], lm: [spiking]))[3].holds)
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
    // At a sample the sample, even beside an infinite neighbour (not 0·∞ = NaN); between a
    // finite and an infinite one, infinite.
    #expect(quantile(sorted: [430, 580, .infinity], 0.5) == 580)
    #expect(quantile(sorted: [430, .infinity], 0.5) == .infinity)
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
    var d = Self.data(good)
    var c = f.claims(d)
    #expect(c.map(\.id) == ["C12", "C12b", "C11", "C11b"] && c[0].holds && c[1].holds)
    // The β1 = 0 run sits at 1.33× its 2/η: C12b fails, C12 (β1 = 0.9 only) still holds.
    d.runs[2] = Self.run(eta: 0.01, beta1: 0, ratios: [0.4, 1.3, 1.35])
    c = f.claims(d)
    #expect(c[0].holds && !c[1].holds && c[1].measured.contains("✗"))
    d.runs = good
    d.missing = ["mlp-tanh_adam_eta=0.005_b1=0.9_squared"]
    #expect(f.claims(d).prefix(2).allSatisfy { !$0.holds })
  }

  @Test func runsAreListedOnceWhenTheSweepRepeatsAMainRun() {
    var s = AdaptiveSettings.settings(for: .small, seed: 0)
    s.sweepBetas = [0, 0.5, 0.9]
    // η 1e-2 at β1 0.9 is a main run already: 4 + 2 sweep + 1 cross-entropy, then the LM's warmups.
    #expect(s.fullBatchRuns.count == 7 && Set(s.fullBatchRuns).count == 7)
    #expect(s.fullBatchRuns.allSatisfy { $0.batchSize == nil && $0.data.measurementExamples == s.examples })
    #expect(s.runs.count == 7 + s.lmWarmups.count && Set(s.runs.map { Fig14().label($0) }).count == s.runs.count)
    #expect(s.lmRuns.map(\.warmup) == s.lmWarmups.sorted())
    #expect(s.lmRuns.allSatisfy { $0.batchSize == s.lmBatchSize && $0.optimizer == s.adam && $0.learningRate == s.lmLearningRate })
  }

  @Test func driftFlagsAChangedSharpnessAndAMissingRun() {
    let f = Fig14()
    let g = Self.data([Self.run(ratios: [0.3, 1.0]), Self.run(eta: 0.02, ratios: [0.3, 1.0])],
                      lm: [Self.lmRun(warmup: 40, ratio: { _ in 0.8 })])
    #expect(f.drift(g, golden: g).isEmpty)
    var d = g
    d.runs[0] = Self.run(ratios: [0.3, 1.2])
    #expect(f.drift(d, golden: g).count == 1)
    d.runs = [g.runs[0]]
    #expect(!f.drift(d, golden: g).isEmpty)
    d = g
    d.lmRuns[0] = Self.lmRun(warmup: 40, ratio: { $0 > 30 ? 1.0 : 0.8 })
    #expect(f.drift(d, golden: g).count == 1)
    d.lmRuns = []
    #expect(f.drift(d, golden: g).count == 1)
  }

  @Test func invalidSettingsAreRefusedBeforeTraining() {
    var s = AdaptiveSettings.settings(for: .tiny, seed: 0)
    s.learningRates = []
    #expect(throws: RecipeTrainer.InvalidRecipe.self) { try Fig14().validate(s) }
    s = AdaptiveSettings.settings(for: .tiny, seed: 0)
    s.lmWarmups = [0, 10_000]
    #expect(throws: RecipeTrainer.InvalidRecipe.self) { try Fig14().validate(s) }
  }
}
