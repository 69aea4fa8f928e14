import Foundation
import ML
import Testing
@testable import Experiments

@Suite("fig6: batch-size scaling")
struct BatchScalingTests {
  typealias R = EtaSearch.Result

  @Test func theSearchGoesDownThroughFailuresAndStopsPastTheBest() {
    func n(_ tried: [R]) -> Int { EtaSearch.extent(tried: tried, gridCount: 6, slowerFactor: 2) }
    #expect(n([]) == 1)
    // Failures above the stable region: keep going down.
    #expect(n([.failed]) == 2 && n([.failed, .failed]) == 3)
    // Reached, then faster: keep going; then more than 2× the best: stop.
    #expect(n([.failed, .reached(100)]) == 3)
    #expect(n([.failed, .reached(100), .reached(150)]) == 4)
    #expect(n([.failed, .reached(100), .reached(150), .reached(201)]) == 4)
    #expect(n([.reached(300), .reached(100), .reached(200)]) == 4)  // exactly 2× still goes on
    // A stable run out of budget below a success: lower η only slower; stop. Before any
    // success it may be SGD's noise floor at a large η: go on.
    #expect(n([.failed, .reached(100), .exhausted]) == 3)
    #expect(n([.failed, .exhausted]) == 3 && n([.exhausted, .exhausted]) == 3)
    // A failure below a success (a late collapse) does not stop the walk.
    #expect(n([.reached(100), .failed]) == 3)
    // Never past the grid.
    #expect(n([.failed, .failed, .failed, .failed, .failed, .failed]) == 6)
    #expect(EtaSearch.extent(tried: [], gridCount: 0, slowerFactor: 2) == 0)
  }

  static func run(_ steps: Int?, failed: Bool = false, seed: UInt64 = 0) -> SeedRun {
    SeedRun(seed: seed, status: failed ? .diverged : .trained, stepsToTarget: steps, stepsRun: steps ?? 3, failureStep: failed ? 2 : nil,
            lastAccuracy: nil)
  }

  static func point(_ eta: Double, _ steps: Int?, failed: Bool = false) -> ScalingPoint {
    ScalingPoint(learningRate: eta, runs: [run(steps, failed: failed)])
  }

  @Test func aPointIsTheMedianOverSeedsWithUnreachedSeedsInfinitelySlow() {
    func p(_ runs: [SeedRun]) -> ScalingPoint { ScalingPoint(learningRate: 0.1, runs: runs) }
    #expect(p([Self.run(100), Self.run(300), Self.run(200)]).stepsToTarget == 200)
    // Two of three reached: the median is the slower of the two.
    #expect(p([Self.run(100), Self.run(nil, failed: true), Self.run(200)]).stepsToTarget == 200)
    // One of three: not reached; failed only when most seeds failed.
    let one = p([Self.run(100), Self.run(nil, failed: true), Self.run(nil)])
    #expect(one.stepsToTarget == nil && !one.failed && one.result == .exhausted)
    let most = p([Self.run(100), Self.run(nil, failed: true), Self.run(nil, failed: true)])
    #expect(most.failed && most.result == .failed)
    #expect(p([Self.run(120), Self.run(80)]).stepsToTarget == 100)
  }

  @Test func bestEtaAndTheLargestStableOne() {
    let c = ScalingCell(variant: "v", batch: 64, points: [Self.point(0.01, 400), Self.point(0.02, 200), Self.point(0.05, 200),
                                                        Self.point(0.1, nil, failed: true)])
    // Ties go to the larger η; the best is the largest stable η, with a failure above it.
    #expect(c.best?.learningRate == 0.05 && c.largestStable == 0.05 && c.smallestFailing == 0.1 && c.bestIsLargestStable)
    let top = ScalingCell(variant: "v", batch: 64, points: [Self.point(0.01, 400), Self.point(0.02, 300)])
    // Nothing failed above: the grid's top was stable, so the best η is not known to be pinned.
    #expect(top.best?.learningRate == 0.02 && !top.bestIsLargestStable)
    let below = ScalingCell(variant: "v", batch: 64, points: [Self.point(0.01, 100), Self.point(0.02, 300), Self.point(0.05, nil, failed: true)])
    #expect(below.best?.learningRate == 0.01 && below.largestStable == 0.02 && !below.bestIsLargestStable)
  }

  /// Synthetic data: the low variant halves its steps per doubling with η doubling, the high
  /// one is pinned at η 0.02 and barely speeds up.
  static func data(lowSteps: [Int] = [800, 400, 200, 100], highSteps: [Int] = [400, 300, 280, 270], ratios: [Double?] = [0.3, 0.5, 0.8]) -> Fig6Data {
    let batches = [32, 64, 128, 256]
    var cells: [ScalingCell] = []
    for (k, b) in batches.enumerated() {
      let eta = 0.01 * Double(1 << k)
      cells.append(ScalingCell(variant: "lo", batch: b, points: [point(eta, lowSteps[k]), point(eta * 2, nil, failed: true)]))
      cells.append(ScalingCell(variant: "mid", batch: b, points: [point(0.01, 500)]))
      cells.append(ScalingCell(variant: "hi", batch: b, points: [point(0.01, highSteps[k] * 2), point(0.02, highSteps[k]), point(0.05, nil, failed: true)]))
    }
    let traces = zip([32, 128, 512], ratios).map { b, r in
      CurvatureTrace(batch: b, status: .trained, steps: [0], learningRates: [0.1], lambda1: [1], residuals: [0], testAccuracy: 0.9, midRatio: r)
    }
    return Fig6Data(variants: ["lo", "mid", "hi"], batchSizes: batches, learningRates: [0.01, 0.02, 0.05], referenceBatch: 64,
                    targetAccuracy: 0.85, warmup: 10, lambda1AtInit: [:], cells: cells, curvatureVariant: "mid", curvatureLearningRate: 0.1,
                    curvatureWarmup: 10, curvatureSteps: 100, curvature: traces, missing: [])
  }

