import Foundation
import ML
import Plotting

/// One point of Fig 2: a run's λ1 at initialization and mid-training against its peak η.
public struct StabilityPoint: Codable, Sendable, Hashable {
  public var model: String
  public var learningRate: Double
  public var warmup: Int
  public var seed: Int
  public var status: StabilityOutcome.Status
  public var lambdaInit: Double
  public var lambdaMid: Double?
  public var lambdaMidStep: Int?
  /// η at the step of the mid-training measurement (below the peak once cosine decay starts).
  public var lambdaMidLearningRate: Double?
  /// Mean minibatch loss over the last tenth of training (nil for a diverged run; absent from
  /// data recorded before it was added).
  public var finalTrainLoss: Double?
  /// The first minibatch's loss, the ceiling at which the loss-vs-η panels draw failed runs.
  public var initialLoss: Double?
  public var testLoss: Double?
  public var testAccuracy: Double?
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
  public var points: [StabilityPoint]
}

/// Fig 2 (and Figs 9–12): λ1 at initialization and at a fixed mid-training step against the
/// peak learning rate, one row per model, divergent runs ✕, with 2/η and (2 + 2β)/η.
public struct Fig2: StabilitySweepExperiment {
  public init() {}
  public let id = "fig2"
  public let title = "λ1 at initialization and mid-training vs learning rate"
  public let paperReference = "Fig 2, Figs 9–12"

  public func runs(_ s: StabilitySettings) -> [StabilityRun] { StabilitySweep.runs(s) }

  public func figureData(settings: StabilitySettings, results: [(run: StabilityRun, outcome: StabilityOutcome)]) -> Fig2Data {
    let points = results.filter { !$0.run.trace }.map { r, o in
      StabilityPoint(model: r.model, learningRate: r.learningRate, warmup: r.warmup, seed: r.seed, status: o.status,
                     lambdaInit: o.lambdaInit, lambdaMid: o.lambdaMid, lambdaMidStep: o.lambdaMidStep,
                     lambdaMidLearningRate: o.lambdaMidLearningRate, finalTrainLoss: o.finalTrainLoss,
                     initialLoss: o.initialLoss, testLoss: o.testLoss, testAccuracy: o.testAccuracy)
    }
    return Fig2Data(models: settings.models, momentum: settings.momentum, nesterov: settings.nesterov ? true : nil,
                    midStep: settings.midStep, points: points)
  }

  public func claims(_ d: Fig2Data) -> [ClaimOutcome] { StabilityClaims.all(d) }

