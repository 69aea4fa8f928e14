import Foundation
import ML
import Plotting

/// One λ1 measurement as the figures and tables carry it: where it was taken and how well
/// it converged.
public struct Lambda1: Codable, Sendable, Hashable {
  public var step: Int
  /// η at the measured step.
  public var learningRate: Double
  public var value: Double
  /// Explicit residual ‖Hx − λx‖.
  public var residual: Double
  /// Whether the residual meets the run's Lanczos tolerance (nil: not recorded).
  public var converged: Bool?

  public init(step: Int, learningRate: Double, value: Double, residual: Double, converged: Bool? = nil) {
    self.step = step; self.learningRate = learningRate; self.value = value; self.residual = residual; self.converged = converged
  }

  init(_ r: SharpnessRecord) {
    self.init(step: r.step, learningRate: r.learningRate, value: r.lambda1, residual: r.residual, converged: r.converged)
  }

  /// λ1·η_t/2: the measurement against 2/η at its own step.
  public var ratio: Double { value * learningRate / 2 }
}

/// One point of Fig 2: a run's λ1 at initialization and mid-training against its peak η.
public struct StabilityPoint: Codable, Sendable, Hashable {
  public var model: String
  public var learningRate: Double
  public var warmup: Int
  public var seed: Int
  public var status: TrainingOutcome.Status
  /// The step of a failure (diverged or collapsed).
  public var failureStep: Int?
  public var lambdaInit: Lambda1?
  /// λ1 at each mid-training step, for a run that did not fail before it.
  public var lambdaMid: [Lambda1]
  /// For a failed run: the last λ1 measured before the failure.
  public var lambdaBeforeFailure: Lambda1?
  /// Mean minibatch loss over the last tenth of training (nil for a diverged run).
  public var finalTrainLoss: Double?
  /// The first minibatch's loss.
  public var initialLoss: Double?
  /// The best constant prediction's loss (where the loss panels draw failed runs).
  public var chanceLoss: Double?
  public var testLoss: Double?
  public var testAccuracy: Double?

  public init(model: String, learningRate: Double, warmup: Int, seed: Int, status: TrainingOutcome.Status,
              failureStep: Int? = nil, lambdaInit: Lambda1?, lambdaMid: [Lambda1] = [], lambdaBeforeFailure: Lambda1? = nil,
              finalTrainLoss: Double? = nil, initialLoss: Double? = nil, chanceLoss: Double? = nil, testLoss: Double? = nil,
              testAccuracy: Double? = nil) {
    self.model = model; self.learningRate = learningRate; self.warmup = warmup; self.seed = seed; self.status = status
    self.failureStep = failureStep; self.lambdaInit = lambdaInit; self.lambdaMid = lambdaMid
    self.lambdaBeforeFailure = lambdaBeforeFailure; self.finalTrainLoss = finalTrainLoss; self.initialLoss = initialLoss
    self.chanceLoss = chanceLoss; self.testLoss = testLoss; self.testAccuracy = testAccuracy
  }

  /// The point of a grid run.
  public init(_ r: TrainingRecipe, _ o: TrainingOutcome, midSteps: [Int]) {
    let initial = o.measurement(at: 0).map(Lambda1.init)
    let mids = midSteps.compactMap { o.measurement(at: $0) }.filter { m in o.failureStep.map { m.step < $0 } ?? true }
    self.init(model: r.row, learningRate: r.learningRate, warmup: r.warmup, seed: Int(r.seed), status: o.status,
              failureStep: o.failureStep, lambdaInit: initial, lambdaMid: mids.map(Lambda1.init),
              lambdaBeforeFailure: o.status.failed ? o.lastBeforeFailure.map(Lambda1.init) : nil,
              finalTrainLoss: o.finalTrainLoss, initialLoss: o.initialLoss, chanceLoss: o.chanceLoss, testLoss: o.testLoss,
              testAccuracy: o.testAccuracy)
  }

  /// λ1 at the mid-training step `step`.
  public func mid(_ step: Int) -> Lambda1? { lambdaMid.first { $0.step == step } }

