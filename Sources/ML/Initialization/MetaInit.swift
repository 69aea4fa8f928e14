import Foundation

/// MetaInit (Dauphin & Schoenholz 2019): rescale each weight tensor of an initialization so that
/// one gradient step changes the gradient as little as possible, measured by the gradient
/// quotient on random inputs and labels,
///
///     GQ(θ) = (1/N) Σᵢ | (gᵢ − (Hg)ᵢ) / (gᵢ + ε·sᵢ) − 1 |,   sᵢ = sign gᵢ (+1 at 0), held fixed,
///
/// N the number of parameters (every tensor counts; only weight tensors, rank ≥ 2, are
/// rescaled). The scales move by sign-SGD with momentum on the norm of each weight tensor:
/// with dₖ = sign⟨wₖ/‖wₖ‖, ∇ₖGQ⟩, mₖ ← μ·mₖ − lr·dₖ and ‖wₖ‖ ← ‖wₖ‖ + mₖ (the authors' code).
///
/// ∇_θ GQ is third order. With qᵢ the quotient minus one, u = ∂GQ/∂(Hg) = −sign(qᵢ)/(N(gᵢ + εsᵢ))
/// and v = ∂GQ/∂g = sign(qᵢ)((Hg)ᵢ + εsᵢ)/(N(gᵢ + εsᵢ)²), the chain rule through g(θ) and
/// (Hg)(θ) = H(θ)g(θ) gives
///
///     ∇_θ GQ = H(v + Hu) + D³L[g, u, ·],
///
/// and the third-order term is the derivative of H(θ)u along g, taken by a central difference:
/// D³L[g, u, ·] ≈ (H(θ + hg)u − H(θ − hg)u)/(2h), h = `differenceStep`·‖θ‖/‖g‖ (error O(h²);
/// tested against differences of GQ itself). One step costs one gradient and five HVPs.
///
/// ε: the authors' code uses an absolute ε = 10⁻⁵, suited to networks of millions of
/// parameters whose gradient entries are of that order. On this package's small models the
/// entries are far larger, the quotient is dominated by the few entries nearest zero, and the
/// per-batch GQ is rough at the scale of one sign step (on a 3× tanh MLP 8-32-32-4 the
/// derivative of GQ along one layer's norm ranged from −7 000 to 27 700 over four batches, a
/// 0.1 % change of scale moving it by half) so sign-SGD random-walks: GQ rose from 7.0 to 13.1
/// in 60 steps. The default is therefore relative, ε = 0.1·rms(g) at each evaluation (held fixed
/// in the gradient, as sign g): on the same network GQ fell 1.9 → 1.2, on a 6-layer one at 2×
/// 12.0 → 0.47, and at 0.5× the early layers were scaled up (3.3×, 2.9×). `relativeEpsilon: nil`
/// gives the authors' absolute ε.
public struct MetaInit: Sendable {
  public var steps: Int
  /// Sign-SGD step on each weight tensor's norm, and its momentum.
  public var learningRate: Double
  public var momentum: Double
  /// ε of the quotient's denominator, absolute; or, with `relativeEpsilon`, that fraction of
  /// the gradient's root mean square at each evaluation (held fixed, as sign g).
  public var epsilon: Double
  public var relativeEpsilon: Double?
  /// The relative step of the central difference for the third-order term.
  public var differenceStep: Double
  /// A weight tensor's norm is kept at or above this fraction of its initial norm (the sign
  /// steps are of fixed size; without a floor a small tensor's norm could step through zero).
  public var minimumScale: Double

  /// The authors' settings (lr 0.1, momentum 0.9) with ε relative (above), `steps` steps.
  public init(steps: Int = 200, learningRate: Double = 0.1, momentum: Double = 0.9, epsilon: Double = 1e-5,
              relativeEpsilon: Double? = 0.1, differenceStep: Double = 1e-4, minimumScale: Double = 0.01) {
    self.steps = steps; self.learningRate = learningRate; self.momentum = momentum; self.epsilon = epsilon
    self.relativeEpsilon = relativeEpsilon
    self.differenceStep = differenceStep; self.minimumScale = minimumScale
  }

  /// ε for a gradient g.
  func epsilon(for g: [Double]) -> Double {
    guard let r = relativeEpsilon else { return epsilon }
    return r * FlatProducts<Double>.norm(g) / Double(max(g.count, 1)).squareRoot()
  }

  /// What a MetaInit run did.
  public struct Report: Sendable, Codable {
    /// GQ and the loss on each step's batch, before that step's update.
    public var gradientQuotients: [Double]
    public var losses: [Double]
    /// Final norm / initial norm of each weight tensor (1 for the tensors it does not rescale).
    public var scales: [Double]
  }

