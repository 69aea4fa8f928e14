import Foundation
import ML
import Plotting

private let fmt = StabilityClaims.fmt

/// One seed of a table2 arm at one η.
public struct Table2Run: Codable, Sendable {
  public var seed: UInt64
  public var status: TrainingOutcome.Status
  public var finalTrainLoss: Double?
  public var testAccuracy: Double?
  public var bleu: Double?
  public var lambda1AtStart: Double?
  public var initialGradientNorm: Double?
  public var clippedFraction: Double?
  /// Translation arms: a few held-out verses, and the training loss every `curveEvery` steps
  /// (means over each window), for the figure.
  public var samples: [TrainingOutcome.SampleTranslation]?
  public var lossCurve: [Double]?
}

/// An arm at one η: its seeds.
public struct Table2Cell: Codable, Sendable {
  public var learningRate: Double
  public var runs: [Table2Run]

  /// A majority of the seeds trained.
  public var trains: Bool { 2 * runs.filter { $0.status == .trained }.count > runs.count }
  public var meanFinalTrainLoss: Double? { Table2Cell.mean(runs.compactMap(\.finalTrainLoss)) }
  public var meanTestAccuracy: Double? { Table2Cell.mean(runs.compactMap(\.testAccuracy)) }
  public var meanBLEU: Double? { Table2Cell.mean(runs.compactMap(\.bleu)) }

  static func mean(_ x: [Double]) -> Double? { x.isEmpty ? nil : x.reduce(0, +) / Double(x.count) }
  static func sd(_ x: [Double]) -> Double? {
    guard x.count > 1, let m = mean(x) else { return nil }
    return (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
  }
}

public struct Table2ArmData: Codable, Sendable {
  /// The arm's spec (`Table2Arm`), family and method name.
  public var arm: String
  public var family: String
  public var method: String
  public var cells: [Table2Cell]
  /// The η of the lowest mean final training loss among those where a majority of seeds trained.
  public var bestLearningRate: Double?

  public var best: Table2Cell? { cells.first { $0.learningRate == bestLearningRate } }
}

public struct Table2Data: Codable, Sendable {
  public var imageArms: [Table2ArmData]
  public var translationArms: [Table2ArmData]
  public var imageSteps: Int
  public var imageRecipe: String
  public var translationSteps: Int
  public var translationClip: Double
  public var translationTestPairs: Int
  public var curveEvery: Int
  public var missing: [String]
}

/// Table 2: warmup (with clipping and init down-scaling for the Transformer without LayerNorm)
/// against MetaInit, Fixup, GradInit and LayerNorm. The image arms share fig2's store (the same
/// recipes are the same runs), so `repro all` trains each once.
public struct Table2: Experiment {
  public init() {}
  public let id = "table2"
  public let title = "Warmup matches MetaInit, Fixup, GradInit and LayerNorm"
  public let paperReference = "Table 2"
  public var sweepID: String { "stability" }
  /// The stability sweep's version: its runs are shared.
  public var resultsVersion: Int { 2 }

  /// 2026-12-07, 2 cores: 13.6 min after fig1–3 (its own runs only); about 15 min alone from an
  /// empty store (the three translation runs take 6–7 min each; the image runs fill the other core).
  public func estimatedSeconds(_ scale: ExperimentScale) -> Double? { ["tiny": 10, "small": 900][scale.rawValue] }
  public func settings(for scale: ExperimentScale, seed: UInt64) -> Table2Settings { Table2Settings.settings(for: scale, seed: seed) }
  public func validate(_ s: Table2Settings) throws {
    try RecipeTrainer.validate(settingsProblems: s.problems, recipes: s.problems.isEmpty ? runs(s) : [])
  }
  /// The translation runs first: they are the longest, so with two jobs the image runs fill the
  /// other core around them.
  public func runs(_ s: Table2Settings) -> [TrainingRecipe] { s.translationRuns + s.imageRuns }

