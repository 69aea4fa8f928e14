import Foundation
import ML
import Plotting

/// The house %.3g formatter for numbers in claims, tables and labels.
private let fmt = StabilityClaims.fmt

/// One full-batch Adam run: its preconditioned sharpness against the threshold.
public struct AdaptiveRun: Codable, Sendable {
  public var learningRate: Double
  public var beta1: Double
  /// "squared" or "cross-entropy".
  public var loss: String
  public var status: TrainingOutcome.Status
  public var failureStep: Int?
  /// (2 + 2β1)/((1 − β1)η): 38/η at β1 = 0.9, 2/η at β1 = 0.
  public var threshold: Double
  public var steps: [Int]
  public var lambda1: [Double]
  /// λ1(P^-1/2 H P^-1/2), P = √v̂ + ε of the step that produced the parameters.
  public var preconditioned: [Double]
  public var preconditionedResiduals: [Double]
  /// The training loss every `traceEvery` steps (full batch: the loss itself, not a minibatch's).
  public var lossSteps: [Int]
  public var losses: [Double]

  /// The stability analysis (`AdaptiveStability`).
  public var stability: AdaptiveStability.Analysis { AdaptiveStability.analyze(self) }
}

/// How a run sits at its threshold: when it first reaches `reach` of it, and the ratio after.
public enum AdaptiveStability {
  /// "Reaches the threshold": the preconditioned λ1 at 0.9 of it.
  public static let reach = 0.9
  /// "Equilibrates at the threshold": the median ratio after reaching it within ±20 %
  /// (fixed before the runs were looked at).
  public static let band: ClosedRange<Double> = 0.8...1.2

  public struct Analysis: Sendable {
    public var firstReach: Int?
    /// Quartiles of preconditioned λ1 / threshold from `firstReach` on.
    public var median: Double?
    public var lowerQuartile: Double?
    public var upperQuartile: Double?
    public var count: Int
    public var equilibrates: Bool { median.map(band.contains) ?? false }
  }

  public static func analyze(_ r: AdaptiveRun) -> Analysis {
    let ratios = r.preconditioned.map { $0 / r.threshold }
    guard let i = ratios.firstIndex(where: { $0 >= reach }) else { return Analysis(count: 0) }
    let after = ratios[i...].filter(\.isFinite).sorted()
    return Analysis(firstReach: r.steps[i], median: quantile(sorted: after, 0.5), lowerQuartile: quantile(sorted: after, 0.25),
                    upperQuartile: quantile(sorted: after, 0.75), count: after.count)
  }
}

public struct Fig14Data: Codable, Sendable {
  public var model: String
  public var width: Int
  public var examples: Int
  public var beta1: Double
  /// The η of the β1 sweep.
  public var sweepLearningRate: Double
  public var runs: [AdaptiveRun]
  /// Runs of the settings not stored yet (labels).
  public var missing: [String]
}

/// Fig 14's adaptive edge of stability (Cohen et al. 2022): in full-batch Adam the
/// preconditioned sharpness rises until it reaches (2 + 2β1)/((1 − β1)η), 38/η at β1 = 0.9, and
/// hovers there; a β1 sweep shows the threshold is that formula. The paper's Fig 14 proper (a
/// Transformer LM with Adam at several warmups) joins this experiment next.
public struct Fig14: Experiment {
  public init() {}
  public let id = "fig14"
  public let title = "Adam's preconditioned sharpness at its threshold 38/η"
  public let paperReference = "Fig 14, Cohen et al. 2022"
  public let resultsVersion = 1

  /// 2026-12-06, 2 cores, empty store: 2.4 min (7 runs of 32–41 s).
  public func estimatedSeconds(_ scale: ExperimentScale) -> Double? { ["tiny": 3, "small": 145][scale.rawValue] }
  public func settings(for scale: ExperimentScale, seed: UInt64) -> AdaptiveSettings { AdaptiveSettings.settings(for: scale, seed: seed) }

