import Foundation
import Plotting

/// Final training loss or test accuracy against peak η, one series per group of runs: the panels
/// of Fig 1 (left), Fig 7 and Figs 9–12. Trained runs are joined by a line (the mean over seeds
/// at each η). Failures are drawn where they ended, each kind with its own marker: a run that
/// diverged (NaN or blow-up, no final value) is a ✕ at the initial loss or at chance accuracy;
/// one that collapsed (finite, ended at chance) a ▲ and one that is merely under-trained a ■, both
/// at their own final loss and accuracy.
enum PerformancePanel {
  struct Series {
    var label: String
    var color: Color
    var points: [StabilityPoint]
  }

  enum Metric {
    /// Final training loss (mean of the last tenth of steps), log scale; diverged runs at `ceiling`.
    case trainLoss(ceiling: Double)
    /// Test accuracy, linear from 0; diverged runs at chance (e^(−chance loss): 1/10 for ten
    /// balanced classes).
    case testAccuracy

    func value(_ p: StabilityPoint) -> Double? {
      switch self {
      case .trainLoss: return p.finalTrainLoss
      case .testAccuracy: return p.testAccuracy
      }
    }

    /// Where a diverged run's ✕ goes.
    func divergedAt(_ p: StabilityPoint) -> Double {
      switch self {
      case .trainLoss(let ceiling): return ceiling
      case .testAccuracy: return p.chanceLoss.map { $0.isFinite ? exp(-$0) : 0 } ?? 0
      }
    }

    var label: String {
      switch self {
      case .trainLoss: return "final training loss"
      case .testAccuracy: return "test accuracy"
      }
    }
  }

  /// The ceiling of a loss panel: the largest initial loss of its runs (chance level for a
  /// classifier at initialization, ln 10 ≈ 2.3); 1 when no run reports one.
  static func lossCeiling(_ points: [StabilityPoint]) -> Double {
    let initial = points.compactMap(\.initialLoss).filter { $0.isFinite && $0 > 0 }
    return initial.max() ?? 1
  }

  /// The legend rows explaining the failure markers (one legend serves the loss and accuracy panels).
  static let failureEntries = [
    LegendEntry(label: "diverged (at initial loss / chance acc.)", color: .black, marker: .cross),
    LegendEntry(label: "collapsed to chance (its final values)", color: .black, marker: .triangle),
    LegendEntry(label: "under-trained (its final values)", color: .black, marker: .square),
  ]

  static func axes(title: String, metric: Metric, series: [Series]) -> Axes {
    let x = Axis(scale: .log, label: "peak learning rate η")
    var ax: Axes
    switch metric {
    case .trainLoss(let ceiling):
      // From below the lowest trained loss (and at least a factor 5 below the ceiling, so the
      // log axis gets labelled ticks) to just above the ceiling's row of ✕.
      let low = series.flatMap(\.points).filter { !$0.status.failed }.compactMap(\.finalTrainLoss)
        .filter { $0.isFinite && $0 > 0 }.min() ?? ceiling
      // A collapsed run can end above its initial loss: the axis reaches its ▲ too.
      let high = series.flatMap(\.points).compactMap(\.finalTrainLoss).filter { $0.isFinite && $0 > 0 }.max() ?? ceiling
      ax = Axes(title: title, x: x, y: Axis(scale: .log, label: metric.label, limits: min(low / 1.3, ceiling / 5)...(max(ceiling, high) * 1.3)))
      ax.reference(.horizontal(ceiling), color: Color(hex: 0x999999), style: .dotted, label: "initial loss")
    case .testAccuracy:
      let top = series.flatMap(\.points).filter { !$0.status.failed }.compactMap(\.testAccuracy).filter(\.isFinite).max() ?? 1
      ax = Axes(title: title, x: x, y: Axis(label: metric.label, limits: 0...min(1, max(0.1, top * 1.1))))
    }
    for (k, s) in series.enumerated() {
      let trained = s.points.filter { $0.status == .trained && (metric.value($0)?.isFinite ?? false) }
      let etas = Set(trained.map(\.learningRate)).sorted()
      let means = etas.map { eta -> Double in
        let v = trained.filter { $0.learningRate == eta }.compactMap(metric.value)
        return v.reduce(0, +) / Double(v.count)
      }
      ax.plot(x: etas, y: means, color: s.color, label: s.label, marker: .circle)
      // Failures of different series at the same η would hide one another (the diverged ones all
      // sit on one line): each series' markers are dodged sideways by 0.05 decade.
      let dodge = pow(10, 0.05 * (Double(k) - Double(series.count - 1) / 2))
      let diverged = s.points.filter { $0.status == .diverged || ($0.status.failed && !(metric.value($0)?.isFinite ?? false)) }
      ax.scatter(x: diverged.map { $0.learningRate * dodge }, y: diverged.map(metric.divergedAt), color: s.color, marker: .cross)
      for (status, marker) in [(TrainingOutcome.Status.collapsed, Marker.triangle), (.underTrained, .square)] {
        let shown = s.points.filter { $0.status == status && (metric.value($0)?.isFinite ?? false) }
        ax.scatter(x: shown.map { $0.learningRate * dodge }, y: shown.compactMap(metric.value), color: s.color, marker: marker, size: 5)
      }
    }
    return ax
  }
}
