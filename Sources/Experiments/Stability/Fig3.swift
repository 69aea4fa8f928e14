import Foundation
import ML
import Plotting

/// One lettered run of Fig 3: its λ1 and η time series.
public struct LetteredRun: Codable, Sendable {
  public var letter: String
  /// What the paper's panel shows with this letter.
  public var role: String
  public var model: String
  public var learningRate: Double
  public var warmup: Int
  public var status: TrainingOutcome.Status
  /// The step of a failure (diverged or collapsed).
  public var failureStep: Int?
  public var steps: [Int]
  public var learningRates: [Double]
  public var lambda1: [Double]
  /// Each λ1's explicit residual.
  public var residuals: [Double]?
  /// Minibatch training loss at every step (Figs 8 and 13).
  public var losses: [Double]?
}

public struct Fig3Data: Codable, Sendable {
  public var points: [StabilityPoint]
  /// Roles the sweep had no run for (reported, not faked).
  public var missing: [String]
  public var runs: [LetteredRun]
  /// Steps of each run.
  public var steps: Int
  /// The mid-training step of the top row's right panel.
  public var midStep: Int
}

/// Fig 3 (and Figs 8, 13): the λ1-vs-η scatter of the WRN variants with selected runs
/// lettered, and beneath, the full time series of λ1 against 2/η for each lettered run. The
/// letters are picked from the grid by the rules of `lettered` (the paper's behaviours), then
/// re-trained as trace runs that measure λ1 every `traceEvery` steps.
public struct Fig3: StabilitySweepExperiment {
  public init() {}
  public let id = "fig3"
  public let title = "λ1 and 2/η over training for selected runs"
  public let paperReference = "Fig 3, Fig 8, Fig 13"

  /// Fig 3's top row shows the variants of the plain model only (the paper: WRN ± BN, 1.5×
  /// init, MetaInit).
  public func runs(_ s: StabilitySettings) -> [TrainingRecipe] { StabilitySweep.runs(s, models: s.roles.all.contains) }

