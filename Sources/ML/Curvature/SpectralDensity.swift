import Foundation

/// The spectral density of a symmetric operator by stochastic Lanczos quadrature (Golub &
/// Meurant; Ubaru, Chen & Saad 2017; for neural-network Hessians Ghorbani, Krishnan & Xiao 2019).
///
/// For each of `probes` Gaussian unit start vectors v, m Lanczos steps (full reorthogonalization)
/// give T_m = Σ θ_i s_i s_iᵀ; the Gauss quadrature nodes θ_i with weights τ_i = s_i[0]² satisfy
/// vᵀ f(H) v ≈ Σ τ_i f(θ_i). Averaged over probes, the nodes and weights (each probe's weights sum
/// to 1, scaled by 1/probes) are a discrete measure that approximates the empirical eigenvalue
/// distribution (1/n) Σ δ(t − λ_j); broadened by a Gaussian of width σ it is the density
/// φ(t) = Σ w_i · N(t; θ_i, σ²), which integrates to 1. The trace estimate is n·Σ w_i θ_i.
public struct SpectralDensity: Sendable, Codable, Hashable {
  /// Quadrature nodes (Ritz values of every probe).
  public var nodes: [Double]
  /// Their weights, summing to 1.
  public var weights: [Double]
  public var probes: Int
  public var iterations: Int
  public var dimension: Int

  /// φ(t) with Gaussian broadening σ at each point of `grid`.
  public func density(at grid: [Double], sigma: Double) -> [Double] {
    precondition(sigma > 0, "the broadening must be positive")
    let c = 1 / (sigma * (2 * Double.pi).squareRoot())
    return grid.map { t in
      var s = 0.0
      for (x, w) in zip(nodes, weights) {
        let u = (t - x) / sigma
        s += w * c * exp(-0.5 * u * u)
      }
      return s
    }
  }

  /// The quadrature measure's mass at or below t (its cumulative distribution).
  public func cumulative(_ t: Double) -> Double { zip(nodes, weights).reduce(0) { $1.0 <= t ? $0 + $1.1 : $0 } }

  /// n·Σ wᵢθᵢ: the quadrature's estimate of the trace.
  public var trace: Double { Double(dimension) * zip(nodes, weights).reduce(0) { $0 + $1.0 * $1.1 } }
}

public func stochasticLanczosQuadrature(_ op: SymmetricOperator, probes: Int, iterations m: Int, seed: UInt64 = 0,
                                        progress: ((Int) -> Void)? = nil) throws -> SpectralDensity {
  precondition(probes >= 1 && m >= 1, "stochastic Lanczos quadrature needs at least one probe and one step")
  var nodes: [Double] = [], weights: [Double] = []
  var rng = SplitMix64(seed: seed)
  for p in 0..<probes {
    let run = try lanczosRecurrence(op, start: randomUnitVector(op.dimension, seed: rng.next()), steps: min(m, op.dimension))
    let t = run.alpha.count
    let (values, vectors) = try LAPACK.symmetricTridiagonalEigen(diagonal: run.alpha, offDiagonal: run.beta)
    for j in 0..<t {
      let s0 = vectors[j * t]
      nodes.append(values[j])
      weights.append(s0 * s0 / Double(probes))
    }
    progress?(p + 1)
  }
  return SpectralDensity(nodes: nodes, weights: weights, probes: probes, iterations: m, dimension: op.dimension)
}