  public func figure(_ d: Fig2Data, caption: String) -> Figure {
    // Two models a row, each as a pair of panels (at initialization, mid-training).
    // Plus one slot for the paper's MetaInit row, which lands with the initialization issue.
    let slots = d.models.count + 1
    var fig = Figure(rows: max((slots + 1) / 2, 1), cols: 4, title: "λ₁ vs learning rate (cf. Gilmer et al. Fig. 2)", caption: caption)
    let slotRow = d.models.count / 2, slotCol = 2 * (d.models.count % 2)
    for k in 0..<2 {
      var slot = Axes(title: "WRN, no BN, MetaInit: \(k == 0 ? "at initialization" : "step \(d.midStep)")",
                      x: Axis(scale: .log, label: "peak learning rate η"), y: Axis(scale: .log, label: "λ₁"))
      slot.annotate("pending (initialization issue)", at: .axes(x: 0.5, y: 0.35), size: 8,
                    color: .gray, hAlign: .center, vAlign: .center)
      fig[slotRow, slotCol + k] = slot
    }
    for (index, model) in d.models.enumerated() {
      let row = index / 2, col = 2 * (index % 2)
      let pts = d.points.filter { $0.model == model }
      var left = Axes(title: "\(ModelCatalog.title(model)): at initialization",
                      x: Axis(scale: .log, label: "peak learning rate η"), y: Axis(scale: .log, label: "λ₁ at init"))
      var right = Axes(title: "\(ModelCatalog.title(model)): step \(d.midStep)",
                       x: Axis(scale: .log, label: "peak learning rate η"), y: Axis(scale: .log, label: "λ₁ mid-training"))
      for ax in [0, 1] {
        var a = ax == 0 ? left : right
        a.shade(.aboveInverse(c: 2), label: "λ₁ > 2/η")
        a.reference(.inverse(c: 2), label: "2/η")
        a.reference(.inverse(c: d.momentumBound.c), style: .dotted, label: d.momentumBound.label)
        if ax == 0 { left = a } else { right = a }
      }
      for (k, w) in Set(pts.map(\.warmup)).sorted().enumerated() {
        let group = pts.filter { $0.warmup == w }
        let color = Palette.color(k)
        let name = w == 0 ? "no warmup" : "warmup \(w)"
        if w == 0 {
          left.scatter(x: group.map(\.learningRate), y: group.map(\.lambdaInit), color: color,
                       markers: group.map { $0.status == .trained ? .circle : .cross }, label: name)
        }
        let withMid = group.filter { $0.lambdaMid != nil }
        right.scatter(x: withMid.map(\.learningRate), y: withMid.map { $0.lambdaMid ?? .nan }, color: color,
                      markers: withMid.map { $0.status == .trained ? .circle : .cross }, label: name)
      }
      // One legend for the figure, in the first panel.
      left.legend = index == 0 ? .best : .none
      right.legend = .none
      // The left panels plot the no-warmup runs only (λ1 at init does not depend on warmup);
      // the legend names the warmup colour of the right panels too.
      for (k, w) in Set(pts.map(\.warmup)).sorted().enumerated() where w > 0 {
        left.legendEntries.append(LegendEntry(label: "warmup \(w) (right)", color: Palette.color(k), marker: .circle))
      }
      left.legendEntries.append(LegendEntry(label: "diverged / did not train", color: .black, marker: .cross))
      fig[row, col] = left
      fig[row, col + 1] = right
    }
    return fig
  }

  /// Figs 9–12: final training loss and test accuracy vs peak η, without and with warmup, one
  /// row per model family (WideResNet, DenseNet, ResNet, Transformer LM, residual MLP, MLP), one
  /// series per model; failed runs ✕ at the panel's edge.
  public func additionalFigures(_ d: Fig2Data, caption: String) -> [(suffix: String, figure: Figure)] {
    [("performance", performanceFigure(d, caption: caption))]
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
          if first { ax.legendEntries.append(PerformancePanel.failedEntry) }
          fig[row, k * warmups.count + j] = ax
        }
      }
    }
    return fig
  }

  public func table(_ d: Fig2Data) -> String {
    let rows = d.points.sorted { ($0.model, $0.warmup, $0.learningRate, $0.seed) < ($1.model, $1.warmup, $1.learningRate, $1.seed) }.map { p in
      [ModelCatalog.title(p.model), "\(p.warmup)", String(format: "%g", p.learningRate), "\(p.seed)", p.status.rawValue,
       String(format: "%.4g", p.lambdaInit), p.lambdaMid.map { String(format: "%.4g", $0) } ?? "–",
       p.lambdaMid.map { String(format: "%.2f", $0 * p.learningRate / 2) } ?? "–",
       p.finalTrainLoss.map { String(format: "%.4f", $0) } ?? "–", p.testAccuracy.map { String(format: "%.3f", $0) } ?? "–"]
    }
    return markdownTable(
      headers: ["model", "warmup", "peak η", "seed", "status", "λ1 init", "λ1 mid", "λ1·η/2", "train loss", "test acc"],
      rows: rows, alignments: [.left, .right, .right, .right, .left, .right, .right, .right, .right, .right])
  }

  /// Tolerances: the same runs with the same status; λ1 at initialization within 1 % (only
  /// rounding differs); mid-training λ1 within 10 % (training amplifies last-bit differences).
  public func drift(_ d: Fig2Data, golden g: Fig2Data) -> [String] {
    StabilityClaims.drift(d.points, g.points)
  }
}
