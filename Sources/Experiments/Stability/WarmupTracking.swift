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
    public var lambdaStart: Double
    /// λ1 at the last measurement within the warmup.
    public var lambdaEnd: Double
    /// The first measured step in the warmup at which λ1·η_t/2 reached the band's lower edge.
    public var firstReach: Int?
    /// Measurements within the warmup from `firstReach` on, and how many lie inside the band.
    public var after: Int
    public var inside: Int
    public var fractionInside: Double { after > 0 ? Double(inside) / Double(after) : 0 }
    public var falls: Bool { lambdaEnd < lambdaStart }
    public var tracks: Bool { falls && firstReach != nil && fractionInside >= WarmupTracking.fraction }

    public var text: String {
      "λ1 \(f(lambdaStart)) → \(f(lambdaEnd)) by the end of warmup; "
        + (firstReach.map { "reaches 2/η_t's band at step \($0), then \(inside) of \(after) warmup measurements inside [\(f(band.lowerBound)), \(f(band.upperBound))] (\(String(format: "%.0f", 100 * fractionInside)) %)" }
           ?? "never reaches the band [\(f(band.lowerBound)), \(f(band.upperBound))] during warmup")
    }
  }

  static func f(_ x: Double) -> String { String(format: "%.3g", x) }

  /// The analysis of a traced run's warmup (nil without a warmup or measurements in it).
  public static func analyze(_ r: LetteredRun) -> Analysis? {
    let series = zip(r.steps, zip(r.lambda1, r.learningRates)).filter { $0.0 < r.warmup }
    guard r.warmup > 0, let first = series.first, let last = series.last else { return nil }
    let ratios = series.map { ($0.0, $0.1.0 * $0.1.1 / 2) }
    let reach = ratios.firstIndex { $0.1 >= band.lowerBound }
    let tail = reach.map { Array(ratios[$0...]) } ?? []
    return Analysis(lambdaStart: first.1.0, lambdaEnd: last.1.0, firstReach: reach.map { ratios[$0].0 }, after: tail.count,
                    inside: tail.filter { band.contains($0.1) }.count)
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
