import Foundation
import ML
import Plotting

/// The house %.3g formatter for numbers in claims, tables and labels.
private let fmt = StabilityClaims.fmt

/// One fig5 run: how it was initialized and trained, its λ1 (and gradient quotient) series,
/// and, for a data-driven initialization, what the method did before step 0.
public struct InitTrace: Codable, Sendable {
  /// "gradinit", "warmup+clip" (panel a), "metainit", "warmup" (panel b).
  public var role: String
  public var learningRate: Double
  public var warmup: Int
  public var clipNorm: Double?
  public var status: TrainingOutcome.Status
  public var failureStep: Int?
  public var steps: [Int]
  public var learningRates: [Double]
  public var lambda1: [Double]
  public var quotientSteps: [Int]
  public var quotients: [Double]
  /// The method's λ1 per iteration (its own x axis) and meta-loss (nil entries: constraint steps).
  public var initSteps: [Int]
  public var initLambda1: [Double]
  public var initMetaLoss: [Double?]
  /// Fraction of training steps whose gradient was clipped.
  public var clippedFraction: Double?
  public var finalTrainLoss: Double?
  public var testAccuracy: Double?

  /// The gradient quotient at the measurement nearest `step` (nil without one).
  public func quotient(near step: Int) -> Double? {
    quotientSteps.indices.min { abs(quotientSteps[$0] - step) < abs(quotientSteps[$1] - step) }.map { quotients[$0] }
  }
}

public struct Fig5Data: Codable, Sendable {
  public var model: String
  public var steps: Int
  public var gradInitLearningRate: Double
  public var warmup: Int
  public var clipNorm: Double
  public var quotientLearningRates: [Double]
  public var traces: [InitTrace]
  public var missing: [String]
}

/// Fig 5: the mid-training conditioning is set by η, not by the initialization. (a) λ1 through
/// GradInit's meta-optimization and then training, beside the default initialization trained
/// with warmup and clipping; (b) MetaInit's gradient quotient through training, MetaInit
/// against warmup, at several η.
public struct Fig5: Experiment {
  public init() {}
  public let id = "fig5"
  public let title = "The initialization's flatness lasts a few steps; η sets the conditioning after"
  public let paperReference = "Fig 5"
  public let resultsVersion = 1

  /// 2026-12-07, 2 cores, empty store: 62 s (8 runs of 12–19 s, 2 at a time).
  public func estimatedSeconds(_ scale: ExperimentScale) -> Double? { ["tiny": 7, "small": 62][scale.rawValue] }
  public func settings(for scale: ExperimentScale, seed: UInt64) -> InitSettings { InitSettings.settings(for: scale, seed: seed) }

  public func validate(_ s: InitSettings) throws {
    try RecipeTrainer.validate(settingsProblems: s.problems, recipes: s.problems.isEmpty ? s.runs : [])
  }

  public func runs(_ s: InitSettings) -> [TrainingRecipe] { s.runs }

  public func label(_ r: TrainingRecipe) -> String {
    "\(r.row)_\(r.initMethod.rawValue)_eta=\(r.learningRate)_w=\(r.warmup)" + (r.clipNorm.map { "_clip=\($0)" } ?? "")
      + (r.measurement.gradientQuotient == true ? "_gq" : "")
  }
  public func execute(_ r: TrainingRecipe, settings: InitSettings, context: RunContext) throws -> TrainingOutcome {
    try RecipeTrainer.train(r, context: context)
  }
  public func summarize(_ o: TrainingOutcome) -> String {
    var parts = [o.status.rawValue + (o.failureStep.map { " at step \($0)" } ?? "")]
    if let i = o.initialization, let a = i.lambda1.first, let b = i.lambda1.last {
      parts.append(String(format: "%@ λ1 %.3g → %.3g", i.method.rawValue, a.lambda1, b.lambda1))
    }
    if let m = o.measurements.first { parts.append(String(format: "λ1 %.3g → %.3g", m.lambda1, o.measurements.last?.lambda1 ?? .nan)) }
    if let q = o.gradientQuotients, let a = q.first, let b = q.last { parts.append(String(format: "GQ %.3g → %.3g", a.value, b.value)) }
    return parts.joined(separator: ", ")
  }

  // MARK: Data

  static func role(_ r: TrainingRecipe) -> String {
    switch r.initMethod {
    case .gradInit: return "gradinit"
    case .metaInit: return "metainit"
    case .standard: return r.clipNorm == nil ? "warmup" : "warmup+clip"
    }
  }

