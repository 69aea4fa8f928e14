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
  public var status: StabilityOutcome.Status
  public var divergenceStep: Int?
  public var steps: [Int]
  public var learningRates: [Double]
  public var lambda1: [Double]
}

public struct Fig3Data: Codable, Sendable {
  public var points: [StabilityPoint]
  /// Roles the sweep had no run for (reported, not faked).
  public var missing: [String]
  public var runs: [LetteredRun]
}

/// Fig 3 (and Figs 8, 13): the λ1-vs-η scatter with selected runs lettered, and beside it the
/// full time series of λ1 against 2/η for each lettered run. It reads the stability sweep that
/// fig2 trains (nothing is trained twice).
public struct Fig3: StabilitySweepExperiment {
  public init() {}
  public let id = "fig3"
  public let title = "λ1 and 2/η over training for selected runs"
  public let paperReference = "Fig 3, Fig 8, Fig 13"


  /// The paper's lettered behaviours, each picked from the sweep by a stated rule.
  public func figureData(settings: StabilitySettings, results: [(run: StabilityRun, outcome: StabilityOutcome)]) -> Fig3Data {
    let fig2 = Fig2().figureData(settings: settings, results: results)
    var lettered: [LetteredRun] = []
    var missing: [String] = []
    func add(_ role: String, _ pick: (run: StabilityRun, outcome: StabilityOutcome)?) {
      let letter = String(UnicodeScalar(UInt8(65 + lettered.count)))
      guard let (r, o) = pick else { missing.append(role); return }
      lettered.append(LetteredRun(
        letter: letter, role: role, model: r.model, learningRate: r.learningRate, warmup: r.warmup, status: o.status,
        divergenceStep: o.divergenceStep, steps: o.sharpness.map(\.step), learningRates: o.sharpness.map(\.learningRate),
        lambda1: o.sharpness.map(\.lambda1)))
    }
    let byLambdaInit = results.sorted { $0.outcome.lambdaInit > $1.outcome.lambdaInit }
    // A: no warmup, diverged within 10 steps; the sharpest model, smallest such η.
    add("diverges within a few steps", byLambdaInit.filter { $0.run.warmup == 0 && ($0.outcome.divergenceStep ?? .max) <= 10 }
      .min { ($0.run.learningRate, -$0.outcome.lambdaInit) < ($1.run.learningRate, -$1.outcome.lambdaInit) })
    // B: warmup trains at an η where the same model without warmup fails.
    let rescued = results.filter { r in
      r.run.warmup > 0 && r.outcome.status == .trained && results.contains {
        $0.run.model == r.run.model && $0.run.warmup == 0 && $0.run.learningRate == r.run.learningRate
          && $0.run.seed == r.run.seed && $0.outcome.status != .trained
      }
    }
    add("warmup pulls λ1 down until the peak η", rescued.max { $0.outcome.lambdaInit < $1.outcome.lambdaInit })
    // C: no warmup, starts below 2/η, trains, and sharpens to within 20 % of 2/η_t.
    add("starts flat, sharpens progressively up to 2/η", results.filter { r in
      r.run.warmup == 0 && r.outcome.status == .trained && r.outcome.lambdaInit * r.run.learningRate / 2 < 0.5
        && r.outcome.sharpness.contains { $0.lambda1 * $0.learningRate / 2 >= 0.8 }
    }.max { $0.outcome.lambdaInit < $1.outcome.lambdaInit })
    // D: starts below 2/η, sharpens, diverges (the paper's C4).
    add("starts below 2/η, sharpens and diverges", results.filter {
      $0.outcome.status == .diverged && $0.outcome.lambdaInit * $0.run.learningRate / 2 < 1
    }.first)
    return Fig3Data(points: fig2.points, missing: missing, runs: lettered)
  }

  public func claims(_ d: Fig3Data) -> [ClaimOutcome] {
    var out = [StabilityClaims.c4(d.points)]
    // Warmup pulls λ1 down: for the warmup-rescued run, λ1 at the end of warmup < λ1 at init.
    if let b = d.runs.first(where: { $0.role.hasPrefix("warmup") }), let first = b.lambda1.first,
       let atPeak = Array(zip(b.steps, b.lambda1)).last(where: { $0.0 <= b.warmup })?.1
    {
      out.append(ClaimOutcome(
        id: "C5a", statement: "During warmup λ1 falls so that training reaches the peak η without diverging.",
        check: "the lettered warmup-rescued run has λ1 at the end of warmup below λ1 at initialization",
        holds: atPeak < first, measured: "\(ModelCatalog.title(b.model)), η = \(b.learningRate): λ1 \(String(format: "%.3g", first)) → \(String(format: "%.3g", atPeak)) by step \(b.warmup)"))
    } else {
      out.append(ClaimOutcome(id: "C5a", statement: "During warmup λ1 falls so that training reaches the peak η without diverging.",
                              check: "a warmup-rescued run exists", holds: false, measured: "no warmup-rescued run in the sweep"))
    }
    return out
  }

  public func figure(_ d: Fig3Data, caption: String) -> Figure {
    // One row: the lettered scatter, then one time series per lettered run.
    var fig = Figure(rows: 1, cols: 1 + d.runs.count, title: "λ₁ and 2/η over training (cf. Gilmer et al. Fig. 3)", caption: caption)
    var top = Axes(title: "λ₁ mid-training vs peak η, lettered runs", x: Axis(scale: .log, label: "peak learning rate η"),
                   y: Axis(scale: .log, label: "λ₁ mid-training"))
    top.shade(.aboveInverse(c: 2), label: "λ₁ > 2/η")
    top.reference(.inverse(c: 2), label: "2/η")
    let withMid = d.points.filter { $0.lambdaMid != nil }
    top.scatter(x: withMid.map(\.learningRate), y: withMid.map { $0.lambdaMid ?? .nan }, color: Palette.color(0),
                markers: withMid.map { $0.status == .trained ? .circle : .cross }, label: "runs (✕ failed)")
    for r in d.runs {
      if let p = d.points.first(where: { $0.model == r.model && $0.learningRate == r.learningRate && $0.warmup == r.warmup }),
         let mid = p.lambdaMid
      {
        top.annotate(r.letter, at: .data(x: r.learningRate, y: mid, side: .left), dx: 4, dy: -4, size: 11, bold: true)
      }
    }
    top.legend = .none
    fig[0, 0] = top
    for (k, r) in d.runs.enumerated() {
      let title = "\(r.letter): \(ModelCatalog.title(r.model)), η = \(String(format: "%g", r.learningRate))\(r.warmup > 0 ? ", warmup \(r.warmup)" : "")"
      var ax = Axes(title: title, x: Axis(label: "step"), y: Axis(scale: .log, label: "λ₁"), y2: Axis(scale: .log, label: "η"))
      let s = r.steps.map(Double.init)
      ax.plot(x: s, y: r.lambda1, color: Palette.blue, label: "λ₁", marker: .circle)
      ax.plot(x: s, y: r.learningRates.map { 2 / $0 }, color: .black, style: .dashed, label: "2/η")
      ax.plot(x: s, y: r.learningRates, color: Palette.orange, style: .dotted, label: "η (right)", side: .right)
      ax.panelLetter(r.letter)
      ax.legend = k == 0 ? .best : .none
      if let dstep = r.divergenceStep { ax.reference(.vertical(Double(dstep)), color: Palette.vermillion, style: .dotted, label: "diverged") }
      fig[0, k + 1] = ax
    }
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
    if !d.missing.isEmpty { t += "\n\nNo run in the sweep shows: " + d.missing.joined(separator: "; ") + "." }
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
