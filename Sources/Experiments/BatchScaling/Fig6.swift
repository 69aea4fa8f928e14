import Foundation
import ML
import Plotting

private let fmt = StabilityClaims.fmt

/// One seed's run at one η.
public struct SeedRun: Codable, Sendable {
  public var seed: UInt64
  public var status: TrainingOutcome.Status
  /// Steps to the target test accuracy (nil: not reached).
  public var stepsToTarget: Int?
  /// Steps trained (to the target, the failure or the budget).
  public var stepsRun: Int
  public var failureStep: Int?
  public var lastAccuracy: Double?
}

/// One η of one (variant, batch) cell, over its seeds.
public struct ScalingPoint: Codable, Sendable {
  public var learningRate: Double
  public var runs: [SeedRun]

  /// The median over seeds of the steps to target, a seed that did not reach it counting as
  /// infinitely slow: nil unless more than half of the seeds reached it.
  public var stepsToTarget: Int? {
    let s = runs.map { $0.stepsToTarget.map(Double.init) ?? .infinity }.sorted()
    guard let m = quantile(sorted: s, 0.5), m.isFinite else { return nil }
    return Int(m.rounded())
  }
  /// More than half of the seeds diverged or collapsed.
  public var failed: Bool { 2 * runs.filter(\.status.failed).count > runs.count }
  /// The longest any seed trained.
  public var stepsRun: Int { runs.map(\.stepsRun).max() ?? 0 }

  var result: EtaSearch.Result {
    if let s = stepsToTarget { return .reached(s) }
    return failed ? .failed : .exhausted
  }
}

/// The η grid of one variant at one batch size, as far as the search went.
public struct ScalingCell: Codable, Sendable {
  public var variant: String
  public var batch: Int
  /// Ascending η.
  public var points: [ScalingPoint]

  /// The η with the fewest steps to target (the larger on ties).
  public var best: ScalingPoint? {
    points.filter { $0.stepsToTarget != nil }.min { ($0.stepsToTarget!, -$0.learningRate) < ($1.stepsToTarget!, -$1.learningRate) }
  }
  /// The largest η whose runs did not fail (by the majority of seeds).
  public var largestStable: Double? { points.filter { !$0.failed }.map(\.learningRate).max() }
  /// The smallest η that failed above `largestStable` (nil when the grid's top was stable).
  public var smallestFailing: Double? {
    let stable = largestStable ?? 0
    return points.filter { $0.failed && $0.learningRate > stable }.map(\.learningRate).min()
  }
  /// The best η is the largest non-divergent η of the grid (and something above it failed).
  public var bestIsLargestStable: Bool {
    guard let b = best?.learningRate else { return false }
    return b == largestStable && smallestFailing != nil
  }
}

/// A Fig 16 run: λ1 through training at one batch size.
public struct CurvatureTrace: Codable, Sendable {
  public var batch: Int
  public var status: TrainingOutcome.Status
  public var steps: [Int]
  public var learningRates: [Double]
  public var lambda1: [Double]
  public var residuals: [Double]
  public var testAccuracy: Double?
  /// The median of λ1·η_t/2 over the mid-training window (`Fig6.midWindow`).
  public var midRatio: Double?
}

public struct Fig6Data: Codable, Sendable {
  public var variants: [String]
  public var batchSizes: [Int]
  public var learningRates: [Double]
  public var referenceBatch: Int
  public var targetAccuracy: Double
  public var warmup: Int
  /// λ1 at initialization on the measurement set, per variant (from its reference-batch runs).
  public var lambda1AtInit: [String: Double]
  public var cells: [ScalingCell]
  public var curvatureVariant: String
  public var curvatureLearningRate: Double
  public var curvatureWarmup: Int
  public var curvatureSteps: Int
  public var curvature: [CurvatureTrace]
  /// Runs the figure needs that are not stored.
  public var missing: [String]