  public func validate(_ s: AdaptiveSettings) throws {
    try RecipeTrainer.validate(settingsProblems: s.problems, recipes: s.problems.isEmpty ? s.runs : [])
  }

  public func runs(_ s: AdaptiveSettings) -> [TrainingRecipe] { s.runs }

  static func beta1(_ r: TrainingRecipe) -> Double {
    if case .adam(let b1, _, _, _) = r.optimizer { return b1 }
    return .nan
  }
  static func lossName(_ l: LossKind) -> String { l == .meanSquaredError ? "squared" : "cross-entropy" }

  public func label(_ r: TrainingRecipe) -> String {
    "\(r.row)_adam_eta=\(r.learningRate)_b1=\(Self.beta1(r))_\(Self.lossName(r.loss))"
  }
  public func execute(_ r: TrainingRecipe, settings: AdaptiveSettings, context: RunContext) throws -> TrainingOutcome {
    try RecipeTrainer.train(r, dataDirectory: context.dataDirectory, progress: context.progress)
  }
  public func summarize(_ o: TrainingOutcome) -> String {
    let p = o.measurements.compactMap(\.preconditionedLambda1)
    let t = o.measurements.first?.threshold ?? .nan
    return o.status.rawValue + (o.failureStep.map { " at step \($0)" } ?? "")
      + String(format: ", preconditioned λ1 %.3g → %.3g (threshold %.3g)", p.first ?? .nan, p.last ?? .nan, t)
  }