  @Test func c9HoldsForLinearLowAndPinnedHighAndFailsOtherwise() {
    #expect(Fig6.c9(Self.data()).holds)
    // Low curvature at a third of linear by batch 256 (steps 400 → 300): not nearly linear.
    #expect(!Fig6.c9(Self.data(lowSteps: [800, 400, 350, 300])).holds)
    // High curvature scaling as well as the low one: not "far less".
    #expect(!Fig6.c9(Self.data(highSteps: [800, 400, 200, 100])).holds)
    var missing = Self.data()
    missing.missing = ["hi at batch 32"]
    #expect(!Fig6.c9(missing).holds)
    // The normalized steps: over batch 64's.
    #expect(Self.data().normalizedSteps("lo") == [32: 2, 64: 1, 128: 0.5, 256: 0.25])
  }

  @Test func c10NeedsTheRatioToRiseTowardOne() {
    #expect(Fig6.c10(Self.data()).holds)
    #expect(Fig6.c10(Self.data(ratios: [0.3, 0.65, 0.62])).holds)          // a dip within 0.05 is allowed
    #expect(!Fig6.c10(Self.data(ratios: [0.3, 0.5, 0.55])).holds)          // below 0.6 at the largest batch
    #expect(!Fig6.c10(Self.data(ratios: [0.5, 0.8, 0.7])).holds)           // falls by 0.1
    #expect(!Fig6.c10(Self.data(ratios: [0.55, 0.6, 0.7])).holds)          // rises by only 0.15
    #expect(!Fig6.c10(Self.data(ratios: [0.3, nil, 0.8])).holds)
    #expect(Fig6.c10(Self.data()).measured.contains("batch 32: 0.30"))
  }

  @Test func theSearchChoosesFromStoredResultsAndStops() throws {
    var s = BatchScalingSettings.settings(for: .tiny, seed: 0)
    s.variants = ["resmlp-bn", "resmlp-none", "resmlp-none-x1.5"]
    let f = Fig6()
    let primary = f.runs(s)
    // Fig 16's runs, then the top of each cell's grid.
    #expect(primary.count == s.curvatureBatchSizes.count + s.cells.count)
    #expect(primary.suffix(s.cells.count).allSatisfy { $0.learningRate == s.learningRates.last! && $0.targetAccuracy == s.targetAccuracy })
    func outcome(_ steps: Int?, failed: Bool = false) -> TrainingOutcome {
      TrainingOutcome(status: failed ? .diverged : .trained, failureStep: failed ? 1 : nil, measurements: [], lastBeforeFailure: nil,
                      initialLoss: 2.3, chanceLoss: 2.3, finalTrainLoss: nil, lossCurve: [2.3], evaluations: [], stepsToTarget: steps)
    }
    let (v, b) = s.cells[0]
    #expect(s.seeds == 1)
    let grid = s.learningRates.reversed().map { s.recipe(variant: v, batch: b, learningRate: $0) }
    // The top failed: the next η down is chosen for that cell (and for every other cell, whose top is stored too).
    var results = primary.map { ($0, outcome(nil, failed: true)) }
    #expect(f.followUpRuns(s, results: results).filter { $0.model == grid[0].model && $0.initScale == grid[0].initScale && $0.batchSize == b } == [grid[1]])
    // The second reached the target, the third took more than twice as long: the cell stops there.
    results += [(grid[1], outcome(10)), (grid[2], outcome(25))]
    let chosen = f.followUpRuns(s, results: results).filter { $0.model == grid[0].model && $0.initScale == grid[0].initScale && $0.batchSize == b }
    #expect(chosen == [grid[1], grid[2]])
    // Exhaustive: the whole grid at once, nothing adaptive.
    s.exhaustive = true
    #expect(f.runs(s).count == s.curvatureBatchSizes.count + s.cells.count * s.learningRates.count)
    #expect(f.followUpRuns(s, results: results).isEmpty)
  }

  @Test func settingsAreValidatedBeforeTraining() {
    var s = BatchScalingSettings.settings(for: .small, seed: 0)
    #expect(s.problems.isEmpty)
    #expect(throws: Never.self) { try Fig6().validate(s) }
    s.referenceBatch = 48
    #expect(s.problems.contains { $0.contains("referenceBatch 48") })
    s = BatchScalingSettings.settings(for: .small, seed: 0)
    s.batchSizes = [64, 32]
    #expect(s.problems.contains { $0.contains("ascend") })
    s = BatchScalingSettings.settings(for: .small, seed: 0)
    s.exampleBudget = 1000
    #expect(s.problems.contains { $0.contains("does not outlast") })
    // Every run of the small scale measures on the same fixed set, whatever its batch.
    s = BatchScalingSettings.settings(for: .small, seed: 0)
    let sets = Set((s.cells.map { s.recipe(variant: $0.variant, batch: $0.batch, learningRate: 0.1) } + s.curvatureBatchSizes.map(s.curvatureRecipe))
      .map { [$0.data.measurementExamples, $0.measurement.ghostBatch ?? 0] })
    #expect(sets == [[s.measurementExamples, s.ghostBatch]])
  }
}