  public func cell(_ variant: String, _ batch: Int) -> ScalingCell? { cells.first { $0.variant == variant && $0.batch == batch } }

  /// Best steps to target at each batch size over those at the reference batch (nil where not reached).
  public func normalizedSteps(_ variant: String) -> [Int: Double] {
    guard let ref = cell(variant, referenceBatch)?.best?.stepsToTarget else { return [:] }
    var out: [Int: Double] = [:]
    for b in batchSizes { if let s = cell(variant, b)?.best?.stepsToTarget { out[b] = Double(s) / Double(ref) } }
    return out
  }
}

/// Figs 6 and 16: curvature limits batch-size scaling.
public struct Fig6: Experiment {
  public init() {}
  public let id = "fig6"
  public let title = "Curvature limits batch-size scaling"
  public let paperReference = "Fig 6, Fig 16"
  public let resultsVersion = 1

  /// 2026-12-07, 2 cores (Xeon), empty store: 13.4 min for 643 runs (the search's rounds run two at a time).
  public func estimatedSeconds(_ scale: ExperimentScale) -> Double? { ["tiny": 2, "small": 869][scale.rawValue] }
  public func settings(for scale: ExperimentScale, seed: UInt64) -> BatchScalingSettings { BatchScalingSettings.settings(for: scale, seed: seed) }
  public func validate(_ s: BatchScalingSettings) throws {
    let recipes = s.problems.isEmpty ? runs(s) + s.cells.map { s.recipe(variant: $0.variant, batch: $0.batch, learningRate: s.learningRates[0]) } : []
    try RecipeTrainer.validate(settingsProblems: s.problems, recipes: recipes)
  }

  /// Fig 16's runs, and the top of every cell's η grid (the whole grid when `exhaustive`).
  public func runs(_ s: BatchScalingSettings) -> [TrainingRecipe] {
    let grid = s.cells.flatMap { c in
      (s.exhaustive ? s.learningRates.reversed() : [s.learningRates.last!]).flatMap { s.recipes(variant: c.variant, batch: c.batch, learningRate: $0) }
    }
    return s.curvatureBatchSizes.map { s.curvatureRecipe(batch: $0) } + grid
  }