  public func figureData(settings s: AdaptiveSettings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> Fig14Data {
    var runs: [AdaptiveRun] = []
    var missing: [String] = []
    for r in s.fullBatchRuns {
      guard let o = results.first(where: { $0.run == r })?.outcome else { missing.append(label(r)); continue }
      let m = o.measurements
      let lossSteps = Array(stride(from: 0, to: o.lossCurve.count, by: s.traceEvery))
      runs.append(AdaptiveRun(
        learningRate: r.learningRate, beta1: Self.beta1(r), loss: Self.lossName(r.loss), status: o.status, failureStep: o.failureStep,
        threshold: r.optimizer.stabilityThreshold(learningRate: r.learningRate), steps: m.map(\.step), lambda1: m.map(\.lambda1),
        preconditioned: m.map { $0.preconditionedLambda1 ?? .nan }, preconditionedResiduals: m.map { $0.preconditionedResidual ?? .nan },
        lossSteps: lossSteps, losses: lossSteps.map { o.lossCurve[$0] }))
    }
    return Fig14Data(model: s.model, width: s.width, examples: s.examples, beta1: s.beta1, sweepLearningRate: s.sweepLearningRate, runs: runs, missing: missing)
  }

  // MARK: Claims

  public func claims(_ d: Fig14Data) -> [ClaimOutcome] {
    let squared = d.runs.filter { $0.loss == "squared" }
    let atBeta = squared.filter { $0.beta1 == d.beta1 }.sorted { $0.learningRate < $1.learningRate }
    let sweep = squared.filter { $0.learningRate == d.sweepLearningRate }.sorted { $0.beta1 < $1.beta1 }
    let missing = d.missing.isEmpty ? "" : " | missing: " + d.missing.joined(separator: ", ")
    let check = "the preconditioned λ1 reaches \(fmt(AdaptiveStability.reach)) of its threshold (2 + 2β1)/((1 − β1)η), and the median of preconditioned λ1 / threshold from then on lies in [\(fmt(AdaptiveStability.band.lowerBound)), \(fmt(AdaptiveStability.band.upperBound))] (band fixed before the runs); interquartile range reported"
    let (c12, m12) = Self.equilibrate(atBeta)
    let (c12b, m12b) = Self.equilibrate(sweep)
    return [
      ClaimOutcome(id: "C12", statement: "In full-batch Adam with β1 = 0.9 the top eigenvalue of the preconditioned Hessian equilibrates at 38/η, the stability threshold (2 + 2β1)/((1 − β1)η) (Cohen et al. 2022).",
                   check: "every squared-loss run at β1 = \(fmt(d.beta1)), one per η: " + check, holds: c12 && d.missing.isEmpty, measured: m12 + missing),
      ClaimOutcome(id: "C12b", statement: "The threshold is the formula (2 + 2β1)/((1 − β1)η), not a constant: with β1 = 0 the preconditioned sharpness sits at 2/η.",
                   check: "the β1 sweep at η = \(fmt(d.sweepLearningRate)), every β1: " + check, holds: c12b && d.missing.isEmpty, measured: m12b + missing),
    ]
  }

  /// Whether every run equilibrates at its threshold, and the numbers.
  static func equilibrate(_ runs: [AdaptiveRun]) -> (Bool, String) {
    let parts = runs.map { r -> String in
      let a = r.stability
      let at = a.firstReach.map { "reaches 0.9× at step \($0), then median \(fmt(a.median!)) (IQR \(fmt(a.lowerQuartile!))–\(fmt(a.upperQuartile!)), \(a.count) measurements)" }
        ?? "never reaches 0.9× (max ratio \(fmt((r.preconditioned.filter(\.isFinite).max() ?? .nan) / r.threshold)))"
      return "β1 \(fmt(r.beta1)), η \(fmt(r.learningRate)) (threshold \(fmt(r.threshold))): \(r.status.rawValue), \(at)\(a.equilibrates ? "" : " ✗")"
    }
    return (!runs.isEmpty && runs.allSatisfy(\.stability.equilibrates), parts.isEmpty ? "no runs" : parts.joined(separator: " | "))
  }

  // MARK: Figure

  public func figure(_ d: Fig14Data, caption: String) -> Figure {
    var fig = Figure(rows: 2, cols: 2, width: 2 * 320 + 170, title: "Adam at the edge of stability: preconditioned λ₁ vs (2 + 2β₁)/((1 − β₁)η)",
                     caption: caption)
    let main = d.runs.filter { $0.loss == "squared" && $0.beta1 == d.beta1 }.sorted { $0.learningRate < $1.learningRate }
    let colors = Colormap.viridis.colors(main.count)
    fig[0, 0] = Self.thresholdPanel(title: "squared loss, β₁ = \(fmt(d.beta1)): preconditioned λ₁", runs: main, colors: colors, letter: "A")

    let sweep = d.runs.filter { $0.loss == "squared" && $0.learningRate == d.sweepLearningRate }.sorted { $0.beta1 < $1.beta1 }
    var b = Axes(title: "β₁ sweep at η = \(fmt(d.sweepLearningRate)): ratio to its threshold", x: Axis(label: "step"),
                 y: Axis(scale: .log, label: "λ₁(P⁻¹ᐟ²HP⁻¹ᐟ²) · (1 − β₁)η / (2 + 2β₁)"))
    b.reference(.horizontal(1), label: "threshold")
    for (k, r) in sweep.enumerated() {
      b.plot(x: r.steps.map(Double.init), y: r.preconditioned.map { $0 / r.threshold }, color: Palette.color(k),
             label: "β₁ = \(fmt(r.beta1)) (\(fmt(r.threshold * r.learningRate))/η)")
    }
    b.legend = .outside
    b.panelLetter("B")
    fig[0, 1] = b

    let ce = d.runs.filter { $0.loss == "cross-entropy" }.sorted { $0.learningRate < $1.learningRate }
    fig[1, 0] = Self.thresholdPanel(title: "cross-entropy, β₁ = \(fmt(d.beta1)): preconditioned λ₁", runs: ce,
                                    colors: ce.indices.map(Palette.color), letter: "C")

    var l = Axes(title: "training loss (full batch)", x: Axis(label: "step"), y: Axis(scale: .log, label: "loss"))
    for (k, r) in main.enumerated() {
      l.plot(x: r.lossSteps.map(Double.init), y: r.losses, color: colors[k], label: "squared, η = \(fmt(r.learningRate))")
    }
    for (k, r) in ce.enumerated() {
      l.plot(x: r.lossSteps.map(Double.init), y: r.losses, color: Palette.color(k), style: .dashed, label: "cross-entropy, η = \(fmt(r.learningRate))")
    }
    l.legend = .outside
    l.panelLetter("D")
    fig[1, 1] = l
    return fig
  }

  /// Each run's preconditioned λ1 with its threshold dashed in the same colour.
  static func thresholdPanel(title: String, runs: [AdaptiveRun], colors: [Color], letter: String) -> Axes {
    var a = Axes(title: title, x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁(P⁻¹ᐟ²HP⁻¹ᐟ²)"))
    for (r, color) in zip(runs, colors) {
      a.plot(x: r.steps.map(Double.init), y: r.preconditioned, color: color, label: "η = \(fmt(r.learningRate))")
      a.plot(x: [0, Double(r.steps.last ?? 1)], y: [r.threshold, r.threshold], color: color, width: 1, style: .dashed)
    }
    a.legendEntries.append(LegendEntry(label: "dashed: 38/η", color: .black, line: .dashed))
    a.legend = .outside
    a.panelLetter(letter)
    return a
  }

  // MARK: Table

  public func table(_ d: Fig14Data) -> String {
    let rows = d.runs.map { r -> [String] in
      let a = r.stability
      return [r.loss, fmt(r.beta1), fmt(r.learningRate), fmt(r.threshold), r.status.rawValue + (r.failureStep.map { " at \($0)" } ?? ""),
              fmt(r.preconditioned.first ?? .nan), fmt(r.preconditioned.last ?? .nan), a.firstReach.map(String.init) ?? "never",
              a.median.map(fmt) ?? "–", a.lowerQuartile.map { "\(fmt($0))–\(fmt(a.upperQuartile!))" } ?? "–",
              fmt(r.lambda1.last ?? .nan), r.losses.last.map { String(format: "%.4g", $0) } ?? "–"]
    }
    var out = markdownTable(
      headers: ["loss", "β1", "η", "threshold (2+2β1)/((1−β1)η)", "outcome", "precond. λ1 at step 0", "precond. λ1 at end",
                "first step ≥ 0.9× threshold", "median ratio after", "IQR of ratio", "λ1 (unpreconditioned) at end", "final loss"],
      rows: rows)
    if !d.missing.isEmpty { out += "\n\nNot stored yet: " + d.missing.joined(separator: ", ") + "." }
    return out
  }

  /// Same runs and outcomes; every preconditioned λ1 of a run that did not fail within 10 %.
  public func drift(_ d: Fig14Data, golden g: Fig14Data) -> [String] {
    var out: [String] = []
    for r in d.runs {
      guard let q = g.runs.first(where: { $0.loss == r.loss && $0.beta1 == r.beta1 && $0.learningRate == r.learningRate }) else {
        out.append("\(r.loss) β1=\(r.beta1) η=\(r.learningRate): not in golden"); continue
      }
      let key = "\(r.loss) β1=\(r.beta1) η=\(r.learningRate)"
      if r.status != q.status { out.append("\(key): status \(r.status.rawValue), golden \(q.status.rawValue)") }
      if r.steps != q.steps { out.append("\(key): measured steps differ") }
      for (k, (a, b)) in zip(r.preconditioned, q.preconditioned).enumerated() where !r.status.failed && !StabilityClaims.close(a, b, 0.10) {
        out.append("\(key): preconditioned λ1 at step \(r.steps[k]) \(a), golden \(b) (10 %)")
        break
      }
    }
    if d.runs.count != g.runs.count { out.append("\(d.runs.count) runs, golden \(g.runs.count)") }
    return out
  }
}