  /// What the right-hand panel draws: λ1 at `step` for a run that got there, else (a failed
  /// run) its last λ1 before failing.
  public func panel(_ step: Int) -> Lambda1? { mid(step) ?? (status.failed ? lambdaBeforeFailure : nil) }

  /// λ1 at initialization (NaN when not measured).
  public var lambda0: Double { lambdaInit?.value ?? .nan }
}

public struct Fig2Data: Codable, Sendable {
  public var models: [String]
  public var momentum: Double
  /// Nesterov momentum (full scale): its quadratic bound is (2 + 2β)/((1 + 2β)η), not (2 + 2β)/η.
  public var nesterov: Bool?

  /// The momentum optimizer's quadratic stability bound as c/η, and its label.
  public var momentumBound: (c: Double, label: String) {
    nesterov == true ? ((2 + 2 * momentum) / (1 + 2 * momentum), "(2+2β)/((1+2β)η)") : (2 + 2 * momentum, "(2+2β)/η")
  }
  public var midStep: Int
  public var midSteps: [Int]
  public var roles: StabilityRoles
  public var points: [StabilityPoint]
}

/// Fig 2 (and Figs 9–12): λ1 at initialization and at a fixed mid-training step against the
/// peak learning rate, one row per model, divergent runs ✕, with 2/η and (2 + 2β)/η.
public struct Fig2: StabilitySweepExperiment {
  public init() {}
  public let id = "fig2"
  public let title = "λ1 at initialization and mid-training vs learning rate"
  public let paperReference = "Fig 2, Figs 9–12"

  public func runs(_ s: StabilitySettings) -> [TrainingRecipe] { StabilitySweep.runs(s) }

