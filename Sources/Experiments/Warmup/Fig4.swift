import Foundation
import ML
import Plotting

/// One warmup length of a fig4 panel: its λ1 series and how the run ended.
public struct WarmupTrace: Codable, Sendable {
  public var warmup: Int
  public var status: TrainingOutcome.Status
  public var failureStep: Int?
  public var steps: [Int]
  public var learningRates: [Double]
  public var lambda1: [Double]
  public var residuals: [Double]
  /// The last λ1 measured before a failure (a scheduled one or a snapshot's), where the ✕ goes.
  public var lastBeforeFailure: SharpnessRecord?
  public var finalTrainLoss: Double?
  public var testAccuracy: Double?

  public var analysis: WarmupTracking.Analysis? {
    WarmupTracking.analyze(steps: steps, lambda1: lambda1, learningRates: learningRates, warmup: warmup)
  }
}

/// One panel: a model at one peak η, every warmup length.
public struct WarmupPanel: Codable, Sendable {
  public var model: String
  public var learningRate: Double
  public var batchSize: Int
  public var traces: [WarmupTrace]
  /// Warmup lengths whose run is not stored yet (reported, not drawn).
  public var missing: [Int]
}

public struct Fig4Data: Codable, Sendable {
  public var panels: [WarmupPanel]
  public var steps: Int
}

/// Fig 4 (and Fig 15): learning-rate warmup "pushes" the trajectory to flatter regions. For
/// models that fail without warmup at a peak η, several warmup lengths, λ1 measured densely
/// through each warmup: λ1 falls and, once it meets 2/η_t, follows it down for most of the
/// warmup, whatever its length; warmups too short to act fail.
public struct Fig4: Experiment {
  public init() {}
  public let id = "fig4"
  public let title = "Warmup pushes λ1 along 2/η_t"
  public let paperReference = "Fig 4, Fig 15"
  public let resultsVersion = 1

  public func estimatedSeconds(_ scale: ExperimentScale) -> Double? {
    switch scale {
    case .tiny: return 3
    // 2026-12-07, 2-core Xeon (SkylakeX kernels), empty store, within `repro all`: 20.4 min of
    // run time in 10.4 min wall (the ResNet panel's six runs, 140–200 s each, are 16.8 of it).
    case .small: return 624
    case .full: return nil
    }
  }

  public func settings(for scale: ExperimentScale, seed: UInt64) -> WarmupSettings { WarmupSettings.settings(for: scale, seed: seed) }

  public func validate(_ s: WarmupSettings) throws {
    try RecipeTrainer.validate(settingsProblems: s.problems, recipes: s.problems.isEmpty ? s.runs : [])
  }

  public func runs(_ s: WarmupSettings) -> [TrainingRecipe] { s.runs }
  public func label(_ r: TrainingRecipe) -> String { "\(r.row)_eta=\(r.learningRate)_w=\(r.warmup)" }
  public func execute(_ r: TrainingRecipe, settings: WarmupSettings, context: RunContext) throws -> TrainingOutcome {
    try RecipeTrainer.train(r, context: context)
  }

  public func summarize(_ o: TrainingOutcome) -> String {
    var parts = [o.status.rawValue + (o.failureStep.map { " at step \($0)" } ?? "")]
    if let m = o.measurements.first { parts.append(String(format: "λ1 %.3g → %.3g", m.lambda1, o.measurements.last?.lambda1 ?? .nan)) }
    return parts.joined(separator: ", ")
  }

  // MARK: Data