  public func figureData(settings s: InitSettings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> Fig5Data {
    var traces: [InitTrace] = []
    var missing: [String] = []
    for r in s.runs {
      guard let o = results.first(where: { $0.run == r })?.outcome else { missing.append(label(r)); continue }
      let m = o.measurements
      let q = o.gradientQuotients ?? []
      traces.append(InitTrace(
        role: Self.role(r), learningRate: r.learningRate, warmup: r.warmup, clipNorm: r.clipNorm, status: o.status, failureStep: o.failureStep,
        steps: m.map(\.step), learningRates: m.map(\.learningRate), lambda1: m.map(\.lambda1), quotientSteps: q.map(\.step),
        quotients: q.map(\.value), initSteps: o.initialization?.lambda1.map(\.step) ?? [],
        initLambda1: o.initialization?.lambda1.map(\.lambda1) ?? [], initMetaLoss: o.initialization?.metaLoss ?? [],
        clippedFraction: o.clippedFraction, finalTrainLoss: o.finalTrainLoss, testAccuracy: o.testAccuracy))
    }
    return Fig5Data(model: s.model, steps: s.steps, gradInitLearningRate: s.gradInitLearningRate, warmup: s.warmup, clipNorm: s.clipNorm,
                    quotientLearningRates: s.quotientLearningRates.sorted(), traces: traces, missing: missing)
  }

  // MARK: Claims

  /// C6's "within a few steps": the first 10 % of training.
  static let fewSteps = 0.1

  public func claims(_ d: Fig5Data) -> [ClaimOutcome] { [Self.c6(d), Self.c7(d)] }

  /// How a trace's λ1 sits at 2/η_t from its first reach of the band's lower edge to half-way.
  static func hover(_ t: InitTrace, steps: Int) -> (reach: Int?, inside: Int, after: Int) {
    let series = zip(t.steps, zip(t.lambda1, t.learningRates)).filter { $0.0 <= steps / 2 }.map { (step: $0.0, ratio: $0.1.0 * $0.1.1 / 2) }
    guard let i = series.firstIndex(where: { $0.ratio >= WarmupTracking.band.lowerBound }) else { return (nil, 0, 0) }
    let tail = series[i...]
    return (series[i].step, tail.filter { WarmupTracking.band.contains($0.ratio) }.count, tail.count)
  }

  /// C6: GradInit and warmup + clipping both lower λ1, and both then hover near 2/η_t.
  static func c6(_ d: Fig5Data) -> ClaimOutcome {
    let band = WarmupTracking.band, frac = WarmupTracking.fraction
    let g = d.traces.first { $0.role == "gradinit" }, w = d.traces.first { $0.role == "warmup+clip" }
    var holds = g != nil && w != nil
    var parts: [String] = []
    if let g {
      let falls = (g.initLambda1.last ?? .nan) < (g.initLambda1.first ?? .nan)
      let h = hover(g, steps: d.steps)
      let quick = h.reach.map { Double($0) <= fewSteps * Double(d.steps) } ?? false
      let ok = g.status == .trained && falls && quick && h.after > 0 && Double(h.inside) >= frac * Double(h.after)
      holds = holds && ok
      parts.append("GradInit: λ1 \(fmt(g.initLambda1.first ?? .nan)) → \(fmt(g.initLambda1.last ?? .nan)) over its \(g.initSteps.last ?? 0) iterations; training at η = \(fmt(g.learningRate)) starts at λ1·η/2 = \(fmt((g.lambda1.first ?? .nan) * g.learningRate / 2)), \(g.status.rawValue)"
        + (h.reach.map { ", reaches λ1·η_t/2 ≥ \(fmt(band.lowerBound)) at step \($0), then \(h.inside)/\(h.after) measurements to step \(d.steps / 2) in [\(fmt(band.lowerBound)), \(fmt(band.upperBound))]" } ?? ", never reaches the band by step \(d.steps / 2)")
        + (ok ? "" : " ✗"))
    }
    if let w {
      let inWarmup = zip(w.steps, w.lambda1).filter { $0.0 < w.warmup }.map(\.1)
      let falls = (inWarmup.last ?? .nan) < (inWarmup.first ?? .nan)
      let h = hover(w, steps: d.steps)
      let ok = w.status == .trained && falls && h.after > 0 && Double(h.inside) >= frac * Double(h.after)
      holds = holds && ok
      parts.append("warmup \(w.warmup) + clip \(fmt(w.clipNorm ?? .nan)) (\(fmt(100 * (w.clippedFraction ?? .nan))) % of steps clipped): λ1 \(fmt(inWarmup.first ?? .nan)) → \(fmt(inWarmup.last ?? .nan)) through the warmup, \(w.status.rawValue)"
        + (h.reach.map { ", reaches the band at step \($0), then \(h.inside)/\(h.after) measurements to step \(d.steps / 2) inside" } ?? ", never reaches the band by step \(d.steps / 2)")
        + (ok ? "" : " ✗"))
    }
    if !d.missing.isEmpty { holds = false }
    return ClaimOutcome(
      id: "C6", statement: "Both methods result in λ1 decreasing dramatically, after which λ1 hovers around 2/η. Notably, GradInit starts regular training off at λ1 significantly below the 2/η bound, however the curvature quickly increases within a few steps.",
      check: "\(ModelCatalog.title(d.model)) at η = \(fmt(d.gradInitLearningRate)): GradInit's λ1 at the end of its meta-optimization is below its λ1 at its start, and the warmup + clipping run's λ1 at the end of warmup is below its λ1 at step 0; both runs train; the GradInit run's λ1·η_t/2 reaches \(fmt(band.lowerBound)) within the first \(Int(100 * fewSteps)) % of training; for both, from that first reach to half-way through training at least \(Int(100 * frac)) % of measurements lie in [\(fmt(band.lowerBound)), \(fmt(band.upperBound))] (fig4's band and fraction, fixed before the runs)",
      holds: holds, measured: (parts.isEmpty ? ["no runs"] : parts).joined(separator: " | ") + (d.missing.isEmpty ? "" : " | missing: " + d.missing.joined(separator: ", ")))
  }

  /// C7: half-way through training the gradient quotient is set by η, not by the initialization.
  static func c7(_ d: Fig5Data) -> ClaimOutcome {
    let mid = d.steps / 2
    var perEta: [(eta: Double, meta: Double, warm: Double)] = []
    var parts: [String] = []
    var holds = d.missing.isEmpty
    for eta in d.quotientLearningRates {
      let m = d.traces.first { $0.role == "metainit" && $0.learningRate == eta }
      let w = d.traces.first { $0.role == "warmup" && $0.learningRate == eta }
      guard let m, let w else { holds = false; parts.append("η \(fmt(eta)): missing"); continue }
      let trained = m.status == .trained && w.status == .trained
      guard trained, let qm = m.quotient(near: mid), let qw = w.quotient(near: mid) else {
        holds = false
        parts.append("η \(fmt(eta)): MetaInit \(m.status.rawValue), warmup \(w.status.rawValue) ✗")
        continue
      }
      perEta.append((eta, log10(qm), log10(qw)))
      parts.append("η \(fmt(eta)): GQ at step 0 MetaInit \(fmt(m.quotients.first ?? .nan)), warmup \(fmt(w.quotients.first ?? .nan)); at step \(mid) \(fmt(qm)), \(fmt(qw))")
    }
    let within = perEta.map { abs($0.meta - $0.warm) }.max() ?? .nan
    let means = perEta.map { ($0.meta + $0.warm) / 2 }
    let across = (means.max() ?? .nan) - (means.min() ?? .nan)
    holds = holds && perEta.count >= 2 && within < across
    parts.append("largest spread across initializations at one η \(fmt(within)) decades, spread of the per-η means across η \(fmt(across)) decades")
    return ClaimOutcome(
      id: "C7", statement: "Although the two groups start training with dramatically different values of the MetaLoss, after [training] the MetaLoss of the two groups of models is almost completely determined by the learning rate used in training, not on the model initialization.",
      check: "\(ModelCatalog.title(d.model)), MetaInit without warmup and the default initialization with warmup \(d.warmup), each η of \(d.quotientLearningRates.map(fmt).joined(separator: ", ")): every run trains, and half-way through training (step \(mid)) the largest |log10 GQ(MetaInit) − log10 GQ(warmup)| at one η is smaller than the range across η of the two runs' mean log10 GQ (fixed before the runs)",
      holds: holds, measured: parts.joined(separator: " | "))
  }

  // MARK: Figure

  public func figure(_ d: Fig5Data, caption: String) -> Figure {
    var fig = Figure(rows: 1, cols: 3, width: 3 * 290 + 170, title: "Initialization vs warmup: λ₁ and MetaInit's gradient quotient (cf. Gilmer et al. Fig. 5)",
                     caption: caption)
    let g = d.traces.first { $0.role == "gradinit" }, w = d.traces.first { $0.role == "warmup+clip" }
    var a = Axes(title: "(a) λ₁ during GradInit's meta-optimization", x: Axis(label: "GradInit iteration"), y: Axis(scale: .log, label: "λ₁"))
    if let g {
      a.plot(x: g.initSteps.map(Double.init), y: g.initLambda1, color: Palette.color(0), label: "GradInit", marker: .circle)
      let x = [0, Double(g.initSteps.last ?? 1)]
      a.plot(x: x, y: x.map { _ in 2 / g.learningRate }, color: .black, width: 1, style: .dashed, label: "2/η")
    }
    a.legend = .best
    a.panelLetter("A")
    fig[0, 0] = a
    var b = Axes(title: "(a) λ₁ during training at η = \(fmt(d.gradInitLearningRate))", x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁"))
    for (k, t) in [g, w].enumerated() {
      guard let t else { continue }
      let name = t.role == "gradinit" ? "GradInit, no warmup" : "default init, warmup \(t.warmup) + clip \(fmt(t.clipNorm ?? .nan))"
      b.plot(x: t.steps.map(Double.init), y: t.lambda1, color: Palette.color(k), label: name + (t.status.failed ? " (\(t.status.rawValue))" : ""))
      b.plot(x: t.steps.map(Double.init), y: t.learningRates.map { 2 / $0 }, color: Palette.color(k), width: 1, style: .dashed)
    }
    b.legendEntries.append(LegendEntry(label: "dashed: 2/η_t", color: .black, line: .dashed))
    b.legend = .best
    b.panelLetter("B")
    fig[0, 1] = b
    var c = Axes(title: "(b) MetaInit's gradient quotient during training", x: Axis(label: "step"), y: Axis(scale: .log, label: "GQ"))
    let colors = Colormap.viridis.colors(d.quotientLearningRates.count)
    for (k, eta) in d.quotientLearningRates.enumerated() {
      for t in d.traces where t.learningRate == eta && (t.role == "metainit" || t.role == "warmup") {
        let positive = t.quotientSteps.indices.filter { t.quotients[$0] > 0 && t.quotients[$0].isFinite }
        c.plot(x: positive.map { Double(t.quotientSteps[$0]) }, y: positive.map { t.quotients[$0] }, color: colors[k],
               style: t.role == "metainit" ? .solid : .dashed, label: t.role == "metainit" ? "η = \(fmt(eta))" : nil)
      }
    }
    c.legendEntries.append(LegendEntry(label: "solid: MetaInit", color: .black, line: .solid))
    c.legendEntries.append(LegendEntry(label: "dashed: warmup \(d.warmup)", color: .black, line: .dashed))
    c.legend = .outside
    c.panelLetter("C")
    fig[0, 2] = c
    return fig
  }

  // MARK: Table

  public func table(_ d: Fig5Data) -> String {
    let mid = d.steps / 2
    let rows = d.traces.map { t -> [String] in
      [t.role, fmt(t.learningRate), "\(t.warmup)", t.clipNorm.map(fmt) ?? "–", t.status.rawValue + (t.failureStep.map { " at \($0)" } ?? ""),
       t.initLambda1.first.map(fmt) ?? "–", t.initLambda1.last.map(fmt) ?? "–", t.lambda1.first.map { fmt($0 * t.learningRates[0] / 2) } ?? "–",
       t.quotients.first.map(fmt) ?? "–", t.quotient(near: mid).map(fmt) ?? "–",
       t.clippedFraction.map { String(format: "%.0f %%", 100 * $0) } ?? "–",
       t.finalTrainLoss.map { String(format: "%.4f", $0) } ?? "–", t.testAccuracy.map { String(format: "%.3f", $0) } ?? "–"]
    }
    var out = markdownTable(
      headers: ["run", "peak η", "warmup", "clip", "outcome", "λ1 before init method", "λ1 after init method", "λ1·η_t/2 at step 0",
                "GQ at step 0", "GQ at step \(mid)", "steps clipped", "train loss", "test acc"],
      rows: rows)
    if !d.missing.isEmpty { out += "\n\nNot stored yet: " + d.missing.joined(separator: ", ") + "." }
    return out
  }

  /// Same runs and outcomes; λ1 at step 0 within 1 %; the method's λ1 and GQ at step 0 within
  /// 10 % (Float32, BLAS order); later values at the edge of stability are chaotic and not compared.
  public func drift(_ d: Fig5Data, golden g: Fig5Data) -> [String] {
    var out: [String] = []
    for t in d.traces {
      let key = "\(t.role) η=\(t.learningRate)"
      guard let u = g.traces.first(where: { $0.role == t.role && $0.learningRate == t.learningRate }) else { out.append("\(key): not in golden"); continue }
      if t.status != u.status { out.append("\(key): status \(t.status.rawValue), golden \(u.status.rawValue)") }
      if t.steps != u.steps { out.append("\(key): measured steps differ") }
      if let a = t.lambda1.first, let b = u.lambda1.first, !StabilityClaims.close(a, b, 0.01) { out.append("\(key): λ1 at step 0 \(a), golden \(b) (1 %)") }
      if let a = t.initLambda1.last, let b = u.initLambda1.last, !StabilityClaims.close(a, b, 0.10) { out.append("\(key): λ1 after the init method \(a), golden \(b) (10 %)") }
      if let a = t.quotients.first, let b = u.quotients.first, !StabilityClaims.close(a, b, 0.10) { out.append("\(key): GQ at step 0 \(a), golden \(b) (10 %)") }
    }
    if d.traces.count != g.traces.count { out.append("\(d.traces.count) runs, golden \(g.traces.count)") }
    return out
  }
}