  /// The search (`EtaSearch`): one η further down each unfinished cell per round.
  public func followUpRuns(_ s: BatchScalingSettings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> [TrainingRecipe] {
    guard !s.exhaustive else { return [] }
    let descending = Array(s.learningRates.reversed())
    return s.cells.flatMap { c -> [TrainingRecipe] in
      let grid = descending.map { s.recipes(variant: c.variant, batch: c.batch, learningRate: $0) }
      var tried: [EtaSearch.Result] = []
      for (eta, seeds) in zip(descending, grid) {
        guard let p = Self.point(eta, seeds, results: results), p.runs.count == seeds.count else { break }
        tried.append(p.result)
      }
      let n = EtaSearch.extent(tried: tried, gridCount: descending.count, slowerFactor: s.slowerFactor)
      return grid.prefix(n).dropFirst().flatMap { $0 }
    }
  }
  public func followUpRounds(_ s: BatchScalingSettings) -> Int { s.learningRates.count }

  public func label(_ r: TrainingRecipe) -> String {
    (r.targetAccuracy == nil ? "fig16_" : "") + "\(r.row)_b=\(r.batchSize ?? 0)_eta=\(r.learningRate)_s=\(r.seed)"
  }
  public func execute(_ r: TrainingRecipe, settings: BatchScalingSettings, context: RunContext) throws -> TrainingOutcome {
    try RecipeTrainer.train(r, context: context)
  }
  public func summarize(_ o: TrainingOutcome) -> String {
    if let s = o.stepsToTarget { return "target at step \(s)" }
    let last = o.evaluations.last.map { String(format: ", test acc %.3f", $0.testAccuracy) } ?? ""
    return o.status.rawValue + (o.failureStep.map { " at step \($0)" } ?? "") + last
      + (o.measurements.isEmpty ? "" : ", \(o.measurements.count) λ1")
  }

  /// The stored seeds of one η (nil when none is stored).
  static func point(_ eta: Double, _ seeds: [TrainingRecipe], results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> ScalingPoint? {
    let runs = seeds.compactMap { r -> SeedRun? in
      guard let o = results.first(where: { $0.run == r })?.outcome else { return nil }
      return SeedRun(seed: r.seed, status: o.status, stepsToTarget: o.stepsToTarget, stepsRun: o.failureStep.map { $0 + 1 } ?? o.lossCurve.count,
                     failureStep: o.failureStep, lastAccuracy: o.evaluations.last?.testAccuracy)
    }
    return runs.isEmpty ? nil : ScalingPoint(learningRate: eta, runs: runs)
  }

  /// Fig 16's mid-training window: from the end of warmup to the middle of the run.
  static func midWindow(warmup: Int, steps: Int) -> ClosedRange<Int> { warmup...max(warmup, steps / 2) }

  // MARK: Data

  public func figureData(settings s: BatchScalingSettings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> Fig6Data {
    var missing: [String] = []
    var cells: [ScalingCell] = []
    var lambda0: [String: Double] = [:]
    for c in s.cells {
      var points: [ScalingPoint] = []
      for eta in s.learningRates {
        let seeds = s.recipes(variant: c.variant, batch: c.batch, learningRate: eta)
        guard let p = Self.point(eta, seeds, results: results) else { continue }
        if p.runs.count < seeds.count { missing.append("\(c.variant) at batch \(c.batch), η \(fmt(eta)): \(seeds.count - p.runs.count) seeds") }
        points.append(p)
        if c.batch == s.referenceBatch, lambda0[c.variant] == nil,
           let m = results.first(where: { $0.run == seeds[0] })?.outcome.measurement(at: 0) { lambda0[c.variant] = m.lambda1 }
      }
      if points.isEmpty { missing.append("\(c.variant) at batch \(c.batch)") }
      cells.append(ScalingCell(variant: c.variant, batch: c.batch, points: points))
    }
    let window = Self.midWindow(warmup: s.curvatureWarmup, steps: s.curvatureSteps)
    let traces = s.curvatureBatchSizes.compactMap { b -> CurvatureTrace? in
      let r = s.curvatureRecipe(batch: b)
      guard let o = results.first(where: { $0.run == r })?.outcome else { missing.append("Fig 16 at batch \(b)"); return nil }
      let m = o.measurements
      let ratios = m.filter { window.contains($0.step) && !o.status.failed }.map { $0.lambda1 * $0.learningRate / 2 }.sorted()
      return CurvatureTrace(batch: b, status: o.status, steps: m.map(\.step), learningRates: m.map(\.learningRate), lambda1: m.map(\.lambda1),
                            residuals: m.map(\.residual), testAccuracy: o.testAccuracy, midRatio: quantile(sorted: ratios, 0.5))
    }
    return Fig6Data(variants: s.variants, batchSizes: s.batchSizes, learningRates: s.learningRates, referenceBatch: s.referenceBatch,
                    targetAccuracy: s.targetAccuracy, warmup: s.warmup, lambda1AtInit: lambda0, cells: cells,
                    curvatureVariant: s.curvatureVariant, curvatureLearningRate: s.curvatureLearningRate, curvatureWarmup: s.curvatureWarmup,
                    curvatureSteps: s.curvatureSteps, curvature: traces, missing: missing)
  }

  // MARK: Claims (rules fixed before any fig6 run)

  /// C9, low curvature: at least this fraction of linear speed-up at every batch size from the
  /// reference batch up to `linearRange` times it.
  static let nearlyLinear = 0.5, linearRange = 4
  /// C9, low curvature: the best η at the largest batch is at least this many times that at the smallest.
  static let etaGrowth = 4.0
  /// C9, high curvature: its speed-up at the largest batch is at most this fraction of the low-curvature one's.
  static let farLess = 0.5
  /// C10: the mid-training ratio may dip by this much from one batch size to the next; the
  /// largest batch's ratio exceeds the smallest's by at least `rise` and is at least `approach`.
  static let dip = 0.05, rise = 0.2, approach = 0.6

  public func claims(_ d: Fig6Data) -> [ClaimOutcome] { [Self.c9(d), Self.c10(d)] }

  static func c9(_ d: Fig6Data) -> ClaimOutcome {
    var holds = d.missing.isEmpty && d.variants.count == 3
    var parts: [String] = []
    let low = d.variants.first ?? "", high = d.variants.last ?? ""
    let lowN = d.normalizedSteps(low), highN = d.normalizedSteps(high)
    func speedups(_ n: [Int: Double]) -> String {
      d.batchSizes.map { b in "\(b): " + (n[b].map { String(format: "%.2f", 1 / $0) } ?? "not reached") }.joined(separator: ", ")
    }
    // Low curvature: nearly linear over a range, best η growing.
    let range = d.batchSizes.filter { $0 >= d.referenceBatch && $0 <= linearRange * d.referenceBatch }
    var linearOK = range.count > 1
    for b in range {
      guard let n = lowN[b] else { linearOK = false; continue }
      if 1 / n < nearlyLinear * Double(b) / Double(d.referenceBatch) { linearOK = false }
    }
    let lowBest = d.batchSizes.map { d.cell(low, $0)?.best?.learningRate }
    let known = lowBest.compactMap { $0 }
    let growing = known.count == d.batchSizes.count && zip(known, known.dropFirst()).allSatisfy { $1 >= $0 }
      && (known.last ?? 0) >= etaGrowth * (known.first ?? .infinity)
    if !linearOK || !growing { holds = false }
    parts.append("\(ModelCatalog.title(low)) speed-up over batch \(d.referenceBatch): \(speedups(lowN))\(linearOK ? "" : " ✗")")
    parts.append("its best η: " + zip(d.batchSizes, lowBest).map { "\($0): \($1.map(fmt) ?? "not reached")" }.joined(separator: ", ") + (growing ? "" : " ✗"))
    // High curvature: far less speed-up, best η pinned at the largest stable η.
    let largest = d.batchSizes.last ?? 0
    let farLessOK: Bool
    if let l = lowN[largest], let h = highN[largest] {
      farLessOK = 1 / h <= farLess * (1 / l)
      parts.append("\(ModelCatalog.title(high)) speed-up: \(speedups(highN)); at batch \(largest) \(String(format: "%.2f", 1 / h)) against \(String(format: "%.2f", 1 / l))\(farLessOK ? "" : " ✗")")
    } else {
      farLessOK = false
      parts.append("\(ModelCatalog.title(high)) speed-up: \(speedups(highN)); batch \(largest) not reached by both variants ✗")
    }
    let pinned = d.batchSizes.filter { d.cell(high, $0)?.bestIsLargestStable == true }
    let pinnedOK = 2 * pinned.count > d.batchSizes.count
    if !farLessOK || !pinnedOK { holds = false }
    parts.append("its best η is the largest non-divergent η at \(pinned.count) of \(d.batchSizes.count) batch sizes ("
      + d.batchSizes.map { b in
        let c = d.cell(high, b)
        return "\(b): best \(c?.best.map { fmt($0.learningRate) } ?? "not reached"), largest stable \(c?.largestStable.map(fmt) ?? "none: every η tried failed")"
      }.joined(separator: "; ") + ")" + (pinnedOK ? "" : " ✗"))
    if !d.missing.isEmpty { parts.append("missing: " + d.missing.joined(separator: ", ")) }
    return ClaimOutcome(
      id: "C9", statement: "The low curvature model shows almost linear speedups in training speed as the batch size increases. In contrast, the high curvature model exhibits only minimal improvements in training speed with larger batch sizes. [...] for the low curvature model η increases linearly with the batch size [...] for the high curvature model η is almost always the largest non-divergent value.",
      check: "best steps to \(Int((100 * d.targetAccuracy).rounded())) % test accuracy per batch size, over the η grid: the low-curvature variant's speed-up over batch \(d.referenceBatch) is at least \(fmt(nearlyLinear))× linear at every batch size up to \(linearRange * d.referenceBatch), and its best η never falls with batch size and grows at least \(fmt(etaGrowth))× from the smallest to the largest; the high-curvature variant's speed-up at the largest batch is at most \(fmt(farLess))× the low-curvature one's, and its best η is the largest η that did not fail (with a failing η above it) at more than half of the batch sizes (fixed before the runs)",
      holds: holds, measured: parts.joined(separator: " | "))
  }

  static func c10(_ d: Fig6Data) -> ClaimOutcome {
    let ratios = d.curvature.map { ($0.batch, $0.midRatio) }
    let known = ratios.compactMap { $0.1 }
    var holds = d.missing.filter { $0.hasPrefix("Fig 16") }.isEmpty && known.count == d.curvature.count && known.count >= 2
    if holds {
      let rises = zip(known, known.dropFirst()).allSatisfy { $1 >= $0 - dip }
      holds = rises && known.last! - known.first! >= rise && known.last! >= approach
    }
    let window = midWindow(warmup: d.curvatureWarmup, steps: d.curvatureSteps)
    return ClaimOutcome(
      id: "C10", statement: "For a small batch size (32), the mid training curvature hovers significantly below the 2.0/η approximation. As the batch size increases to 2048, the mid training curvature is larger, approaching the 2.0/η approximation.",
      check: "\(ModelCatalog.title(d.curvatureVariant)) at peak η \(fmt(d.curvatureLearningRate)), warmup \(d.curvatureWarmup), cosine decay over \(d.curvatureSteps) steps, at each batch size: the median of λ1·η_t/2 over steps \(window.lowerBound)–\(window.upperBound); it never falls by more than \(fmt(dip)) from one batch size to the next, rises by at least \(fmt(rise)) from the smallest batch to the largest, and reaches at least \(fmt(approach)) there (fixed before the runs)",
      holds: holds,
      measured: ratios.map { "batch \($0.0): " + ($0.1.map { String(format: "%.2f", $0) } ?? "no mid-training λ1 (run failed or missing)") }.joined(separator: ", "))
  }

  // MARK: Figures and table

  static let variantColors = [Palette.blue, Palette.orange, Palette.vermillion]

  func variantLabel(_ d: Fig6Data, _ k: Int) -> String {
    let role = ["low", "medium", "high"][min(k, 2)]
    let v = d.variants[k]
    return "\(role): \(ModelCatalog.title(v))" + (d.lambda1AtInit[v].map { " (λ₁₀ \(fmt($0)))" } ?? "")
  }

  static func batchTicks(_ sizes: [Int]) -> [Tick] { sizes.map { Tick(value: Double($0), label: "\($0)") } }

  public func figure(_ d: Fig6Data, caption: String) -> Figure {
    var fig = Figure(rows: 2, cols: 2, width: 2 * 340 + 330, height: 2 * 240 + 60,
                     title: "Large curvature limits batch-size scaling (cf. Gilmer et al. Fig. 6)", caption: caption)
    let xb = Axis(scale: .log, label: "batch size", ticks: Self.batchTicks(d.batchSizes))
    var a = Axes(title: "steps to \(Int((100 * d.targetAccuracy).rounded())) % / steps at batch \(d.referenceBatch)", x: xb,
                 y: Axis(scale: .log, label: "normalized steps"))
    let bs = d.batchSizes.map(Double.init)
    a.plot(x: bs, y: bs.map { Double(d.referenceBatch) / $0 }, color: .black, width: 1, style: .dashed, label: "linear scaling")
    var b = Axes(title: "best η per batch size", x: xb, y: Axis(scale: .log, label: "best η"))
    for (k, v) in d.variants.enumerated() {
      let n = d.normalizedSteps(v)
      let xs = d.batchSizes.filter { n[$0] != nil }
      let color = Self.variantColors[k % 3]
      a.plot(x: xs.map(Double.init), y: xs.map { n[$0]! }, color: color, label: variantLabel(d, k), marker: .circle)
      let cells = d.batchSizes.compactMap { d.cell(v, $0) }.filter { $0.best != nil }
      b.plot(x: cells.map { Double($0.batch) }, y: cells.map { $0.best!.learningRate }, color: color, marker: .circle)
      let stable = d.batchSizes.compactMap { d.cell(v, $0) }.filter { $0.largestStable != nil }
      b.plot(x: stable.map { Double($0.batch) }, y: stable.map { $0.largestStable! }, color: color, width: 1, style: .dotted)
    }
    a.legend = .none
    b.legendEntries = [LegendEntry(label: "best η", color: .black, marker: .circle, line: .solid),
                       LegendEntry(label: "largest η that did not fail", color: .black, line: .dotted)]
      + d.variants.indices.map { LegendEntry(label: variantLabel(d, $0), color: Self.variantColors[$0 % 3], line: .solid) }
    b.legend = .outside
    a.panelLetter("A")
    b.panelLetter("B")
    fig[0, 0] = a
    fig[0, 1] = b
    for (col, k) in [0, d.variants.count - 1].enumerated() where k >= 0 && k < d.variants.count {
      fig[1, col] = stepsPanel(d, variant: k, letter: col == 0 ? "C" : "D", legend: col == 1)
    }
    return fig
  }

  /// Steps to target against η, one line per batch size; ✕ at failed η (drawn at the top).
  func stepsPanel(_ d: Fig6Data, variant k: Int, letter: String, legend: Bool) -> Axes {
    let v = d.variants[k]
    let colors = Colormap.viridis.colors(d.batchSizes.count)
    // Panels C and D share both axes (the whole grid, every step count reached), so the two
    // variants compare at a glance; the failed η sit on the top edge.
    let reached = d.cells.flatMap(\.points).compactMap(\.stepsToTarget).map(Double.init)
    let top = 1.5 * (reached.max() ?? 1000)
    let steps = (0.7 * (reached.min() ?? 1))...(1.15 * top)
    let etas = (d.learningRates.first ?? 1e-3) / 1.4...(d.learningRates.last ?? 1) * 1.4
    var a = Axes(title: "\(["low", "medium", "high"][min(k, 2)]) curvature: \(ModelCatalog.title(v))",
                 x: Axis(scale: .log, label: "η", limits: etas),
                 y: Axis(scale: .log, label: "steps to \(Int((100 * d.targetAccuracy).rounded())) %", limits: steps))
    for (j, batch) in d.batchSizes.enumerated() {
      guard let c = d.cell(v, batch) else { continue }
      let done = c.points.filter { $0.stepsToTarget != nil }
      a.plot(x: done.map(\.learningRate), y: done.map { Double($0.stepsToTarget!) }, color: colors[j], label: "batch \(batch)", marker: .circle)
      let failed = c.points.filter(\.failed)
      if !failed.isEmpty {
        a.scatter(x: failed.map(\.learningRate), y: failed.map { _ in top }, color: colors[j], marker: .cross, size: 5)
      }
    }
    a.legendEntries = [LegendEntry(label: "failed (diverged or collapsed)", color: .black, marker: .cross)]
    a.legend = legend ? .outside : .none
    a.panelLetter(letter)
    return a
  }

  /// Fig 16: λ1 through training at each batch size against 2/η_t, and the mid-training ratio.
  public func additionalFigures(_ d: Fig6Data, caption: String) -> [(suffix: String, figure: Figure)] {
    var fig = Figure(rows: 1, cols: 2, width: 2 * 300 + 200, title: "Mid-training λ₁ approaches 2/η as the batch grows (cf. Gilmer et al. Fig. 16)",
                     caption: caption)
    let colors = Colormap.viridis.colors(max(1, d.curvature.count))
    var a = Axes(title: "\(ModelCatalog.title(d.curvatureVariant)), peak η \(fmt(d.curvatureLearningRate)), warmup \(d.curvatureWarmup)",
                 x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁"))
    for (j, t) in d.curvature.enumerated() {
      a.plot(x: t.steps.map(Double.init), y: t.lambda1, color: colors[j], label: "batch \(t.batch)" + (t.status.failed ? " (\(t.status.rawValue))" : ""))
    }
    if let t = d.curvature.first {
      // 2/η_t is the same schedule for every batch size.
      let shown = zip(t.steps, t.learningRates).filter { $0.0 >= d.curvatureWarmup / 4 }
      a.plot(x: shown.map { Double($0.0) }, y: shown.map { 2 / $0.1 }, color: .black, width: 1, style: .dashed, label: "2/η_t")
    }
    a.legend = .none
    a.panelLetter("A")
    let window = Self.midWindow(warmup: d.curvatureWarmup, steps: d.curvatureSteps)
    var b = Axes(title: "median λ₁·η_t/2, steps \(window.lowerBound)–\(window.upperBound)",
                 x: Axis(scale: .log, label: "batch size", ticks: Self.batchTicks(d.curvature.map(\.batch))),
                 y: Axis(label: "λ₁ / (2/η_t)", limits: 0...max(1.2, (d.curvature.compactMap(\.midRatio).max() ?? 0) * 1.1)))
    let known = d.curvature.filter { $0.midRatio != nil }
    b.plot(x: known.map { Double($0.batch) }, y: known.map { $0.midRatio! }, color: .black, marker: .circle)
    b.reference(.horizontal(1), label: "λ₁ = 2/η_t")
    b.legendEntries = d.curvature.enumerated().map { LegendEntry(label: "batch \($0.element.batch)", color: colors[$0.offset], line: .solid) }
      + [LegendEntry(label: "2/η_t", color: .black, line: .dashed)]
    b.legend = .outside
    b.panelLetter("B")
    fig[0, 0] = a
    fig[0, 1] = b
    return [("fig16", fig)]
  }

  /// "180 (172, 180, 196)", "✕ (diverged at 9, 9, 10)", "not reached (4 000 steps, acc 0.84)".
  static func describe(_ p: ScalingPoint) -> String {
    func one(_ r: SeedRun) -> String {
      if let s = r.stepsToTarget { return "\(s)" }
      if r.status.failed { return "✕\(r.status == .collapsed ? " collapsed" : "")" + (r.failureStep.map { " at \($0)" } ?? "") }
      return "– (\(r.stepsRun) steps" + (r.lastAccuracy.map { String(format: ", acc %.3f", $0) } ?? "") + ")"
    }
    let head = p.stepsToTarget.map { "\($0)" } ?? (p.failed ? "✕" : "not reached")
    return p.runs.count == 1 ? one(p.runs[0]) : head + " (" + p.runs.map(one).joined(separator: ", ") + ")"
  }

  public func table(_ d: Fig6Data) -> String {
    var rows: [[String]] = []
    for (k, v) in d.variants.enumerated() {
      let n = d.normalizedSteps(v)
      for b in d.batchSizes {
        guard let c = d.cell(v, b) else { continue }
        let tried = c.points.reversed().map { p in fmt(p.learningRate) + ": " + Self.describe(p) }
        rows.append([b == d.batchSizes.first ? variantLabel(d, k) : "", "\(b)", c.best.map { fmt($0.learningRate) } ?? "–",
                     c.best?.stepsToTarget.map { "\($0)" } ?? "not reached", n[b].map { String(format: "%.3f", $0) } ?? "–",
                     c.largestStable.map(fmt) ?? "every η tried failed", c.bestIsLargestStable ? "yes" : "no", tried.joined(separator: "; ")])
      }
    }
    var out = "Steps to \(Int((100 * d.targetAccuracy).rounded())) % test accuracy (warmup \(d.warmup) steps, then constant η; η tried from the top of the grid down; the median over seeds, a seed that did not reach the target counting as infinitely slow, with each seed's in brackets; ✕ failed):\n\n"
    out += markdownTable(headers: ["variant", "batch", "best η", "steps", "steps / steps at \(d.referenceBatch)", "largest η not failing",
                                   "best = largest", "η tried: steps to target"], rows: rows)
    out += "\n\nFig 16 (\(ModelCatalog.title(d.curvatureVariant)), peak η \(fmt(d.curvatureLearningRate)), warmup \(d.curvatureWarmup), cosine over \(d.curvatureSteps) steps):\n\n"
    out += markdownTable(headers: ["batch", "outcome", "median λ₁·η_t/2 mid-training", "λ₁ measurements", "worst residual / λ₁", "test accuracy"],
                         rows: d.curvature.map { t in
                           ["\(t.batch)", t.status.rawValue, t.midRatio.map { String(format: "%.3f", $0) } ?? "–", "\(t.lambda1.count)",
                            zip(t.residuals, t.lambda1).map { $0 / abs($1) }.max().map { String(format: "%.1e", $0) } ?? "–",
                            t.testAccuracy.map { String(format: "%.3f", $0) } ?? "–"]
                         })
    if !d.missing.isEmpty { out += "\n\nNot stored yet: " + d.missing.joined(separator: ", ") + "." }
    return out
  }

  /// Same cells with the same η tried, outcomes and best η; steps to target within 25 %; Fig
  /// 16's statuses equal and mid-training ratios within 0.1.
  public func drift(_ d: Fig6Data, golden g: Fig6Data) -> [String] {
    var out: [String] = []
    for c in d.cells {
      guard let u = g.cell(c.variant, c.batch) else { out.append("\(c.variant) batch \(c.batch): not in golden"); continue }
      if c.points.map(\.learningRate) != u.points.map(\.learningRate) {
        out.append("\(c.variant) batch \(c.batch): η tried \(c.points.map(\.learningRate)), golden \(u.points.map(\.learningRate))")
        continue
      }
      for (p, q) in zip(c.points, u.points) {
        if p.failed != q.failed || (p.stepsToTarget == nil) != (q.stepsToTarget == nil) {
          out.append("\(c.variant) batch \(c.batch) η \(p.learningRate): \(Self.describe(p)), golden \(Self.describe(q))")
        } else if let a = p.stepsToTarget, let b = q.stepsToTarget, abs(Double(a - b)) > 0.25 * Double(b) {
          out.append("\(c.variant) batch \(c.batch) η \(p.learningRate): \(a) steps to target, golden \(b)")
        }
      }
    }
    for t in d.curvature {
      guard let u = g.curvature.first(where: { $0.batch == t.batch }) else { out.append("Fig 16 batch \(t.batch): not in golden"); continue }
      if t.status != u.status { out.append("Fig 16 batch \(t.batch): \(t.status.rawValue), golden \(u.status.rawValue)") }
      if let a = t.midRatio, let b = u.midRatio, abs(a - b) > 0.1 { out.append("Fig 16 batch \(t.batch): mid ratio \(a), golden \(b)") }
      if (t.midRatio == nil) != (u.midRatio == nil) { out.append("Fig 16 batch \(t.batch): mid ratio present differs from golden") }
    }
    return out
  }
}