  public func figureData(settings: StabilitySettings, results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> Fig2Data {
    Self.data(settings, results)
  }

  /// The sweep's grid points (traces left out).
  static func data(_ settings: StabilitySettings, _ results: [(run: TrainingRecipe, outcome: TrainingOutcome)]) -> Fig2Data {
    let points = results.filter { !$0.run.measurement.isTrace }.map { StabilityPoint($0.run, $0.outcome, midSteps: settings.midSteps) }
    return Fig2Data(models: settings.models, momentum: settings.momentum, nesterov: settings.nesterov ? true : nil,
                    midStep: settings.midStep, midSteps: settings.midSteps, roles: settings.roles, points: points)
  }

  public func claims(_ d: Fig2Data) -> [ClaimOutcome] { StabilityClaims.all(d) }

  /// At most this many models (two a row, as pairs of panels) on one page of Fig 2: four rows,
  /// about 1 000 px tall at 2× (the whole survey on one page was 32 panels, 3 140 px).
  static let modelsPerPage = 8

  /// The survey's models in pages: whole families, in the sweep's order, packed greedily.
  static func pages(_ models: [String]) -> [[String]] {
    var families: [[String]] = []
    for m in models {
      if let k = families.firstIndex(where: { ModelCatalog.family($0[0]) == ModelCatalog.family(m) }) { families[k].append(m) } else { families.append([m]) }
    }
    var pages: [[String]] = []
    for f in families {
      for chunk in stride(from: 0, to: f.count, by: modelsPerPage).map({ Array(f[$0..<min($0 + modelsPerPage, f.count)]) }) {
        if let last = pages.last, last.count + chunk.count <= modelsPerPage { pages[pages.count - 1] += chunk } else { pages.append(chunk) }
      }
    }
    return pages
  }

  /// One y-range (log) for every panel of a family, at initialization and mid-training, so its
  /// rows can be compared at a glance: the family's λ1 values with a margin.
  static func familyLimits(_ d: Fig2Data, family: String) -> ClosedRange<Double>? {
    let pts = d.points.filter { ModelCatalog.family($0.model) == family }
    let values = (pts.map(\.lambda0) + pts.compactMap { $0.panel(d.midStep)?.value }).filter { $0.isFinite && $0 > 0 }
    guard let lo = values.min(), let hi = values.max() else { return nil }
    return (lo / 2)...(max(hi, lo * 10) * 2)
  }

  /// Page 1: the survey's first models (the residual MLP family, Fig 1's role model); the rest
  /// are `fig2-page2`, `fig2-page3`, … (`additionalFigures`).
  public func figure(_ d: Fig2Data, caption: String) -> Figure {
    let pages = Self.pages(d.models)
    return page(d, models: pages.first ?? [], number: 1, of: pages.count, caption: caption)
  }

  func page(_ d: Fig2Data, models: [String], number: Int, of count: Int, caption: String) -> Figure {
    // Two models a row, each as a pair of panels (at initialization, mid-training); the legend
    // outside the top-right panel, for the whole page.
    let rows = max((models.count + 1) / 2, 1)
    var fig = Figure(rows: rows, cols: 4, width: 4 * 250 + 230,
                     title: "λ₁ vs learning rate (cf. Gilmer et al. Fig. 2)" + (count > 1 ? ", page \(number) of \(count)" : ""), caption: caption)
    // An odd number of models leaves the last row's second pair of panels undrawn.
    if models.count % 2 == 1 { for c in 2..<4 { fig[models.count / 2, c].isVisible = false } }
    let warmups = Set(d.points.map(\.warmup)).sorted()
    for (index, model) in models.enumerated() {
      let row = index / 2, col = 2 * (index % 2)
      let pts = d.points.filter { $0.model == model }
      let limits = Self.familyLimits(d, family: ModelCatalog.family(model))
      var left = Axes(title: "\(ModelCatalog.title(model)): at initialization",
                      x: Axis(scale: .log, label: "peak learning rate η"), y: Axis(scale: .log, label: "λ₁ at init", limits: limits))
      var right = Axes(title: "\(ModelCatalog.title(model)): step \(d.midStep)",
                       x: Axis(scale: .log, label: "peak learning rate η"), y: Axis(scale: .log, label: "λ₁ mid-training", limits: limits))
      for ax in [0, 1] {
        var a = ax == 0 ? left : right
        a.shade(.aboveInverse(c: 2))
        a.reference(.inverse(c: 2))
        a.reference(.inverse(c: d.momentumBound.c), style: .dotted)
        a.legend = .none
        if ax == 0 { left = a } else { right = a }
      }
      for (k, w) in warmups.enumerated() {
        let group = pts.filter { $0.warmup == w }
        let color = Palette.color(k)
        if w == 0 {
          left.scatter(x: group.map(\.learningRate), y: group.map(\.lambda0), color: color,
                       markers: group.map { $0.status.failed ? .cross : .circle })
        }
        // Failed runs at their last λ1 before failing (never a post-mortem value), at η then.
        let withMid = group.filter { $0.panel(d.midStep) != nil }
        right.scatter(x: withMid.map(\.learningRate), y: withMid.map { $0.panel(d.midStep)?.value ?? .nan }, color: color,
                      markers: withMid.map { $0.status.failed ? .cross : .circle })
      }
      fig[row, col] = left
      fig[row, col + 1] = right
    }
    // One legend for the page, outside its top-right panel.
    var entries = [LegendEntry(label: "λ₁ > 2/η", color: Palette.unstableFill, patch: true),
                   LegendEntry(label: "2/η", color: Palette.threshold, line: .dashed),
                   LegendEntry(label: d.momentumBound.label, color: Palette.threshold, line: .dotted)]
    for (k, w) in warmups.enumerated() {
      entries.append(LegendEntry(label: w == 0 ? "no warmup" : "warmup \(w) (mid-training panels; λ₁ at init is the same)", color: Palette.color(k), marker: .circle))
    }
    entries.append(LegendEntry(label: "failed (mid-training: its last λ₁ before failing)", color: .black, marker: .cross))
    let corner = models.count > 1 ? 3 : 1
    fig[0, corner].legendEntries = entries
    fig[0, corner].legend = .outside
    return fig
  }

  /// Figs 9–12: final training loss and test accuracy vs peak η, without and with warmup, one
  /// row per model family (WideResNet, DenseNet, ResNet, Transformer LM, residual MLP, MLP), one
  /// series per model; failed runs ✕ at the panel's edge.
  public func additionalFigures(_ d: Fig2Data, caption: String) -> [(suffix: String, figure: Figure)] {
    let pages = Self.pages(d.models)
    return pages.enumerated().dropFirst().map { k, models in
      ("page\(k + 1)", page(d, models: models, number: k + 1, of: pages.count, caption: caption))
    } + [("performance", performanceFigure(d, caption: caption))]
  }

  func performanceFigure(_ d: Fig2Data, caption: String) -> Figure {
    var families: [String] = []
    for m in d.models where !families.contains(ModelCatalog.family(m)) { families.append(ModelCatalog.family(m)) }
    let warmups = [0] + Array(Set(d.points.map(\.warmup)).filter { $0 > 0 }.sorted().prefix(1))
    let cols = 2 * warmups.count
    var fig = Figure(rows: max(families.count, 1), cols: cols, width: Double(cols) * 270 + 20,
                     title: "Performance vs learning rate (cf. Gilmer et al. Figs. 9–12)", caption: caption)
    for (row, family) in families.enumerated() {
      let models = d.models.filter { ModelCatalog.family($0) == family }
      let ceiling = PerformancePanel.lossCeiling(d.points.filter { models.contains($0.model) })
      let accuracy = family == "lm" ? "next-char accuracy" : "test accuracy"
      for (k, metric) in [PerformancePanel.Metric.trainLoss(ceiling: ceiling), .testAccuracy].enumerated() {
        for (j, w) in warmups.enumerated() {
          let series = models.enumerated().map { i, m in
            PerformancePanel.Series(label: ModelCatalog.title(m), color: Palette.color(i),
                                    points: d.points.filter { $0.model == m && $0.warmup == w })
          }
          let what = k == 0 ? "train loss" : accuracy
          var ax = PerformancePanel.axes(title: "\(ModelCatalog.familyTitle(family)): \(what), \(w == 0 ? "no warmup" : "warmup \(w)")",
                                         metric: metric, series: series)
          // One legend a row (the models differ between rows), in its first panel.
          let first = k == 0 && j == 0
          ax.legend = first ? .best : .none
          if first { ax.legendEntries += PerformancePanel.failureEntries }
          fig[row, k * warmups.count + j] = ax
        }
      }
    }
    return fig
  }

  public func table(_ d: Fig2Data) -> String {
    let rows = d.points.sorted { ($0.model, $0.warmup, $0.learningRate, $0.seed) < ($1.model, $1.warmup, $1.learningRate, $1.seed) }.map { p in
      let shown = p.panel(d.midStep)
      return [ModelCatalog.title(p.model), "\(p.warmup)", String(format: "%g", p.learningRate), "\(p.seed)", Self.statusText(p),
              Self.lambdaText(p.lambdaInit), shown.map { "\(Self.lambdaText($0)) @\($0.step)" } ?? "–",
              shown.map { String(format: "%.2f", $0.ratio) } ?? "–",
              p.finalTrainLoss.map { String(format: "%.4f", $0) } ?? "–", p.testAccuracy.map { String(format: "%.3f", $0) } ?? "–"]
    }
    return markdownTable(
      headers: ["model", "warmup", "peak η", "seed", "status", "λ1 init (residual)", "λ1 step \(d.midStep) or before failure @step",
                "λ1·η_t/2", "train loss", "test acc"],
      rows: rows, alignments: [.left, .right, .right, .right, .left, .right, .right, .right, .right, .right])
  }

  static func statusText(_ p: StabilityPoint) -> String {
    p.status.rawValue + (p.failureStep.map { " at \($0)" } ?? "")
  }

  /// "12.3 (2e-04)", with "unconverged" when the residual misses the tolerance.
  static func lambdaText(_ l: Lambda1?) -> String {
    guard let l else { return "–" }
    return String(format: "%.4g (%.0e)", l.value, l.residual) + (l.converged == false ? " unconverged" : "")
  }

  /// Tolerances: the same runs with the same status; λ1 at initialization within 1 % (only
  /// rounding differs); mid-training λ1 within 10 % (training amplifies last-bit differences).
  public func drift(_ d: Fig2Data, golden g: Fig2Data) -> [String] {
    StabilityClaims.drift(d.points, g.points)
  }
}