  public func label(_ r: TrainingRecipe) -> String {
    guard r.isTranslationModel else { return StabilitySweep.label(r) }
    return "\(r.row)_adam_eta=\(r.learningRate)_w=\(r.warmup)_clip=\(r.clipNorm ?? 0)_s=\(r.seed)"
  }
  public func execute(_ r: TrainingRecipe, settings: Table2Settings, context: RunContext) throws -> TrainingOutcome {
    try RecipeTrainer.train(r, context: context)
  }
  public func summarize(_ o: TrainingOutcome) -> String {
    var parts = [o.status.rawValue + (o.failureStep.map { " at step \($0)" } ?? "")]
    if let l = o.finalTrainLoss { parts.append(String(format: "final loss %.3g", l)) }
    if let t = o.translation { parts.append(String(format: "BLEU %.2f", t.bleu)) } else if let a = o.testAccuracy { parts.append(String(format: "test acc %.3f", a)) }
    if let g = o.initialGradientNorm { parts.append(String(format: "‖g₀‖ %.3g", g)) }
    return parts.joined(separator: ", ")
  }

  // MARK: Data

  /// The training-loss curve a translation run's figure draws: means over windows of this many steps.
  static let curveEvery = 20

  public func figureData(settings s: Table2Settings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> Table2Data {
    var missing: [String] = []
    func run(_ r: TrainingRecipe) -> Table2Run? {
      guard let o = results.first(where: { $0.run == r })?.outcome else { missing.append(label(r)); return nil }
      let curve: [Double]? = r.isTranslationModel ? stride(from: 0, to: o.lossCurve.count, by: Self.curveEvery).map { i in
        let w = o.lossCurve[i..<min(i + Self.curveEvery, o.lossCurve.count)]
        return w.reduce(0, +) / Double(w.count)
      } : nil
      return Table2Run(seed: r.seed, status: o.status, finalTrainLoss: o.finalTrainLoss, testAccuracy: r.isTranslationModel ? nil : o.testAccuracy,
                       bleu: o.translation?.bleu, lambda1AtStart: o.measurement(at: 0)?.lambda1, initialGradientNorm: o.initialGradientNorm,
                       clippedFraction: o.clippedFraction, samples: o.translation?.samples, lossCurve: curve)
    }
    func arm(_ a: Table2Arm, _ etas: [Double], _ seeds: [Int], clip: Double?, _ recipe: (Table2Arm, Double, Int) -> TrainingRecipe) -> Table2ArmData {
      let cells = etas.map { eta in Table2Cell(learningRate: eta, runs: seeds.compactMap { run(recipe(a, eta, $0)) }) }
      let best = cells.filter(\.trains).min { ($0.meanFinalTrainLoss ?? .infinity) < ($1.meanFinalTrainLoss ?? .infinity) }
      return Table2ArmData(arm: a.spec, family: a.family, method: a.method(clip: clip), cells: cells, bestLearningRate: best?.learningRate)
    }
    let images = s.imageArms.map { arm($0, s.learningRates, s.imageSeeds, clip: nil) { s.recipe($0, learningRate: $1, seed: $2) } }
    let text = s.textArms.map { arm($0, s.translationLearningRates, s.textSeeds, clip: s.translationClip) { s.translationRecipe($0, learningRate: $1, seed: $2) } }
    return Table2Data(imageArms: images, translationArms: text, imageSteps: s.sweep.steps,
                      imageRecipe: "fig2's recipe: \(s.sweep.steps) steps, batch \(s.sweep.batchSize) (conv. \(s.sweep.familyBatchSizes?["wrn"] ?? s.sweep.batchSize)), heavy ball \(fmt(s.sweep.momentum)), cosine decay",
                      translationSteps: s.translationSteps, translationClip: s.translationClip, translationTestPairs: s.translationTestPairs,
                      curveEvery: Self.curveEvery, missing: missing)
  }

  // MARK: Claims

  /// Images: warmup's mean test accuracy at its best η within this many points (fraction) of
  /// each method's at its best η.
  static let accuracyMargin = 0.01
  /// Translation: the warmup arm without LayerNorm reaches at least this fraction of the BLEU of
  /// the arm with it.
  static let bleuFraction = 0.9
  /// "Extreme curvature" at the default initialization: its initial gradient norm and λ1 at
  /// least this many times those of the scaled-down initialization.
  static let extremeFactor = 10.0

  /// The translation arms' roles: with LayerNorm, the paper's method (no LN, warmup + clip and
  /// the smallest init scale below 1), the default initialization without LN.
  static func translationRoles(_ d: Table2Data) -> (ln: Table2ArmData?, method: Table2ArmData?, plain: Table2ArmData?) {
    func v(_ a: Table2ArmData) -> ModelCatalog.Variant { Table2Arm(a.arm)?.variant ?? ModelCatalog.variant(a.arm) }
    let ln = d.translationArms.first { v($0).id != "mt-none" }
    let none = d.translationArms.filter { v($0).id == "mt-none" }
    let method = none.filter { v($0).initScale < 1 }.min { v($0).initScale < v($1).initScale } ?? none.first
    let plain = none.first { v($0).initScale == 1 && $0.arm != method?.arm }
    return (ln, method, plain)
  }

  public func claims(_ d: Table2Data) -> [ClaimOutcome] {
    var out: [ClaimOutcome] = []
    // C8, images.
    var holds = !d.imageArms.isEmpty, parts: [String] = []
    for family in Set(d.imageArms.map(\.family)).sorted() {
      let arms = d.imageArms.filter { $0.family == family }
      guard let w = arms.first(where: { Table2Arm($0.arm).map { $0.warmup > 0 && $0.variant.initMethod == .standard && !$0.variant.id.hasSuffix("-fixup") } ?? false }) else { continue }
      guard let wa = w.best?.meanTestAccuracy else {
        holds = false; parts.append("\(ModelCatalog.familyTitle(family)): \(w.method) trains at no η ✗"); continue
      }
      var line = "\(ModelCatalog.familyTitle(family)): \(w.method) \(pct(wa)) at η \(fmt(w.bestLearningRate ?? .nan))"
      for a in arms where a.arm != w.arm {
        guard let ma = a.best?.meanTestAccuracy else { line += "; \(a.method) trains at no η"; continue }
        let ok = wa >= ma - Self.accuracyMargin
        if !ok { holds = false }
        line += String(format: "; %@ %@ at η %@ (%+.2f)", a.method, pct(ma), fmt(a.bestLearningRate ?? .nan), 100 * (wa - ma)) + (ok ? "" : " ✗")
      }
      parts.append(line)
    }
    if !d.missing.isEmpty { holds = false }
    out.append(ClaimOutcome(
      id: "C8", statement: "Learning rate warmup can match the performance of recent advances in initialization research. […] We found in all cases that warmup and gradient clipping could be leveraged to recover from bad initializations, offering similar benefits to these better initialization strategies.",
      check: "for each residual network without normalization, the default initialization with warmup reaches a mean test accuracy (over seeds, at its best η) no more than \(Int(100 * Self.accuracyMargin)) point below each initialization method's (MetaInit, Fixup, GradInit without warmup, each at its best η); best η = lowest mean final training loss among the η where a majority of seeds trained (fixed before the runs)",
      holds: holds, measured: parts.joined(separator: " | ") + (d.missing.isEmpty ? "" : " | missing: \(d.missing.count) runs")))

    // C8b and C8c, translation.
    let roles = Self.translationRoles(d)
    if let ln = roles.ln, let m = roles.method {
      let lb = ln.best?.meanBLEU, mb = m.best?.meanBLEU
      let ok = lb != nil && mb != nil && mb! >= Self.bleuFraction * lb!
      out.append(ClaimOutcome(
        id: "C8b", statement: "Transformer 6L (w/o LN) WMT Warmup + Clip + .25x Init 27.10 (BLEU); Transformer 6L (w/ LN) WMT LayerNorm 27.01 (BLEU).",
        check: "the translation Transformer without LayerNorm, with warmup, clipping and the scaled-down initialization, reaches at least \(Int(100 * Self.bleuFraction)) % of the held-out BLEU of the same model with LayerNorm (means over seeds, each at its best η; fixed before the runs)",
        holds: ok && d.missing.isEmpty,
        measured: "\(m.method), no LN: " + bleuText(m) + " | \(ln.method): " + bleuText(ln)
          + (lb.flatMap { l in mb.map { String(format: " | ratio %.2f", $0 / l) } } ?? "") + (ok ? "" : " ✗")))
    }
    if let p = roles.plain, let m = roles.method {
      func first(_ a: Table2ArmData, _ k: KeyPath<Table2Run, Double?>) -> Double? {
        Table2Cell.mean(a.cells.flatMap(\.runs).compactMap { $0[keyPath: k] })
      }
      let g1 = first(p, \.initialGradientNorm), g0 = first(m, \.initialGradientNorm)
      let l1 = first(p, \.lambda1AtStart), l0 = first(m, \.lambda1AtStart)
      let lb = roles.ln?.best?.meanBLEU
      let pb = p.best?.meanBLEU
      let extreme = (g1 ?? 0) >= Self.extremeFactor * (g0 ?? .infinity) && (l1 ?? 0) >= Self.extremeFactor * (l0 ?? .infinity)
      let noTraining = pb == nil || (lb.map { pb! < Self.bleuFraction * $0 } ?? false)
      out.append(ClaimOutcome(
        id: "C8c", statement: "For the 6-layer Transformer w/o LayerNorm we found the default initialization to exhibit extreme curvature, with initial gradient norm on the order of 10^20. We found that warmup was insufficient in this case for any training to occur at this point, however scaling the default initialization down by a factor 4 was enough to recover the performance.",
        check: "without LayerNorm, the default initialization's initial gradient norm and λ1 (means over its runs) are at least \(Int(Self.extremeFactor))× those of the scaled-down initialization, and with the same warmup and clipping it trains at no η or stays below \(Int(100 * Self.bleuFraction)) % of the LayerNorm model's BLEU (fixed before the runs)",
        holds: extreme && noTraining && d.missing.isEmpty,
        measured: String(format: "‖g₀‖ %@ (default) vs %@ (%@× init), λ1 at init %@ vs %@", fmt(g1 ?? .nan), fmt(g0 ?? .nan),
                         fmt(Table2Arm(m.arm)?.variant.initScale ?? .nan), fmt(l1 ?? .nan), fmt(l0 ?? .nan))
          + (extreme ? "" : " ✗") + " | default init with \(p.method): " + bleuText(p) + (noTraining ? "" : " ✗")))
    }
    return out
  }

  func pct(_ x: Double) -> String { String(format: "%.2f %%", 100 * x) }

  func bleuText(_ a: Table2ArmData) -> String {
    guard let c = a.best, let b = c.meanBLEU else {
      return "trains at no η (" + a.cells.map { "η \(fmt($0.learningRate)): " + $0.runs.map(\.status.rawValue).joined(separator: "/") }.joined(separator: ", ") + ")"
    }
    let sd = Table2Cell.sd(c.runs.compactMap(\.bleu)).map { String(format: " ± %.2f", $0) } ?? ""
    return String(format: "BLEU %.2f%@ at η %@", b, sd, fmt(c.learningRate))
  }

  // MARK: Figure and table

  /// Per image family: mean test accuracy vs η per arm (✕ where a majority of seeds
  /// failed, at their mean accuracy: chance for a failed run). Then each translation
  /// arm's held-out BLEU at its best η (0 where it trains at no η), and its training loss.
  public func figure(_ d: Table2Data, caption: String) -> Figure {
    let families = Array(Set(d.imageArms.map(\.family))).sorted()
    let text = !d.translationArms.isEmpty
    var panels: [Axes] = []
    for family in families {
      var a = Axes(title: ModelCatalog.familyTitle(family) + ", no normalization", x: Axis(scale: .log, label: "peak learning rate η"),
                   y: Axis(label: "test accuracy (mean of seeds)"))
      for (j, arm) in d.imageArms.filter({ $0.family == family }).enumerated() {
        let cells = arm.cells.filter { $0.meanTestAccuracy != nil }
        a.plot(x: cells.map(\.learningRate), y: cells.map { $0.meanTestAccuracy ?? .nan }, color: Palette.color(j), label: arm.method,
               marker: .circle)
        let failed = arm.cells.filter { !$0.trains }
        if !failed.isEmpty {
          a.scatter(x: failed.map(\.learningRate), y: failed.map { $0.meanTestAccuracy ?? 0.1 }, color: Palette.color(j), marker: .cross)
        }
      }
      a.legendEntries.append(LegendEntry(label: "majority of seeds failed", color: .black, marker: .cross))
      a.legend = .best
      panels.append(a)
    }
    if text {
      func short(_ a: Table2ArmData) -> String {
        let v = Table2Arm(a.arm)?.variant
        let norm = v?.id == "mt-none" ? "no LN" : (v?.id == "mt-post" ? "post-LN" : "pre-LN")
        return v.map { $0.initScale == 1 ? norm : norm + ", \(fmt($0.initScale))× init" } ?? a.arm
      }
      var bleu = Axes(title: "Translation: held-out BLEU at best η",
                      x: Axis(label: "", limits: -0.6...(Double(d.translationArms.count) - 0.4),
                              ticks: d.translationArms.enumerated().map { Tick(value: Double($0.offset), label: short($0.element)) }),
                      y: Axis(label: "BLEU (mean of seeds)"))
      var loss = Axes(title: "Translation: training loss at best η", x: Axis(label: "step"),
                      y: Axis(scale: .log, label: "training loss (\(d.curveEvery)-step mean)"))
      for (j, arm) in d.translationArms.enumerated() {
        let color = Palette.color(j)
        bleu.bar(x: [Double(j)], heights: [arm.best?.meanBLEU ?? 0], width: 0.6, color: color)
        if arm.best == nil { bleu.scatter(x: [Double(j)], y: [0], color: color, marker: .cross) }
        if let curve = (arm.best ?? arm.cells.first)?.runs.first?.lossCurve, !curve.isEmpty {
          loss.plot(x: curve.indices.map { Double($0 * d.curveEvery) }, y: curve, color: color,
                    label: short(arm) + ": " + arm.method + (arm.best == nil ? " (failed)" : ""))
        }
      }
      bleu.legend = .none
      loss.legend = .best
      panels += [bleu, loss]
    }
    // Image families on the first row, translation beneath; up to three panels share one row
    // (the tiny scale's one family), so that no row is left half blank.
    let cols = panels.count <= 3 ? max(1, panels.count) : max(families.count, 2)
    let rows = (panels.count + cols - 1) / cols
    var fig = Figure(rows: max(1, rows), cols: cols, width: 380 * Double(cols) + 20,
                     title: "Warmup against initialization methods and LayerNorm (cf. Gilmer et al. Table 2)", caption: caption)
    for k in 0..<(fig.rows * cols) { fig[k / cols, k % cols] = k < panels.count ? panels[k] : .blank }
    return fig
  }

  static let paperImage: [String: [String: String]] = [
    "resmlp": ["Fixup": "76.0", "MetaInit": "76.0", "GradInit": "76.2", "warmup": "76.2"],
    "wrn": ["MetaInit": "97.1", "warmup": "97.2"],
  ]

  public func table(_ d: Table2Data) -> String {
    func paper(_ a: Table2ArmData) -> String {
      if a.family == "mt" {
        let roles = Self.translationRoles(d)
        if a.arm == roles.method?.arm { return "27.10 BLEU (Transformer 6L w/o LN, WMT)" }
        if a.arm == roles.ln?.arm { return "27.01 BLEU (with LN)" }
        if a.arm == roles.plain?.arm { return "no training (initial ‖g‖ ~10²⁰)" }
        return "–"
      }
      let key = a.method.hasPrefix("warmup") ? "warmup" : a.method
      let reference = a.family == "resmlp" ? "ResNet-50 w/o BN, ImageNet" : "WRN-28-10 w/o BN, CIFAR-10"
      return Self.paperImage[a.family]?[key].map { "\($0) (\(reference))" } ?? "–"
    }
    func statuses(_ c: Table2Cell?) -> String { c?.runs.map(\.status.rawValue).joined(separator: ", ") ?? "–" }
    let imageRows = d.imageArms.map { a -> [String] in
      let accs = a.best?.runs.compactMap(\.testAccuracy) ?? []
      let score = Table2Cell.mean(accs).map { m in String(format: "%.2f", 100 * m) + (Table2Cell.sd(accs).map { String(format: " ± %.2f", 100 * $0) } ?? "") } ?? "trains at no η"
      let grid = a.cells.map { c in "\(fmt(c.learningRate)): " + (c.trains ? c.meanTestAccuracy.map { String(format: "%.1f", 100 * $0) } ?? "?" : "✕") }.joined(separator: ", ")
      return [ModelCatalog.familyTitle(a.family), a.method, a.bestLearningRate.map(fmt) ?? "–", score, statuses(a.best), grid, paper(a)]
    }
    var out = "Images (test accuracy %, mean ± sd over seeds at the arm's best η; \(d.imageRecipe)):\n\n"
    out += markdownTable(headers: ["model (no normalization)", "method", "best η", "test acc (%)", "outcomes", "mean acc by η (✕: majority failed)", "paper (%)"], rows: imageRows)
    if !d.translationArms.isEmpty {
      let rows = d.translationArms.map { a -> [String] in
        let runs = a.cells.flatMap(\.runs)
        let g = Table2Cell.mean(runs.compactMap(\.initialGradientNorm)), l = Table2Cell.mean(runs.compactMap(\.lambda1AtStart))
        let grid = a.cells.map { c in "\(fmt(c.learningRate)): " + (c.meanBLEU.map { String(format: "%.2f", $0) } ?? "✕") }.joined(separator: ", ")
        return [ModelCatalog.title(Table2Arm(a.arm)?.row ?? a.arm), a.method, a.bestLearningRate.map(fmt) ?? "–",
                bleuText(a).replacingOccurrences(of: "BLEU ", with: ""), statuses(a.best), fmt(g ?? .nan), fmt(l ?? .nan), grid, paper(a)]
      }
      out += "\n\nTranslation (KJV → Reina-Valera 1909, corpus BLEU-4 of greedy translations of \(d.translationTestPairs) held-out verses, lowercased words with punctuation split, one reference; Adam, \(d.translationSteps) steps):\n\n"
      out += markdownTable(headers: ["model", "method", "best η", "BLEU", "outcomes", "initial ‖g‖", "λ1 at init", "mean BLEU by η", "paper"], rows: rows)
      if let m = Self.translationRoles(d).method?.best?.runs.first?.samples, !m.isEmpty {
        out += "\n\nHeld-out examples (the no-LN warmup arm, first seed):\n\n"
        out += markdownTable(headers: ["source", "reference", "ours"], rows: m.map { [$0.source, $0.reference, $0.hypothesis] })
      }
    }
    if !d.missing.isEmpty { out += "\n\nNot stored yet: " + d.missing.joined(separator: ", ") + "." }
    return out
  }

  /// Same arms, statuses and best η; accuracies within 0.05, BLEU within 2.
  public func drift(_ d: Table2Data, golden g: Table2Data) -> [String] {
    var out: [String] = []
    for (mine, theirs) in [(d.imageArms, g.imageArms), (d.translationArms, g.translationArms)] {
      for a in mine {
        guard let b = theirs.first(where: { $0.arm == a.arm }) else { out.append("\(a.arm): not in golden"); continue }
        if a.bestLearningRate != b.bestLearningRate { out.append("\(a.arm): best η \(a.bestLearningRate ?? .nan), golden \(b.bestLearningRate ?? .nan)") }
        for (c, e) in zip(a.cells, b.cells) {
          if c.runs.map(\.status) != e.runs.map(\.status) { out.append("\(a.arm) η \(c.learningRate): statuses differ from golden") }
          if let x = c.meanTestAccuracy, let y = e.meanTestAccuracy, abs(x - y) > 0.05 { out.append("\(a.arm) η \(c.learningRate): accuracy \(x), golden \(y)") }
          if let x = c.meanBLEU, let y = e.meanBLEU, abs(x - y) > 2 { out.append("\(a.arm) η \(c.learningRate): BLEU \(x), golden \(y)") }
        }
      }
    }
    return out
  }
}
