import Foundation
import ML
import Testing
@testable import Experiments

@Suite("fig4: warmup tracking")
struct WarmupExperimentTests {
  /// A warmup of 100 steps to peak 0.1: η_t = 0.1·(t+1)/100.
  static func eta(_ t: Int) -> Double { 0.1 * Double(t + 1) / 100 }

  @Test func exactTrackingHasSlopeOneAndEveryMeasurementInTheBand() throws {
    // λ1 = 0.9·2/η_t all through the warmup: in the band from the first measurement.
    let steps = Array(stride(from: 0, to: 150, by: 5))
    let etas = steps.map { Self.eta(min($0, 99)) }
    let a = try #require(WarmupTracking.analyze(steps: steps, lambda1: etas.map { 1.8 / $0 }, learningRates: etas, warmup: 100))
    #expect(a.falls && a.firstReach == 0 && a.inside == 20 && a.after == 20)
    #expect(abs(try #require(a.slope) - 1) < 1e-9)
    #expect(a.tracks)
  }

  @Test func aPlateauThatMeetsTheFallingThresholdIsTrackedFromWhereItMeetsIt() throws {
    // λ1 = min(50, 0.9·2/η_t): flat while 2/η_t is far above it, then pushed down along it.
    let steps = Array(stride(from: 0, to: 150, by: 5))
    let etas = steps.map { Self.eta(min($0, 99)) }
    let a = try #require(WarmupTracking.analyze(steps: steps, lambda1: etas.map { min(50, 1.8 / $0) }, learningRates: etas, warmup: 100))
    // λ1·η_t/2 = 25·η_t ≥ 0.5 from η_t ≥ 0.02 (t ≥ 19): the first measurement is t = 20; all of
    // 20, 25, …, 95 lie in [0.5, 1.2] (0.525 … 0.9).
    #expect(a.lambdaStart == 50 && a.falls && a.firstReach == 20)
    #expect(a.inside == 16 && a.after == 16 && a.tracks)
    let slope = try #require(a.slope)
    #expect(slope > 0.5 && slope < 1)
  }

  @Test func lambdaThatIgnoresTheScheduleHasSlopeZeroAndDoesNotTrack() throws {
    let steps = Array(stride(from: 0, to: 100, by: 5))
    let a = try #require(WarmupTracking.analyze(steps: steps, lambda1: steps.map { _ in 15 }, learningRates: steps.map(Self.eta), warmup: 100))
    #expect(abs(try #require(a.slope)) < 1e-9)
    #expect(!a.falls && !a.tracks)
    // Constant λ1 = 15: λ1·η_t/2 = 7.5·η_t reaches 0.5 at η_t ≥ 1/15 (t ≥ 66, measured at 70)
    // and would leave the band only above η_t = 0.16, beyond the peak.
    #expect(a.firstReach == 70 && a.inside == a.after && a.after == 6)
  }

  @Test func logSlopeNeedsThreePointsAndSpread() {
    #expect(WarmupTracking.logSlope(x: [1, 2], y: [1, 2]) == nil)
    #expect(WarmupTracking.logSlope(x: [2, 2, 2], y: [1, 2, 3]) == nil)
    let s = WarmupTracking.logSlope(x: [1, 2, 4, 8], y: [3, 12, 48, 192])
    #expect(s.map { abs($0 - 2) < 1e-12 } == true)
  }

  @Test func warmupRunsMeasureAboutTwentyTimesThroughTheWarmup() {
    let s = WarmupSettings.settings(for: .small, seed: 0)
    for w in s.warmups where w > 0 {
      let r = s.recipe(row: s.models[0], learningRate: s.learningRates[0], warmup: w)
      let inWarmup = (0..<w).filter(r.measurement.schedule.contains)
      // Every ⌊w/N⌋ steps: N measurements when N divides w, up to 1.25·N for w between N and 3N.
      #expect(inWarmup.count >= s.measurementsPerWarmup && inWarmup.count <= s.measurementsPerWarmup * 5 / 4, "warmup \(w): \(inWarmup.count)")
      // Dense for half the warmup again, then every traceEvery steps.
      #expect((w..<(w + w / 2)).filter(r.measurement.schedule.contains).count >= s.measurementsPerWarmup / 2 - 1)
      #expect(r.measurement.schedule.contains(0) && r.warmup == w && r.learningRate == s.learningRates[0])
    }
    let none = s.recipe(row: "lm-pre", learningRate: 1, warmup: 0)
    #expect((0..<20).filter(none.measurement.schedule.contains).count == 10)
    #expect(none.batchSize == s.textBatchSize && none.data.measurementExamples == s.textMeasurementSequences)
    #expect(s.recipe(row: "resnet-pre", learningRate: 1, warmup: 0).batchSize == s.convBatchSize)
  }

