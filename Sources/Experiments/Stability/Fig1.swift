import Foundation
import ML
import Plotting

public struct Fig1Data: Codable, Sendable {
  public var roles: StabilityRoles
  /// The warmup length of "with warmup" (the grid's shortest positive one; 0: none in the grid).
  public var warmup: Int
  /// Where the loss panel draws runs that failed: the largest initial loss of the runs shown.
  public var lossCeiling: Double
  /// The grid runs of the plain, flatter-init and normalized rows.
  public var points: [StabilityPoint]
  /// Fig 1 right: the plain model at η_A without warmup (Fig 3's A) and with warmup (B).
  public var traces: [LetteredRun]
  /// Traces the sweep had no run for (reported, not faked).
  public var missing: [String]
  /// Boundaries per method (largest trained η, first failing η, seeds' agreement).
  public var boundaries: [String]?
}

/// Fig 1 (and Fig 7): without normalization, three fixes (warmup, a flatter initialization,
/// adding normalization) each train at peak learning rates where the plain model fails. Left:
/// final training loss vs peak η per method; middle: test accuracy (Fig 7); right: λ1 over
/// training for the plain model with and without warmup against 2/η_t. The flatter
/// initialization is the paper's, MetaInit (`DataDrivenInit`).
public struct Fig1: StabilitySweepExperiment {
  public init() {}
  public let id = "fig1"
  public let title = "Warmup, a flatter init and normalization each unlock larger learning rates"
  public let paperReference = "Fig 1, Fig 7"

  /// One curve of the left and middle panels: a row of the grid with or without warmup.
  public struct Method: Sendable, Hashable {
    public var label: String
    public var model: String
    public var warmup: Int
  }

  /// The paper's four methods: the plain model, the same with warmup, the flatter init, with
  /// normalization (the last two without warmup).
  public static func methods(_ d: Fig1Data) -> [Method] {
    // "WRN, no BN" → "no BN", "residual MLP, LayerNorm" → "LayerNorm".
    func short(_ row: String) -> String {
      let parts = ModelCatalog.title(row).components(separatedBy: ", ")
      return parts.count > 1 ? parts.dropFirst().joined(separator: ", ") : parts[0]
    }
    var out = [Method(label: short(d.roles.plain), model: d.roles.plain, warmup: 0)]
    if d.warmup > 0 { out.append(Method(label: "\(short(d.roles.plain)) + warmup \(d.warmup)", model: d.roles.plain, warmup: d.warmup)) }
    out.append(Method(label: "\(short(d.roles.flatterInit)) (flatter init)", model: d.roles.flatterInit, warmup: 0))
    out.append(Method(label: "with \(short(d.roles.normalized))", model: d.roles.normalized, warmup: 0))
    return out
  }

  static func points(_ d: Fig1Data, _ m: Method) -> [StabilityPoint] {
    d.points.filter { $0.model == m.model && $0.warmup == m.warmup }
  }

  public func runs(_ s: StabilitySettings) -> [TrainingRecipe] {
    StabilitySweep.runs(s, models: [s.roles.plain, s.roles.flatterInit, s.roles.normalized].contains)
  }

