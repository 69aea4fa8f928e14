import Foundation

/// GradInit (Zhu et al. 2021): learn one scale αₖ per parameter tensor, θ = α ⊙ θ₀, so that
/// the loss after one (normalized) SGD step is as low as possible while the gradient norm stays
/// bounded. Each iteration draws a batch S and a fresh batch S̃, g = ∇L(S; θ):
///
/// - if ‖g‖ > γ (the constraint is violated), it lowers ‖g‖: ∇_θ‖g‖ = Hg/‖g‖ (one HVP);
/// - else it lowers J(θ) = L(S̃; θ′)/η with θ′ = θ − η·g/‖g‖. Through g(θ),
///   ∂θ′/∂θ = I − (η/‖g‖)(I − ĝĝᵀ)H, so with r = ∇L(S̃; θ′)
///
///       ∇_θ J = (r − (η/‖g‖)·H(r − ĝ(ĝ·r)))/η      (one HVP at θ on S).
///
///   (`secondOrder: false` drops the HVP term, as the authors' code does by detaching g.)
///
/// ∂/∂αₖ = ⟨θ₀ₖ, ∇ₖ⟩, clipped to ±`gradientClip`; Adam on each αₖ (separate moments for the
/// constraint steps and the objective steps, as the authors' RescaleAdam), floored at
/// `minimumScale` for weights and at 0 for biases; tensors that start at zero (biases) have no
/// scale to learn and stay as they are. Defaults: the authors' DenseNet-100 settings (η 0.1,
/// γ 1, lr 5·10⁻³, floor 0.01, clip 1).
public struct GradInit: Sendable {
  public var steps: Int
  /// η of the inner SGD step (on the normalized gradient).
  public var innerLearningRate: Double
  /// γ, the bound on ‖g‖.
  public var gradientNormBound: Double
  /// Adam's step on the scales.
  public var learningRate: Double
  public var minimumScale: Double
  public var gradientClip: Double
  public var secondOrder: Bool

  public init(steps: Int = 200, innerLearningRate: Double = 0.1, gradientNormBound: Double = 1, learningRate: Double = 5e-3,
              minimumScale: Double = 0.01, gradientClip: Double = 1, secondOrder: Bool = true) {
    self.steps = steps; self.innerLearningRate = innerLearningRate; self.gradientNormBound = gradientNormBound
    self.learningRate = learningRate; self.minimumScale = minimumScale; self.gradientClip = gradientClip
    self.secondOrder = secondOrder
  }

  public struct Report: Sendable, Codable {
    /// Per iteration: ‖g‖ on S, whether it was a constraint step, and L(S̃; θ′) (nil on constraint steps).
    public var gradientNorms: [Double]
    public var constraintSteps: [Bool]
    public var updatedLosses: [Double?]
    /// The learned αₖ (1 for tensors that start at zero).
    public var scales: [Double]
  }

  /// J(θ) = L(S̃; θ − η ĝ)/η and ∇_θ J (the derivation above), and ‖g‖.
  func objectiveAndGradient<S>(_ f: FlatProducts<S>, _ theta: [Double], _ s: Batch<S>, _ sTilde: Batch<S>, gradient known: [Double]? = nil)
    -> (j: Double, gradientNorm: Double, gradient: [Double])
  {
    let eta = innerLearningRate
    let g = known ?? f.gradient(theta, s).gradient
    let gn = FlatProducts<S>.norm(g)
    let step = gn > 0 ? g.map { eta * $0 / gn } : g.map { _ in 0 }
    let moved = zip(theta, step).map { $0 - $1 }
    let (l1, r) = f.gradient(moved, sTilde)
    var grad = r.map { $0 / eta }
    if secondOrder, gn > 0 {
      let along = FlatProducts<S>.dot(g, r) / (gn * gn)
      let hv = f.hvp(theta, s, zip(r, g).map { $0 - along * $1 })
      for i in grad.indices { grad[i] -= hv[i] / gn }
    }
    return (l1 / eta, gn, grad)
  }

  /// Learns the scales of `parameters` (the initialization θ₀), drawing iteration k's S and S̃
  /// from `batch(2k)` and `batch(2k + 1)`. `progress(k, ‖g‖)` after each iteration; `observe(k, θ)`
  /// with the parameters before iteration k and, as k = steps, the result.
  public func run<S>(network: Network, parameters: [Tensor<S>], batch: (Int) -> Batch<S>,
                     progress: ((Int, Double) -> Void)? = nil, observe: ((Int, [Tensor<S>]) -> Void)? = nil)
    -> (parameters: [Tensor<S>], report: Report)
  {
    let f = FlatProducts<S>(network: network, shapes: parameters.map(\.shape))
    let theta0 = FlatVector.flatten(parameters)
    let ranges = f.ranges
    let learnable = ranges.indices.filter { FlatProducts<S>.norm(theta0[ranges[$0]]) > 0 }
    let floors = network.parameterSpecs.map { $0.name.hasSuffix("bias") ? 0 : minimumScale }
    var alpha = [Double](repeating: 1, count: ranges.count)
    var adam = (objective: ScalarAdam(count: ranges.count), constraint: ScalarAdam(count: ranges.count))
    var report = Report(gradientNorms: [], constraintSteps: [], updatedLosses: [], scales: [])
    func scaled() -> [Double] {
      var t = theta0
      for k in ranges.indices { for i in ranges[k] { t[i] *= alpha[k] } }
      return t
    }
    for k in 0..<steps {
      let theta = scaled(), s = batch(2 * k)
      observe?(k, f.tensors(theta))
      let (_, g) = f.gradient(theta, s)
      let gn = FlatProducts<S>.norm(g)
      let constraint = gn > gradientNormBound
      var grad: [Double]
      if constraint {
        grad = f.hvp(theta, s, g).map { $0 / gn }
        report.updatedLosses.append(nil)
      } else {
        let r = objectiveAndGradient(f, theta, s, batch(2 * k + 1), gradient: g)
        grad = r.gradient
        report.updatedLosses.append(r.j * innerLearningRate)
      }
      report.gradientNorms.append(gn)
      report.constraintSteps.append(constraint)
      var da = [Double](repeating: 0, count: ranges.count)
      for j in learnable {
        da[j] = Swift.min(Swift.max(FlatProducts<S>.dot(theta0[ranges[j]], grad[ranges[j]]), -gradientClip), gradientClip)
      }
      let delta = constraint ? adam.constraint.step(da) : adam.objective.step(da)
      for j in learnable { alpha[j] = Swift.max(alpha[j] - learningRate * delta[j], floors[j]) }
      progress?(k, gn)
    }
    report.scales = alpha
    observe?(steps, f.tensors(scaled()))
    return (f.tensors(scaled()), report)
  }
}

/// Adam's direction m̂/(√v̂ + ε) for a vector of scalars (the scales' optimizer).
struct ScalarAdam {
  var m: [Double], v: [Double], t = 0
  let beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8
  init(count: Int) { m = Array(repeating: 0, count: count); v = m }
  mutating func step(_ g: [Double]) -> [Double] {
    t += 1
    let c1 = 1 - pow(beta1, Double(t)), c2 = 1 - pow(beta2, Double(t))
    return g.indices.map { i in
      m[i] = beta1 * m[i] + (1 - beta1) * g[i]
      v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
      return (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
    }
  }
}