  public func followUpRuns(_ s: StabilitySettings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> [TrainingRecipe] {
    Self.tracedPicks(results, settings: s)
  }

  /// One of the paper's lettered behaviours and the grid run picked for it (nil: none shows it).
  public struct Pick {
    public var role: String
    public var run: TrainingRecipe?
  }

  /// The paper's letters, each a rule over the grid of the role models; "trains" and "fails"
  /// are the majority over seeds (`StabilityClaims.cell`; failing is diverging or collapsing),
  /// and the run traced is the first seed's:
  /// A: the plain model at η_A without warmup, η_A the smallest η at which it fails without
  ///    warmup and trains with it (else the smallest η at which it fails);
  /// B: the same with warmup (the paper: warmup lets it train at η_A);
  /// C: the flatter initialization (MetaInit, as the paper's) at η_A without warmup;
  /// D: a failed run other than A–C that started below 2/η (the one furthest below);
  /// E: the plain model at the smallest η (progressive sharpening);
  /// F: the worse (1.5×) init with warmup at the largest η where it trains only with warmup.
  public static func lettered(_ results: [(run: TrainingRecipe, outcome: TrainingOutcome)], settings s: StabilitySettings) -> [Pick] {
    let roles = s.roles
    let grid = results.filter { !$0.run.measurement.isTrace && roles.all.contains($0.run.row) }
    let points = Fig2.data(s, grid).points
    let firstSeed = grid.map(\.run.seed).min() ?? 0
    func find(_ model: String, _ eta: Double, _ warmup: Int) -> TrainingRecipe? {
      grid.first { $0.run.row == model && $0.run.learningRate == eta && $0.run.warmup == warmup && $0.run.seed == firstSeed }?.run
    }
    let warmup = grid.map(\.run.warmup).filter { $0 > 0 }.min()
    let etas = Set(grid.filter { $0.run.row == roles.plain }.map(\.run.learningRate)).sorted()
    let failing = etas.filter { StabilityClaims.cell(points, model: roles.plain, eta: $0, warmup: 0)?.fails ?? false }
    let rescued = warmup.map { StabilityClaims.rescued(points, model: roles.plain, warmup: $0) } ?? []
    let etaA = rescued.first ?? failing.first
    let a = etaA.flatMap { find(roles.plain, $0, 0) }
    let b = etaA.flatMap { e in warmup.flatMap { find(roles.plain, e, $0) } }
    let c = etaA.flatMap { find(roles.flatterInit, $0, 0) }
    func ratio0(_ r: (run: TrainingRecipe, outcome: TrainingOutcome)) -> Double {
      (r.outcome.measurement(at: 0)?.lambda1 ?? .nan) * r.run.learningRate / 2
    }
    let d = grid.filter { $0.run.seed == firstSeed && $0.outcome.status.failed && ratio0($0) < 1 && ![a, b, c].contains($0.run) }
      .min { ratio0($0) < ratio0($1) }?.run
    let f = warmup.flatMap { w in StabilityClaims.rescued(points, model: roles.worseInit, warmup: w).last.flatMap { find(roles.worseInit, $0, w) } }
    return [
      Pick(role: "diverges within a few steps", run: a),
      Pick(role: "same η with warmup: λ1 falls until the peak η", run: b),
      Pick(role: "flatter init at the same η: sharpens up to 2/η", run: c),
      Pick(role: "starts below 2/η, sharpens and fails", run: d),
      Pick(role: "small η: progressive sharpening", run: etas.first.flatMap { find(roles.plain, $0, 0) }),
      Pick(role: "warmup recovers the worse init (fails without)", run: f),
    ]
  }

  /// The first `limit` letters with their traced outcomes (Fig 1 shows A and B); a letter whose
  /// rule picked no run, or whose trace is not stored yet, is listed as missing.
  public static func letteredRuns(_ results: [(run: TrainingRecipe, outcome: TrainingOutcome)], settings: StabilitySettings,
                                  limit: Int = .max) -> (runs: [LetteredRun], missing: [String]) {
    var runs: [LetteredRun] = []
    var missing: [String] = []
    for (k, pick) in lettered(results, settings: settings).prefix(limit).enumerated() {
      let letter = String(UnicodeScalar(UInt8(65 + k)))
      guard let r = pick.run, let o = results.first(where: { $0.run == StabilitySweep.traced(r, settings) })?.outcome else {
        missing.append("\(letter) (\(pick.role))")
        continue
      }
      runs.append(LetteredRun(
        letter: letter, role: pick.role, model: r.row, learningRate: r.learningRate, warmup: r.warmup, status: o.status,
        failureStep: o.failureStep, steps: o.measurements.map(\.step), learningRates: o.measurements.map(\.learningRate),
        lambda1: o.measurements.map(\.lambda1), residuals: o.measurements.map(\.residual), losses: o.lossCurve))
    }
    return (runs, missing)
  }

  /// The traced follow-ups of the first `limit` letters, each run once.
  public static func tracedPicks(_ results: [(run: TrainingRecipe, outcome: TrainingOutcome)], settings: StabilitySettings,
                                 limit: Int = .max) -> [TrainingRecipe] {
    // Two letters may pick one run: trace it once.
    var seen = Set<TrainingRecipe>()
    return lettered(results, settings: settings).prefix(limit).compactMap { $0.run.map { StabilitySweep.traced($0, settings) } }
      .filter { seen.insert($0).inserted }
  }

  public func figureData(settings: StabilitySettings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> Fig3Data {
    let lettered = Self.letteredRuns(results, settings: settings)
    return Fig3Data(points: Fig2.data(settings, results).points, missing: lettered.missing, runs: lettered.runs,
                    steps: settings.steps, midStep: settings.midStep)
  }

  public func claims(_ d: Fig3Data) -> [ClaimOutcome] {
    let a = d.runs.first { $0.letter == "A" }, b = d.runs.first { $0.letter == "B" }
    var out = [StabilityClaims.c4(d.points), WarmupTracking.claim(id: "C5a", a: a, b: b, missing: d.missing.filter { $0.hasPrefix("A") || $0.hasPrefix("B") })]
    // Each lettered run shows the behaviour the paper's letter describes.
    let quick = max(1, d.steps / 20)
    var shown: [String] = [], notShown: [String] = []
    for r in d.runs {
      let ratios = zip(r.lambda1, r.learningRates).map { $0 * $1 / 2 }
      let first = r.lambda1.first ?? .nan
      let failedAt = r.failureStep.map { " at step \($0)" } ?? ""
      let (ok, what): (Bool, String)
      switch r.letter {
      case "A": (ok, what) = (r.status.failed && (r.failureStep ?? .max) <= quick, "\(r.status.rawValue)\(failedAt)")
      case "B", "F":
        let t = WarmupTracking.analyze(r)
        (ok, what) = (r.status == .trained, "\(r.status.rawValue)" + (t.map { ", \($0.text)" } ?? ""))
      case "C":
        (ok, what) = (r.status == .trained && (ratios.first ?? 1) < 0.5 && ratios.contains { $0 >= WarmupTracking.band.lowerBound },
                      "\(r.status.rawValue), λ1·η_t/2 from \(String(format: "%.2f", ratios.first ?? .nan)) to max \(String(format: "%.2f", ratios.max() ?? .nan))")
      case "D": (ok, what) = (r.status.failed && (ratios.first ?? 2) < 1, "λ1₀·η/2 = \(String(format: "%.2f", ratios.first ?? .nan)), \(r.status.rawValue)\(failedAt)")
      default:
        let peak = r.lambda1.dropFirst().max() ?? .nan
        (ok, what) = (peak >= 1.2 * first, "λ1 \(String(format: "%.3g", first)) → max \(String(format: "%.3g", peak))")
      }
      if ok { shown.append("\(r.letter) \(what)") } else { notShown.append("\(r.letter) \(what)") }
    }
    var measured = [shown.isEmpty ? "no lettered run shows its behaviour" : "shown: " + shown.joined(separator: "; ")]
    if !notShown.isEmpty { measured.append("not shown: " + notShown.joined(separator: "; ")) }
    if !d.missing.isEmpty { measured.append("no run: " + d.missing.joined(separator: "; ")) }
    out.append(ClaimOutcome(
      id: "Fig3", statement: "The lettered runs show the paper's behaviours (A diverges within a few steps; B, F train with warmup; C starts flat and sharpens to 2/η; D starts below 2/η and diverges; E sharpens at a small η).",
      check: "A fails (diverges or collapses) within the first \(quick) steps (a twentieth of the run); B and F train; C trains, starts at λ1·η/2 < 0.5 and reaches λ1·η_t/2 ≥ \(WarmupTracking.band.lowerBound) (the warmup band's lower edge); D started below 2/η and failed; E's λ1 rises ≥ 20 % above its initial value; every letter has a run",
      holds: notShown.isEmpty && d.missing.isEmpty,
      measured: measured.joined(separator: " | ")))
    return out
  }

  public func figure(_ d: Fig3Data, caption: String) -> Figure {
    // Two columns, a portrait page. The first two rows hold the summaries: λ1 at init and
    // mid-training vs peak η (lettered), every lettered run's λ1·η_t/2 and its training loss;
    // beneath, one time series per lettered run, so six runs fill the grid with no empty cell.
    // (Three columns left two thirds of a row empty; two rows of five made a 3 200 px wide strip.)
    let cols = 2
    let rows = 2 + (d.runs.count + 1) / 2
    var fig = Figure(rows: rows, cols: cols, title: "λ₁ and 2/η over training (cf. Gilmer et al. Fig. 3)", caption: caption)
    var initAxes = Axes(title: "λ₁ at initialization", x: Axis(scale: .log, label: "peak learning rate η"),
                        y: Axis(scale: .log, label: "λ₁ at init"))
    var midAxes = Axes(title: "λ₁ at step \(d.midStep) or last before failing (lettered)", x: Axis(scale: .log, label: "peak learning rate η"),
                       y: Axis(scale: .log, label: "λ₁ mid-training"))
    for k in 0..<2 {
      var a = k == 0 ? initAxes : midAxes
      a.shade(.aboveInverse(c: 2), label: "λ₁ > 2/η")
      a.reference(.inverse(c: 2), label: "2/η")
      if k == 0 { initAxes = a } else { midAxes = a }
    }
    for (k, model) in Set(d.points.map(\.model)).sorted().enumerated() {
      let pts = d.points.filter { $0.model == model }
      let noWarmup = pts.filter { $0.warmup == 0 }
      initAxes.scatter(x: noWarmup.map(\.learningRate), y: noWarmup.map(\.lambda0), color: Palette.color(k),
                       markers: noWarmup.map { $0.status.failed ? .cross : .circle }, label: ModelCatalog.title(model))
      let withMid = pts.filter { $0.panel(d.midStep) != nil }
      midAxes.scatter(x: withMid.map(\.learningRate), y: withMid.map { $0.panel(d.midStep)?.value ?? .nan }, color: Palette.color(k),
                      markers: withMid.map { $0.status.failed ? .cross : ($0.warmup > 0 ? .square : .circle) },
                      label: ModelCatalog.title(model))
    }
    for r in d.runs {
      if let p = d.points.first(where: { $0.model == r.model && $0.learningRate == r.learningRate && $0.warmup == r.warmup }),
         let mid = p.panel(d.midStep)?.value
      {
        midAxes.annotate(r.letter, at: .data(x: r.learningRate, y: mid, side: .left), dx: 4, dy: -4, size: 11, bold: true)
      }
    }
    initAxes.legend = .best
    midAxes.legend = .none
    midAxes.legendEntries.append(LegendEntry(label: "■ with warmup, ✕ failed", color: .black, marker: .square))
    var ratioAxes = Axes(title: "lettered runs: λ₁·η_t/2", x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁ / (2/η_t)"))
    ratioAxes.reference(.horizontal(1), label: "λ₁ = 2/η")
    for (k, r) in d.runs.enumerated() {
      ratioAxes.plot(x: r.steps.map(Double.init), y: zip(r.lambda1, r.learningRates).map { $0 * $1 / 2 },
                     color: Palette.color(k), label: r.letter)
    }
    ratioAxes.legend = .best
    fig[0, 0] = initAxes
    fig[0, 1] = midAxes
    fig[1, 0] = ratioAxes
    for (k, r) in d.runs.enumerated() {
      let title = "\(r.letter): \(ModelCatalog.title(r.model)), η = \(String(format: "%g", r.learningRate))\(r.warmup > 0 ? ", warmup \(r.warmup)" : "")"
      var ax = Axes(title: title, x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁"), y2: Axis(scale: .log, label: "η"))
      let s = r.steps.map(Double.init)
      ax.plot(x: s, y: r.lambda1, color: Palette.blue, label: "λ₁", marker: .circle)
      ax.plot(x: s, y: r.learningRates.map { 2 / $0 }, color: .black, style: .dashed, label: "2/η")
      ax.plot(x: s, y: r.learningRates, color: Palette.orange, style: .dotted, label: "η (right)", side: .right)
      ax.panelLetter(r.letter)
      ax.legend = k == 0 ? .best : .none
      if let fstep = r.failureStep { ax.reference(.vertical(Double(fstep)), color: Palette.vermillion, style: .dotted, label: r.status.rawValue) }
      fig[2 + k / cols, k % cols] = ax
    }
    // The training loss of every lettered run (the paper's Figs 8 and 13: instability shows in
    // the loss of a run that started below 2/η).
    // A diverging run's loss reaches 1e10–1e30 in its last steps: drawn to scale, it flattens every
    // other curve. The axis stops at 10× the largest initial loss; a curve above it is clipped
    // there, with a ▲ at its peak's step and the peak's value written beside it.
    let initial = d.runs.compactMap { $0.losses?.first(where: { $0.isFinite && $0 > 0 }) }.max() ?? 10
    let ceiling = 10 * initial
    let floor = (d.runs.compactMap { $0.losses?.filter { $0.isFinite && $0 > 0 }.min() }.min() ?? initial / 100) / 1.5
    var loss = Axes(title: "lettered runs: training loss", x: Axis(label: "step"),
                    y: Axis(scale: .log, label: "minibatch loss", limits: floor...(ceiling * 1.6)))
    var clipped = false
    for (k, r) in d.runs.enumerated() {
      guard let l = r.losses else { continue }
      let finite = l.enumerated().filter { $0.element.isFinite && $0.element > 0 }
      loss.plot(x: finite.map { Double($0.offset) }, y: finite.map { min($0.element, ceiling) }, color: Palette.color(k), label: r.letter)
      if let peak = finite.max(by: { $0.element < $1.element }), peak.element > ceiling {
        clipped = true
        loss.scatter(x: [Double(peak.offset)], y: [ceiling], color: Palette.color(k), marker: .triangle, size: 7)
        loss.annotate("\(r.letter): \(String(format: "%.0e", peak.element)) at step \(peak.offset)",
                      at: .data(x: Double(peak.offset), y: ceiling, side: .left), dx: 6, dy: 2, size: 8, color: Palette.color(k))
      }
    }
    if clipped {
      loss.reference(.horizontal(ceiling), color: Color(hex: 0x999999), style: .dotted, label: "off scale above (▲ peak)")
    }
    loss.legend = .best
    fig[1, 1] = loss
    for k in d.runs.count..<((rows - 2) * cols) { fig[2 + k / cols, k % cols] = .blank }
    return fig
  }

  public func table(_ d: Fig3Data) -> String {
    var t = markdownTable(
      headers: ["letter", "behaviour", "model", "peak η", "warmup", "status", "λ1 at init", "max λ1·η_t/2"],
      rows: d.runs.map { r in
        let ratio = zip(r.lambda1, r.learningRates).map { $0 * $1 / 2 }.max() ?? .nan
        return [r.letter, r.role, ModelCatalog.title(r.model), String(format: "%g", r.learningRate), "\(r.warmup)",
                r.status.rawValue, r.lambda1.first.map { String(format: "%.4g", $0) } ?? "–", String(format: "%.3g", ratio)]
      })
    if !d.missing.isEmpty { t += "\n\nNo grid run fits the rule of: " + d.missing.joined(separator: "; ") + "." }
    return t
  }

  /// Tolerances as fig2's for the points; the lettered runs must be the same runs.
  public func drift(_ d: Fig3Data, golden g: Fig3Data) -> [String] {
    var out = StabilityClaims.drift(d.points, g.points)
    let a = d.runs.map { "\($0.letter) \($0.model) η=\($0.learningRate) w=\($0.warmup)" }
    let b = g.runs.map { "\($0.letter) \($0.model) η=\($0.learningRate) w=\($0.warmup)" }
    if a != b { out.append("lettered runs \(a), golden \(b)") }
    return out
  }
}