  /// Picks A and B of Fig 3, traced: the same keys Fig 3 trains, so nothing trains twice.
  public func followUpRuns(_ s: StabilitySettings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> [TrainingRecipe] {
    Fig3.tracedPicks(results, settings: s, limit: 2)
  }

  public func figureData(settings: StabilitySettings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> Fig1Data {
    let shown = [settings.roles.plain, settings.roles.flatterInit, settings.roles.normalized]
    let points = Fig2.data(settings, results).points.filter { shown.contains($0.model) }
    let (traces, missing) = Fig3.letteredRuns(results, settings: settings, limit: 2)
    var d = Fig1Data(roles: settings.roles, warmup: settings.warmups.filter { $0 > 0 }.min() ?? 0,
                     lossCeiling: PerformancePanel.lossCeiling(points), points: points, traces: traces, missing: missing)
    d.boundaries = Self.methods(d).map { m in "\(m.label): \(StabilityClaims.boundary(points, model: m.model, warmup: m.warmup).text)" }
    return d
  }

  // MARK: Claims

  public func claims(_ d: Fig1Data) -> [ClaimOutcome] { [Self.f1(d), Self.f2(d), Self.f3(d)] }

  static func fmt(_ x: Double) -> String { String(format: "%.3g", x) }

  /// F1: each fix trains at some peak η at which the plain model without warmup fails
  /// (majority of seeds on both sides; failing is diverging or collapsing).
  public static func f1(_ d: Fig1Data) -> ClaimOutcome {
    let all = methods(d)
    let plain = all[0]
    let etas = Set(d.points.map(\.learningRate)).sorted()
    let plainFails = etas.filter { StabilityClaims.cell(d.points, model: plain.model, eta: $0, warmup: 0)?.fails ?? false }
    var parts = ["\(plain.label): \(StabilityClaims.boundary(d.points, model: plain.model, warmup: 0).text)"]
    var holds = !plainFails.isEmpty && all.count == 4
    for m in all.dropFirst() {
      let unlocked = plainFails.filter { StabilityClaims.cell(d.points, model: m.model, eta: $0, warmup: m.warmup)?.trains ?? false }
      if unlocked.isEmpty { holds = false }
      let at = unlocked.isEmpty ? "trains at none of the η where plain fails (\(plainFails.map(fmt).joined(separator: ", ")))"
        : "trains where plain fails at η = " + unlocked.map(fmt).joined(separator: ", ")
      parts.append("\(m.label): \(StabilityClaims.boundary(d.points, model: m.model, warmup: m.warmup).text); \(at)")
    }
    if plainFails.isEmpty { parts.append("the plain model fails at no η of the grid") }
    if d.warmup == 0 { parts.append("no warmup in the grid") }
    return ClaimOutcome(
      id: "F1", statement: "Three different methods which when applied to a WideResnet (w/o Batch Normalization) enable training at larger learning rates: learning rate warmup, MetaInit, and adding normalization layers.",
      check: "each fix (plain + warmup; the flatter init, MetaInit; with normalization) trains, in a majority of seeds, at some peak η at which the plain model without warmup fails (diverges or collapses) in a majority of seeds",
      holds: holds, measured: parts.joined(separator: "; "))
  }

  struct PairKey: Hashable { var eta: Double; var seed: Int }

  /// Spearman's rank correlation: Pearson's correlation of the ranks, ties given their mean rank.
  static func spearman(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count, "spearman needs paired samples")
    func ranks(_ v: [Double]) -> [Double] {
      let order = v.indices.sorted { v[$0] < v[$1] }
      var r = [Double](repeating: 0, count: v.count)
      var i = 0
      while i < order.count {
        var j = i
        while j + 1 < order.count && v[order[j + 1]] == v[order[i]] { j += 1 }
        for k in i...j { r[order[k]] = Double(i + j) / 2 + 1 }
        i = j + 1
      }
      return r
    }
    let a = ranks(x), b = ranks(y)
    let n = Double(x.count)
    let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
    let cov = zip(a, b).map { ($0 - ma) * ($1 - mb) }.reduce(0, +)
    let va = a.map { ($0 - ma) * ($0 - ma) }.reduce(0, +), vb = b.map { ($0 - mb) * ($0 - mb) }.reduce(0, +)
    return va > 0 && vb > 0 ? cov / (va * vb).squareRoot() : .nan
  }

  /// Threshold of "test metrics mirror training loss": Spearman ρ(final training loss, test
  /// accuracy) ≤ −0.7 over trained runs (a strong monotone relation, lower loss ↔ higher accuracy).
  public static let f2Threshold = -0.7

  public static func f2(_ d: Fig1Data) -> ClaimOutcome {
    let pairs = d.points.filter { $0.status == .trained }.compactMap { p -> (Double, Double)? in
      guard let l = p.finalTrainLoss, let a = p.testAccuracy, l.isFinite, a.isFinite else { return nil }
      return (l, a)
    }
    let rho = pairs.count >= 3 ? spearman(pairs.map(\.0), pairs.map(\.1)) : .nan
    return ClaimOutcome(
      id: "F2", statement: "The test metrics mirror the training loss (Fig 7).",
      check: "over trained runs of the three rows (with and without warmup), Spearman ρ(final training loss, test accuracy) ≤ \(f2Threshold)",
      holds: rho <= f2Threshold,
      measured: pairs.count >= 3 ? "ρ = \(String(format: "%.2f", rho)) over \(pairs.count) trained runs" : "only \(pairs.count) trained runs with both numbers")
  }

  /// F3: Fig 1 right's two runs (Fig 3's A and B) against the shared warmup-tracking check.
  public static func f3(_ d: Fig1Data) -> ClaimOutcome {
    WarmupTracking.claim(id: "F3", a: d.traces.first { $0.letter == "A" }, b: d.traces.first { $0.letter == "B" }, missing: d.missing)
  }

  // MARK: Figure and table

  public func figure(_ d: Fig1Data, caption: String) -> Figure {
    var fig = Figure(rows: 1, cols: 3, width: 3 * 290 + 20, title: "Three fixes for training without normalization (cf. Gilmer et al. Figs. 1, 7)", caption: caption)
    let base = ModelCatalog.title(d.roles.plain).components(separatedBy: ",").first ?? d.roles.plain
    let series = Self.methods(d).enumerated().map { k, m in
      PerformancePanel.Series(label: m.label, color: Palette.color(k), points: Self.points(d, m))
    }
    var loss = PerformancePanel.axes(title: "\(base): final training loss", metric: .trainLoss(ceiling: d.lossCeiling), series: series)
    loss.legendEntries += PerformancePanel.failureEntries
    loss.legend = .best
    var accuracy = PerformancePanel.axes(title: "\(base): test accuracy (Fig. 7)", metric: .testAccuracy, series: series)
    accuracy.legend = .none
    fig[0, 0] = loss
    fig[0, 1] = accuracy

    var trace = Axes(title: d.traces.first.map { "\(ModelCatalog.title($0.model)), η = \(String(format: "%g", $0.learningRate))" } ?? "λ₁ over training",
                     x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁"))
    for r in d.traces {
      // Colours as in the left panels: the plain model is series 0, with warmup series 1.
      let color = Palette.color(r.warmup > 0 ? 1 : 0)
      let name = r.warmup > 0 ? "warmup \(r.warmup)" : "no warmup"
      let s = r.steps.map(Double.init)
      trace.plot(x: s, y: r.lambda1, color: color, label: "λ₁, \(name)", marker: .circle)
      let threshold = zip(s, r.learningRates).filter { $0.1 > 0 }
      trace.plot(x: threshold.map(\.0), y: threshold.map { 2 / $0.1 }, color: color, style: .dashed, label: "2/η_t, \(name)")
      if let step = r.failureStep {
        trace.reference(.vertical(Double(step)), color: color, style: .dotted, label: "\(r.status.rawValue) (step \(step))")
      }
    }
    if d.traces.isEmpty {
      trace.annotate("no η at which the plain model fails:\nno traces", at: .axes(x: 0.5, y: 0.5), hAlign: .center, vAlign: .center)
    }
    trace.legend = .best
    fig[0, 2] = trace
    return fig
  }

  public func table(_ d: Fig1Data) -> String {
    let seeds = Set(d.points.map(\.seed)).count > 1
    var rows: [[String]] = []
    for m in Self.methods(d) {
      for p in Self.points(d, m).sorted(by: { ($0.learningRate, $0.seed) < ($1.learningRate, $1.seed) }) {
        var row: [String] = [m.label, String(format: "%g", p.learningRate)]
        if seeds { row.append("\(p.seed)") }
        row.append(Fig2.statusText(p))
        row.append(p.finalTrainLoss.map { String(format: "%.4f", $0) } ?? "–")
        row.append(p.testAccuracy.map { String(format: "%.3f", $0) } ?? "–")
        row.append(Fig2.lambdaText(p.lambdaInit))
        row.append(p.panel(Self.panelStep(p)).map { "\(Fig2.lambdaText($0)) @\($0.step)" } ?? "–")
        rows.append(row)
      }
    }
    var t = markdownTable(
      headers: ["method", "peak η"] + (seeds ? ["seed"] : []) + ["status", "final train loss", "test acc", "λ1 init (residual)", "λ1 last mid-training or before failure @step"],
      rows: rows, alignments: [.left, .right] + (seeds ? [.right] : []) + [.left, .right, .right, .right, .right])
    if let b = d.boundaries { t += "\n\nBoundaries (majority of seeds): " + b.joined(separator: "; ") + "." }
    if !d.missing.isEmpty { t += "\n\nNo trace for: " + d.missing.joined(separator: "; ") + "." }
    return t
  }

  /// The latest mid-training step a point measured.
  static func panelStep(_ p: StabilityPoint) -> Int { p.lambdaMid.last?.step ?? -1 }

  /// Tolerances as fig2's for the points; the traces must be the same runs with the same status.
  public func drift(_ d: Fig1Data, golden g: Fig1Data) -> [String] {
    var out = StabilityClaims.drift(d.points, g.points)
    let a = d.traces.map { "\($0.letter) \($0.model) η=\($0.learningRate) w=\($0.warmup) \($0.status.rawValue)" }
    let b = g.traces.map { "\($0.letter) \($0.model) η=\($0.learningRate) w=\($0.warmup) \($0.status.rawValue)" }
    if a != b { out.append("traces \(a), golden \(b)") }
    return out
  }
}
