/// The trace of a symmetric operator by Hutchinson's estimator (Hutchinson 1990): for
/// Rademacher probes z (entries ±1, seeded), E[zᵀHz] = tr(H), so the mean of zᵀHz over m probes
/// estimates it with standard error s/√m (s the sample standard deviation of the m values; for
/// Rademacher probes the variance is 2·Σ_{i≠j} H_ij², so a diagonal operator is exact).
public struct TraceEstimate: Sendable, Hashable, Codable {
  public var value: Double
  /// The standard error of `value` (nil with a single probe).
  public var standardError: Double?
  public var probes: Int
  /// Each probe's zᵀHz.
  public var samples: [Double]
}

public func hutchinsonTrace(_ op: SymmetricOperator, probes m: Int, seed: UInt64 = 0,
                            progress: ((Int) -> Void)? = nil) throws -> TraceEstimate {
  precondition(m >= 1, "Hutchinson's estimator needs at least one probe")
  var rng = SplitMix64(seed: seed)
  var samples: [Double] = []
  for p in 0..<m {
    let z = (0..<op.dimension).map { _ in rng.next() & 1 == 0 ? 1.0 : -1.0 }
    let hz = op(z)
    let q = dot(z, hz)
    guard q.isFinite else { throw CurvatureError.nonFinite(iteration: p) }
    samples.append(q)
    progress?(p + 1)
  }
  let mean = samples.reduce(0, +) / Double(m)
  let se: Double? = m > 1 ? (samples.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(m - 1) / Double(m)).squareRoot() : nil
  return TraceEstimate(value: mean, standardError: se, probes: m, samples: samples)
}