  /// GQ(θ) on `batch` and its gradient ∇_θ GQ (the derivation above; `thirdOrder: false` drops
  /// the D³L term, for the test that shows it matters).
  func quotientAndGradient<S>(_ f: FlatProducts<S>, _ theta: [Double], _ batch: Batch<S>, thirdOrder: Bool = true)
    -> (gq: Double, loss: Double, gradient: [Double])
  {
    let (loss, g) = f.gradient(theta, batch)
    let hg = f.hvp(theta, batch, g)
    let n = Double(g.count), eps = epsilon(for: g)
    var gq = 0.0
    var u = [Double](repeating: 0, count: g.count), v = u
    for i in g.indices {
      let s: Double = g[i] >= 0 ? 1 : -1
      let d = g[i] + eps * s
      let q = (g[i] - hg[i]) / d - 1
      gq += abs(q)
      let sq: Double = q > 0 ? 1 : (q < 0 ? -1 : 0)
      u[i] = -sq / (n * d)
      v[i] = sq * (hg[i] + eps * s) / (n * d * d)
    }
    let hu = f.hvp(theta, batch, u)
    var grad = f.hvp(theta, batch, zip(v, hu).map { $0 + $1 })
    let gn = FlatProducts<S>.norm(g)
    if thirdOrder, gn > 0 {
      let h = differenceStep * Swift.max(FlatProducts<S>.norm(theta), 1) / gn
      let plus = f.hvp(zip(theta, g).map { $0 + h * $1 }, batch, u)
      let minus = f.hvp(zip(theta, g).map { $0 - h * $1 }, batch, u)
      for i in grad.indices { grad[i] += (plus[i] - minus[i]) / (2 * h) }
    }
    return (gq / n, loss, grad)
  }

  /// GQ(θ) on `batch` alone (one gradient and one HVP).
  public func gradientQuotient<S>(network: Network, parameters: [Tensor<S>], batch: Batch<S>) -> Double {
    let f = FlatProducts<S>(network: network, shapes: parameters.map(\.shape))
    let theta = FlatVector.flatten(parameters)
    let (_, g) = f.gradient(theta, batch)
    let hg = f.hvp(theta, batch, g)
    let eps = epsilon(for: g)
    var gq = 0.0
    for i in g.indices {
      let d = g[i] + eps * (g[i] >= 0 ? 1 : -1)
      gq += abs((g[i] - hg[i]) / d - 1)
    }
    return gq / Double(g.count)
  }

  /// Rescales the weight tensors of `parameters`, drawing step k's batch from `batch(k)` (the
  /// method's random inputs and labels). `progress(k, GQ)` after each step; `observe(k, θ)` with
  /// the parameters before step k and, as k = steps, the result.
  public func run<S>(network: Network, parameters: [Tensor<S>], batch: (Int) -> Batch<S>,
                     progress: ((Int, Double) -> Void)? = nil, observe: ((Int, [Tensor<S>]) -> Void)? = nil)
    -> (parameters: [Tensor<S>], report: Report)
  {
    let f = FlatProducts<S>(network: network, shapes: parameters.map(\.shape))
    var theta = FlatVector.flatten(parameters)
    let ranges = f.ranges
    let weights = parameters.indices.filter { parameters[$0].shape.count >= 2 }
    let initialNorms = ranges.map { FlatProducts<S>.norm(theta[$0]) }
    var memory = [Double](repeating: 0, count: ranges.count)
    var report = Report(gradientQuotients: [], losses: [], scales: [])
    for k in 0..<steps {
      observe?(k, f.tensors(theta))
      let b = batch(k)
      let (gq, loss, grad) = quotientAndGradient(f, theta, b)
      report.gradientQuotients.append(gq)
      report.losses.append(loss)
      for j in weights where initialNorms[j] > 0 {
        let r = ranges[j]
        let current = FlatProducts<S>.norm(theta[r])
        let along = FlatProducts<S>.dot(theta[r], grad[r]) / current
        memory[j] = momentum * memory[j] - learningRate * (along > 0 ? 1 : (along < 0 ? -1 : 0))
        let target = Swift.max(current + memory[j], minimumScale * initialNorms[j])
        for i in r { theta[i] *= target / current }
      }
      progress?(k, gq)
    }
    report.scales = ranges.indices.map { initialNorms[$0] > 0 ? FlatProducts<S>.norm(theta[ranges[$0]]) / initialNorms[$0] : 1 }
    observe?(steps, f.tensors(theta))
    return (f.tensors(theta), report)
  }
}