  @Test func settingsThatCannotMakePanelsAreRefused() {
    var s = WarmupSettings.settings(for: .tiny, seed: 0)
    s.learningRates = [1]
    #expect(throws: RecipeTrainer.InvalidRecipe.self) { try Fig4().validate(s) }
    s = WarmupSettings.settings(for: .tiny, seed: 0)
    s.warmups = [0, 400]
    #expect(throws: RecipeTrainer.InvalidRecipe.self) { try Fig4().validate(s) }
    #expect(throws: (any Error).self) { var t = WarmupSettings.settings(for: .tiny, seed: 0); try t.apply(overrides: ["measurementsPerWarmup=0"]) }
    #expect(throws: Never.self) { try Fig4().validate(WarmupSettings.settings(for: .small, seed: 0)) }
  }

  static func trace(_ w: Int, _ status: TrainingOutcome.Status, tracking: Bool) -> WarmupTrace {
    let steps = Array(stride(from: 0, to: 150, by: 5))
    let etas = steps.map { w > 0 ? 0.1 * Double(min($0, w - 1) + 1) / Double(w) : 0.1 }
    let lambda = zip(steps, etas).map { tracking ? min(50, 0.9 * 2 / $0.1) : 50 + Double($0.0) }
    return WarmupTrace(warmup: w, status: status, failureStep: status.failed ? 10 : nil, steps: steps, learningRates: etas,
                       lambda1: lambda, residuals: lambda.map { _ in 0 }, lastBeforeFailure: nil, finalTrainLoss: nil, testAccuracy: nil)
  }

  @Test func claimsFollowTheirRules() {
    let good = Fig4Data(panels: [WarmupPanel(model: "resmlp-none", learningRate: 0.1, batchSize: 128, traces: [
      Self.trace(0, .diverged, tracking: false), Self.trace(20, .diverged, tracking: false),
      Self.trace(100, .trained, tracking: true), Self.trace(140, .trained, tracking: true)], missing: [])], steps: 150)
    let claims = Fig4().claims(good)
    #expect(claims.map(\.id) == ["C5", "C5b"])
    let allHold = claims.allSatisfy { $0.holds }
    #expect(allHold, "\(claims.map(\.measured))")
    // A trained warmup that does not track breaks C5; a failing warmup longer than a trained one breaks C5b.
    var bad = good
    bad.panels[0].traces[3] = Self.trace(140, .trained, tracking: false)
    let tracking = Fig4().claims(bad)[0].holds
    #expect(!tracking)
    bad = good
    bad.panels[0].traces[3] = Self.trace(140, .diverged, tracking: false)
    let longestFails = Fig4().claims(bad)[1].holds
    #expect(!longestFails)
    bad = good
    bad.panels[0].traces[0] = Self.trace(0, .trained, tracking: false)
    let noWarmupTrains = Fig4().claims(bad)[1].holds
    #expect(!noWarmupTrains)
  }

  @Test func figuresTableAndDriftDrawEveryRun() {
    let d = Fig4Data(panels: [WarmupPanel(model: "resmlp-none", learningRate: 0.1, batchSize: 128, traces: [
      Self.trace(0, .diverged, tracking: false), Self.trace(100, .trained, tracking: true)], missing: [50])], steps: 150)
    let fig = Fig4().figure(d, caption: "")
    #expect(fig.rows == 1 && fig.cols == 1)
    #expect(Fig4().additionalFigures(d, caption: "").map(\.suffix) == ["fig15"])
    let table = Fig4().table(d)
    #expect(table.contains("diverged at 10") && table.contains("Not stored yet"))
    #expect(Fig4().drift(d, golden: d).isEmpty)
    var moved = d
    moved.panels[0].traces[1].lambda1[5] *= 1.2
    #expect(Fig4().drift(moved, golden: d).count == 1)
    // After the warmup (steps 100–145) one λ1 in another phase of the oscillation is no drift;
    // the whole level 50 % higher is.
    moved = d
    moved.panels[0].traces[1].lambda1[25] *= 1.5
    #expect(Fig4().drift(moved, golden: d).isEmpty)
    for k in 20..<30 { moved.panels[0].traces[1].lambda1[k] *= 1.5 }
    #expect(Fig4().drift(moved, golden: d).count == 1)
  }
}