  public func figureData(settings s: WarmupSettings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> Fig4Data {
    let panels = s.panels.map { p -> WarmupPanel in
      var traces: [WarmupTrace] = []
      var missing: [Int] = []
      for w in s.warmups.sorted() {
        let r = s.recipe(row: p.row, learningRate: p.learningRate, warmup: w)
        guard let o = results.first(where: { $0.run == r })?.outcome else { missing.append(w); continue }
        let m = o.measurements
        traces.append(WarmupTrace(
          warmup: w, status: o.status, failureStep: o.failureStep, steps: m.map(\.step), learningRates: m.map(\.learningRate),
          lambda1: m.map(\.lambda1), residuals: m.map(\.residual), lastBeforeFailure: o.lastBeforeFailure,
          finalTrainLoss: o.finalTrainLoss, testAccuracy: o.testAccuracy))
      }
      let batch = s.recipe(row: p.row, learningRate: p.learningRate, warmup: 0).batchSize ?? s.trainExamples
      return WarmupPanel(model: p.row, learningRate: p.learningRate, batchSize: batch, traces: traces, missing: missing)
    }
    return Fig4Data(panels: panels, steps: s.steps)
  }

  // MARK: Claims

  public func claims(_ d: Fig4Data) -> [ClaimOutcome] { [Self.c5(d), Self.c5b(d)] }

  static func f(_ x: Double) -> String { StabilityClaims.fmt(x) }

  /// C5: every warmup that trains pulls λ1 down along 2/η_t (band and fraction: `WarmupTracking`,
  /// fixed before any fig4 run was looked at).
  static func c5(_ d: Fig4Data) -> ClaimOutcome {
    var holds = !d.panels.isEmpty
    var parts: [String] = []
    for p in d.panels {
      let trained = p.traces.filter { $0.warmup > 0 && $0.status == .trained }
      if trained.isEmpty { holds = false }
      let each = trained.map { t -> String in
        guard let a = t.analysis else { holds = false; return "w \(t.warmup): no measurement in warmup" }
        if !a.tracks { holds = false }
        let frac = a.firstReach == nil ? "never reaches the band" : "\(a.inside)/\(a.after) in band from step \(a.firstReach!)"
        return "w \(t.warmup): λ1 \(f(a.lambdaStart)) → \(f(a.lambdaEnd)), \(frac)\(a.slope.map { String(format: ", slope %.2f", $0) } ?? "")\(a.tracks ? "" : " ✗")"
      }
      parts.append("\(ModelCatalog.title(p.model)) at η = \(f(p.learningRate)): " + (each.isEmpty ? "no warmup trains" : each.joined(separator: "; ")))
      if !p.missing.isEmpty { holds = false; parts.append("missing warmups \(p.missing)") }
    }
    return ClaimOutcome(
      id: "C5", statement: "During the warmup period λ1 ≈ 2/η holds for a large part of the warmup phase. Furthermore, this approximation holds even as we vary the length of the warmup period.",
      check: "in every panel, every warmup length whose run trains: λ1 at the end of warmup is below λ1 at step 0, λ1·η_t/2 reaches \(f(WarmupTracking.band.lowerBound)) during warmup, and from then on at least \(Int(100 * WarmupTracking.fraction)) % of the warmup's measurements lie in [\(f(WarmupTracking.band.lowerBound)), \(f(WarmupTracking.band.upperBound))] (minibatch SGD sits somewhat below 2/η_t; band and fraction fixed before the runs); each panel has at least one such run. The slope of log λ1 on log(1/η_t) is reported (1 = exact tracking)",
      holds: holds, measured: parts.joined(separator: " | "))
  }

  /// C5b: warmups too short to act fail where long ones train.
  static func c5b(_ d: Fig4Data) -> ClaimOutcome {
    var holds = !d.panels.isEmpty
    var parts: [String] = []
    for p in d.panels {
      let sorted = p.traces.sorted { $0.warmup < $1.warmup }
      let failed = sorted.filter { $0.status.failed }.map(\.warmup)
      let trained = sorted.filter { $0.status == .trained }.map(\.warmup)
      let noWarmupFails = sorted.first { $0.warmup == 0 }?.status.failed ?? false
      let longestTrains = sorted.last?.status == .trained
      let ordered = (failed.max() ?? -1) < (trained.min() ?? .max)
      let ok = noWarmupFails && longestTrains && ordered && p.missing.isEmpty
      if !ok { holds = false }
      parts.append("\(ModelCatalog.title(p.model)) at η = \(f(p.learningRate)): \(failed.isEmpty ? "no warmup fails" : "warmups " + failed.map(String.init).joined(separator: ", ") + " fail"), \(trained.isEmpty ? "no warmup trains" : "warmups " + trained.map(String.init).joined(separator: ", ") + " train")"
        + (sorted.contains { $0.status == .underTrained } ? ", under-trained \(sorted.filter { $0.status == .underTrained }.map(\.warmup))" : "")
        + (ok ? "" : " ✗"))
    }
    return ClaimOutcome(
      id: "C5b", statement: "Short warmups fail where long ones train (the paper: WMT models diverge with 0 and 400 warmup steps; the pre-activation ResNet-50 diverges quickly without warmup).",
      check: "in every panel: the run without warmup fails (diverges or collapses), the longest warmup trains, and every failing warmup is shorter than every warmup that trains",
      holds: holds, measured: parts.joined(separator: " | "))
  }

  // MARK: Figures

  /// One colour per warmup length, ordered (viridis, dark = short).
  static func colors(_ warmups: [Int]) -> [Int: Color] {
    let sorted = Set(warmups).sorted()
    return Dictionary(uniqueKeysWithValues: zip(sorted, Colormap.viridis.colors(sorted.count)))
  }

  /// The steps a panel shows: the warmups and half as long again (where the mechanism acts;
  /// after it the cosine decay sends 2/η_t to infinity), at least 50 steps.
  static func shownSteps(_ p: WarmupPanel, steps: Int) -> Double {
    Double(min(steps, max(50, 3 * (p.traces.map(\.warmup).max() ?? 0) / 2)))
  }

  /// λ1 limits: from a third of the smallest λ1 shown to 10× the largest λ1 at step 0, so a
  /// diverging run's last exploding values do not squash the rest (its ✕ sits at the top edge).
  static func lambdaLimits(_ p: WarmupPanel, upTo xMax: Double) -> ClosedRange<Double> {
    let shown = p.traces.flatMap { t in zip(t.steps, t.lambda1).filter { Double($0.0) <= xMax && $0.1 > 0 && $0.1.isFinite }.map(\.1) }
    let start = p.traces.compactMap { $0.lambda1.first }.filter { $0 > 0 && $0.isFinite }
    let hi = 10 * (start.max() ?? 1), lo = 0.3 * (shown.min() ?? 1)
    return lo < hi ? lo...hi : (hi / 100)...hi
  }

  static func panelAxes(_ p: WarmupPanel, steps: Int, colors: [Int: Color], letter: String?, legend: LegendPlacement) -> Axes {
    let xMax = shownSteps(p, steps: steps)
    let yLimits = lambdaLimits(p, upTo: xMax)
    var ax = Axes(title: "\(ModelCatalog.title(p.model)), η = \(f(p.learningRate))", x: Axis(label: "step", limits: 0...xMax),
                  y: Axis(scale: .log, label: "λ₁", limits: yLimits))
    for t in p.traces {
      let color = colors[t.warmup] ?? .black
      let x = t.steps.map(Double.init)
      ax.plot(x: x, y: t.lambda1, color: color, label: t.warmup == 0 ? "no warmup" : "warmup \(t.warmup)")
      ax.plot(x: x, y: t.learningRates.map { 2 / $0 }, color: color, width: 1, style: .dashed)
      // ✕ at the failure's step, at the last λ1 before it (or the last measured), clamped to the panel.
      if t.status.failed, let last = t.lastBeforeFailure.map({ ($0.step, $0.lambda1) }) ?? t.steps.indices.last.map({ (t.steps[$0], t.lambda1[$0]) }) {
        let y = last.1.isFinite ? min(max(last.1, yLimits.lowerBound), yLimits.upperBound) : yLimits.upperBound
        ax.scatter(x: [min(Double(t.failureStep ?? last.0), xMax)], y: [y], color: color, marker: .cross, size: 9)
      }
    }
    ax.legendEntries.append(LegendEntry(label: "dashed: 2/η_t", color: .black, line: .dashed))
    if p.traces.contains(where: { $0.status.failed }) {
      ax.legendEntries.append(LegendEntry(label: "✕ failed (at its step; right edge if later)", color: .black, marker: .cross))
    }
    ax.legend = legend
    if let letter { ax.panelLetter(letter) }
    return ax
  }

  public func figure(_ d: Fig4Data, caption: String) -> Figure {
    let n = max(1, d.panels.count)
    var fig = Figure(rows: 1, cols: n, width: Double(n) * 290 + 150, title: "Warmup pushes λ₁ along 2/η_t (cf. Gilmer et al. Fig. 4)",
                     caption: caption)
    let colors = Self.colors(d.panels.flatMap { $0.traces.map(\.warmup) } + d.panels.flatMap(\.missing))
    for (k, p) in d.panels.enumerated() {
      fig[0, k] = Self.panelAxes(p, steps: d.steps, colors: colors, letter: String(UnicodeScalar(UInt8(65 + k))),
                                 legend: k == d.panels.count - 1 ? .outside : .none)
    }
    return fig
  }

  /// Fig 15: the plain model's panel alone, and its λ1 against the fraction of the warmup
  /// elapsed: where λ1 follows 2/η_t, η_t = η·(t+1)/w puts every warmup on one curve
  /// 2/(η·t/w), so the rate at which λ1 falls is set by the warmup's length.
  public func additionalFigures(_ d: Fig4Data, caption: String) -> [(suffix: String, figure: Figure)] {
    guard let p = d.panels.first else { return [] }
    let colors = Self.colors(p.traces.map(\.warmup))
    var fig = Figure(rows: 1, cols: 2, width: 2 * 290 + 150, title: "λ₁ falls at the rate the warmup sets (cf. Gilmer et al. Fig. 15)",
                     caption: caption)
    fig[0, 0] = Self.panelAxes(p, steps: d.steps, colors: colors, letter: "A", legend: .none)
    let limits = Self.lambdaLimits(p, upTo: Self.shownSteps(p, steps: d.steps))
    var scaled = Axes(title: "λ₁ against step / warmup length", x: Axis(label: "step / warmup length", limits: 0...1.5),
                      y: Axis(scale: .log, label: "λ₁", limits: limits))
    let s = stride(from: 0.01, through: 1.5, by: 0.01).map { $0 }
    scaled.plot(x: s, y: s.map { 2 / (p.learningRate * min($0, 1)) }, color: .black, width: 1, style: .dashed, label: "2/η_t (every warmup)")
    for t in p.traces where t.warmup > 0 {
      scaled.plot(x: t.steps.map { Double($0) / Double(t.warmup) }, y: t.lambda1, color: colors[t.warmup] ?? .black,
                  label: "warmup \(t.warmup)\(t.status.failed ? " (\(t.status.rawValue))" : "")")
    }
    scaled.panelLetter("B")
    scaled.legend = .outside
    fig[0, 1] = scaled
    return [("fig15", fig)]
  }

  // MARK: Table

  public func table(_ d: Fig4Data) -> String {
    var rows: [[String]] = []
    for p in d.panels {
      for t in p.traces {
        let a = t.analysis
        let status = t.status.rawValue + (t.failureStep.map { " at \($0)" } ?? "")
        rows.append([
          ModelCatalog.title(p.model), Self.f(p.learningRate), "\(t.warmup)", status, t.lambda1.first.map(Self.f) ?? "–",
          a.map { Self.f($0.lambdaEnd) } ?? "–", a?.firstReach.map(String.init) ?? "–",
          a.map { $0.after > 0 ? "\($0.inside)/\($0.after) (\(String(format: "%.0f", 100 * $0.fractionInside)) %)" : "–" } ?? "–",
          a?.slope.map { String(format: "%.2f", $0) } ?? "–", "\(t.steps.count)",
          t.finalTrainLoss.map { String(format: "%.4f", $0) } ?? "–", t.testAccuracy.map { String(format: "%.3f", $0) } ?? "–",
        ])
      }
    }
    var out = markdownTable(
      headers: ["model", "peak η", "warmup", "outcome", "λ1 at step 0", "λ1 at end of warmup", "first step λ1·η_t/2 ≥ \(Self.f(WarmupTracking.band.lowerBound))",
                "warmup measurements in [\(Self.f(WarmupTracking.band.lowerBound)), \(Self.f(WarmupTracking.band.upperBound))] after it",
                "slope log λ1 / log(1/η_t)", "λ1 measurements", "train loss", "test acc"],
      rows: rows)
    let missing = d.panels.filter { !$0.missing.isEmpty }.map { "\(ModelCatalog.title($0.model)): warmups \($0.missing)" }
    if !missing.isEmpty { out += "\n\nNot stored yet: " + missing.joined(separator: "; ") + "." }
    return out
  }

  /// Same runs with the same outcomes; λ1 at step 0 within 1 %, the same measured steps, every
  /// λ1 of a trained run within its warmup within 10 % (Float32 training, BLAS summation order),
  /// and the median of its λ1 after the warmup within 25 %: at the edge of stability after the
  /// warmup, last-digit differences between two CPUs' BLAS kernels grow into a different phase
  /// of the λ1 oscillation within tens of steps (measured: a tiny run identical to 4 digits for
  /// 10 steps, then 102 against 68 at step 30), while its level stays put.
  public func drift(_ d: Fig4Data, golden g: Fig4Data) -> [String] {
    var out: [String] = []
    let gp = Dictionary(g.panels.map { ("\($0.model) η=\($0.learningRate)", $0) }, uniquingKeysWith: { a, _ in a })
    for p in d.panels {
      let key = "\(p.model) η=\(p.learningRate)"
      guard let q = gp[key] else { out.append("\(key): not in golden"); continue }
      for t in p.traces {
        guard let u = q.traces.first(where: { $0.warmup == t.warmup }) else { out.append("\(key) w=\(t.warmup): not in golden"); continue }
        if t.status != u.status { out.append("\(key) w=\(t.warmup): status \(t.status.rawValue), golden \(u.status.rawValue)") }
        if t.steps != u.steps { out.append("\(key) w=\(t.warmup): measured steps differ") }
        if let a = t.lambda1.first, let b = u.lambda1.first, !StabilityClaims.close(a, b, 0.01) {
          out.append("\(key) w=\(t.warmup): λ1 at step 0 \(a), golden \(b) (1 %)")
        }
        // A failing run's last measurements are chaotic; only trained runs' series are compared.
        guard t.status == .trained else { continue }
        for (k, (a, b)) in zip(t.lambda1, u.lambda1).enumerated() where t.steps[k] < t.warmup && !StabilityClaims.close(a, b, 0.10) {
          out.append("\(key) w=\(t.warmup): λ1 at step \(t.steps[k]) \(a), golden \(b) (10 %)")
          break
        }
        let after = { (r: WarmupTrace) in zip(r.steps, r.lambda1).filter { $0.0 >= r.warmup }.map(\.1).sorted() }
        if let a = quantile(sorted: after(t), 0.5), let b = quantile(sorted: after(u), 0.5), !StabilityClaims.close(a, b, 0.25) {
          out.append("\(key) w=\(t.warmup): median λ1 after warmup \(a), golden \(b) (25 %)")
        }
      }
    }
    return out
  }
}
