import Foundation

/// How closely λ1 follows 2/η_t during a warmup (the paper: "during the warmup period, λ1
/// fluctuates close to the 2/η bound"; Fig 3 B and F, Fig 4). Band and fraction were fixed from
/// the paper's words and SPEC's note on minibatch SGD (λ1 sits somewhat below 2/η_t, with
/// step-to-step noise) before the small-scale traces were looked at.
public enum WarmupTracking {
  /// "Close to 2/η_t": 0.5 ≤ λ1·η_t/2 ≤ 1.2 (up to a factor 2 below, 20 % above).
  public static let band: ClosedRange<Double> = 0.5...1.2
  /// "For a large part of the warmup": at least this fraction of the warmup's measurements after
  /// λ1 first reaches the band.
  public static let fraction = 0.6

  public struct Analysis: Sendable {
    /// The threshold is coefficient/η_t: 2 for SGD, 38 for Adam's preconditioned λ1 at β1 0.9.
    public var coefficient: Double
    public var lambdaStart: Double
    /// λ1 at the last measurement within the warmup.
    public var lambdaEnd: Double
    /// The first measured step in the warmup at which λ1·η_t/2 reached the band's lower edge.
    public var firstReach: Int?
    /// Measurements within the warmup from `firstReach` on, and how many lie inside the band.
    public var after: Int
    public var inside: Int
    public var fractionInside: Double { after > 0 ? Double(inside) / Double(after) : 0 }
    /// The least-squares slope of log λ1 against log(1/η_t) over the warmup's measurements from
    /// `firstReach` on (1: λ1 ∝ 1/η_t, exact tracking; 0: λ1 ignores η_t); nil with fewer than
    /// three such measurements.
    public var slope: Double?
    public var falls: Bool { lambdaEnd < lambdaStart }
    public var tracks: Bool { falls && firstReach != nil && fractionInside >= WarmupTracking.fraction }

    public var text: String {
      "λ1 \(f(lambdaStart)) → \(f(lambdaEnd)) by the end of warmup; "
        + (firstReach.map { "reaches \(f(coefficient))/η_t's band at step \($0), then \(inside) of \(after) warmup measurements inside [\(f(band.lowerBound)), \(f(band.upperBound))] (\(String(format: "%.0f", 100 * fractionInside)) %)" }
           ?? "never reaches the band [\(f(band.lowerBound)), \(f(band.upperBound))] during warmup")
        + (slope.map { ", slope of log λ1 on log(1/η_t) \(String(format: "%.2f", $0))" } ?? "")
    }
  }

  static func f(_ x: Double) -> String { StabilityClaims.fmt(x) }

  /// The analysis of a traced run's warmup (nil without a warmup or measurements in it).
  public static func analyze(_ r: LetteredRun) -> Analysis? {
    analyze(steps: r.steps, lambda1: r.lambda1, learningRates: r.learningRates, warmup: r.warmup)
  }

  /// The analysis of the measurements (step, λ1, η_t) taken before step `warmup`, against the
  /// threshold `coefficient`/η_t.
  public static func analyze(steps: [Int], lambda1: [Double], learningRates: [Double], warmup: Int, coefficient: Double = 2) -> Analysis? {
    let series = zip(steps, zip(lambda1, learningRates)).filter { $0.0 < warmup }.map { (step: $0.0, lambda: $0.1.0, eta: $0.1.1) }
    guard warmup > 0, let first = series.first, let last = series.last else { return nil }
    let ratios = series.map { $0.lambda * $0.eta / coefficient }
    let reach = ratios.firstIndex { $0 >= band.lowerBound }
    let tail = reach.map { Array(ratios[$0...]) } ?? []
    let tracked = reach.map { Array(series[$0...]) } ?? []
    return Analysis(coefficient: coefficient, lambdaStart: first.lambda, lambdaEnd: last.lambda, firstReach: reach.map { series[$0].step }, after: tail.count,
                    inside: tail.filter { band.contains($0) }.count,
                    slope: logSlope(x: tracked.map { 1 / $0.eta }, y: tracked.map(\.lambda)))
  }

  /// The least-squares slope of log y on log x (nil with fewer than three positive, finite
  /// points or no spread in x).
  static func logSlope(x: [Double], y: [Double]) -> Double? {
    let pts = zip(x, y).filter { $0.0 > 0 && $0.1 > 0 && $0.0.isFinite && $0.1.isFinite }.map { (log($0.0), log($0.1)) }
    guard pts.count >= 3 else { return nil }
    let mx = pts.map(\.0).reduce(0, +) / Double(pts.count), my = pts.map(\.1).reduce(0, +) / Double(pts.count)
    let sxx = pts.map { ($0.0 - mx) * ($0.0 - mx) }.reduce(0, +)
    guard sxx > 1e-12 else { return nil }
    return pts.map { ($0.0 - mx) * ($0.1 - my) }.reduce(0, +) / sxx
  }

  /// F3 (Fig 1) and C5a (Fig 3): the plain model at η_A, with and without warmup (Fig 3's A and B).
  public static func claim(id: String, a: LetteredRun?, b: LetteredRun?, missing: [String]) -> ClaimOutcome {
    var parts: [String] = []
    var holds = true
    if let a {
      let r0 = (a.lambda1.first ?? .nan) * a.learningRate / 2
      let ok = a.status.failed && r0 > 1
      holds = holds && ok
      parts.append("without warmup (η = \(f(a.learningRate))): λ1₀·η/2 = \(f(r0)), \(a.status.rawValue)\(a.failureStep.map { " at step \($0)" } ?? "")")
    } else { holds = false }
    if let b, let t = analyze(b) {
      holds = holds && b.status == .trained && t.tracks
      parts.append("with warmup \(b.warmup): \(b.status.rawValue); \(t.text)")
    } else { holds = false }
    if !missing.isEmpty { parts.append("no run: " + missing.joined(separator: "; ")) }
    return ClaimOutcome(
      id: id, statement: "With warmup, λ1 gradually decreases during training [and fluctuates close to 2/η_t], allowing successful training at a peak η at which the same model diverges without warmup.",
      check: "the plain model at η_A (Fig 3's A and B, traced): without warmup λ1₀·η/2 > 1 and the run fails (diverges or collapses); with warmup it trains, λ1 at the end of warmup is below λ1 at init, and after λ1·η_t/2 first reaches \(f(band.lowerBound)) at least \(Int(100 * fraction)) % of the warmup's measurements lie in [\(f(band.lowerBound)), \(f(band.upperBound))]",
      holds: holds, measured: parts.isEmpty ? "no traces" : parts.joined(separator: "; "))
  }
}
