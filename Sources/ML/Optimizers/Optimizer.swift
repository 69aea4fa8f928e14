/// Updates parameters from their gradients. Stateful (momentum buffers, moment estimates), so
/// `step` is mutating; the state is allocated on the first step.
public protocol Optimizer: Sendable {
  associatedtype Scalar: TensorScalar
  mutating func step(parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>], learningRate: Double)
}

/// Which optimizer a run uses; `makeOptimizer` builds it.
public enum OptimizerKind: Sendable, Hashable, Codable {
  /// Plain, heavy-ball (β > 0) or Nesterov SGD; see `SGD`.
  case sgd(momentum: Double, nesterov: Bool, weightDecay: Double)
  case adam(beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double)

  public static let plainSGD = OptimizerKind.sgd(momentum: 0, nesterov: false, weightDecay: 0)
  public static func heavyBall(_ beta: Double) -> OptimizerKind { .sgd(momentum: beta, nesterov: false, weightDecay: 0) }
  public static func nesterov(_ beta: Double) -> OptimizerKind { .sgd(momentum: beta, nesterov: true, weightDecay: 0) }
  public static let defaultAdam = OptimizerKind.adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0)

  /// The quadratic-model stability threshold on λ1 (the sharpness above which a quadratic with
  /// that curvature diverges): 2/η for SGD; (2 + 2β)/η for heavy-ball momentum β (Cohen et al.
  /// 2021, App. B); (2 + 2β)/((1 + 2β)η) for Nesterov momentum in this update's form (the Jury
  /// conditions of its 2×2 iteration on λx²/2: 1 + trace + det > 0 fails first, at
  /// ηλ = (2 + 2β)/(1 + 2β)); for Adam on the preconditioned sharpness,
  /// (2 + 2β1)/((1 − β1)η), which is 38/η at β1 = 0.9 (Cohen et al. 2022).
  public func stabilityThreshold(learningRate eta: Double) -> Double {
    switch self {
    case .sgd(let beta, let nesterov, _): return (2 + 2 * beta) / ((nesterov ? 1 + 2 * beta : 1) * eta)
    case .adam(let b1, _, _, _): return (2 + 2 * b1) / ((1 - b1) * eta)
    }
  }
}

/// SGD with optional heavy-ball or Nesterov momentum and (coupled) weight decay:
///   g ← ∇L + wd·θ;  v ← β·v + g;  θ ← θ − η·v            (heavy ball)
///                                 θ ← θ − η·(g + β·v)      (Nesterov, as in PyTorch and optax)
/// β = 0 is plain gradient descent.
public struct SGD<Scalar: TensorScalar>: Optimizer {
  public var momentum: Double
  public var nesterov: Bool
  public var weightDecay: Double
  public private(set) var velocity: [Tensor<Scalar>] = []

  public init(momentum: Double = 0, nesterov: Bool = false, weightDecay: Double = 0) {
    precondition(momentum >= 0 && momentum < 1, "momentum must be in [0, 1)")
    precondition(!nesterov || momentum > 0, "Nesterov needs momentum > 0")
    precondition(weightDecay >= 0, "weight decay must be non-negative")
    self.momentum = momentum
    self.nesterov = nesterov
    self.weightDecay = weightDecay
  }

  public mutating func step(parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>], learningRate: Double) {
    precondition(parameters.count == gradients.count, "\(gradients.count) gradients for \(parameters.count) parameters")
    if momentum > 0 && velocity.isEmpty { velocity = parameters.map { Tensor(zeros: $0.shape) } }
    let eta = Scalar(learningRate), beta = Scalar(momentum), wd = Scalar(weightDecay)
    for k in parameters.indices {
      precondition(parameters[k].shape == gradients[k].shape, "gradient \(k) has the wrong shape")
      gradients[k].withUnsafeBufferPointer { g in
        parameters[k].withUnsafeMutableBufferPointer { p in
          if momentum == 0 {
            for i in 0..<p.count { p[i] -= eta * (g[i] + wd * p[i]) }
            return
          }
          velocity[k].withUnsafeMutableBufferPointer { v in
            for i in 0..<p.count {
              let gi = g[i] + wd * p[i]
              v[i] = beta * v[i] + gi
              p[i] -= eta * (nesterov ? gi + beta * v[i] : v[i])
            }
          }
        }
      }
    }
  }
}

/// Adam (Kingma & Ba 2015) with bias correction and coupled weight decay:
///   m ← β1·m + (1−β1)·g;  v ← β2·v + (1−β2)·g²;  m̂ = m/(1−β1ᵗ);  v̂ = v/(1−β2ᵗ)
///   θ ← θ − η·m̂/D,  D = √v̂ + ε.
/// `preconditioner()` exposes D so the curvature code can measure λmax(D^-1/2 H D^-1/2).
public struct Adam<Scalar: TensorScalar>: Optimizer {
  public var beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double
  public private(set) var firstMoment: [Tensor<Scalar>] = []
  public private(set) var secondMoment: [Tensor<Scalar>] = []
  public private(set) var stepCount = 0

  public init(beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0) {
    precondition((0..<1).contains(beta1) && (0..<1).contains(beta2), "Adam betas must be in [0, 1)")
    precondition(epsilon > 0, "Adam epsilon must be positive")
    self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
  }

  public mutating func step(parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>], learningRate: Double) {
    precondition(parameters.count == gradients.count, "\(gradients.count) gradients for \(parameters.count) parameters")
    if firstMoment.isEmpty {
      firstMoment = parameters.map { Tensor(zeros: $0.shape) }
      secondMoment = firstMoment
    }
    stepCount += 1
    let b1 = Scalar(beta1), b2 = Scalar(beta2), eps = Scalar(epsilon), wd = Scalar(weightDecay)
    let c1 = Scalar(1 - Foundation.pow(beta1, Double(stepCount)))
    let c2 = Scalar(1 - Foundation.pow(beta2, Double(stepCount)))
    let eta = Scalar(learningRate)
    for k in parameters.indices {
      gradients[k].withUnsafeBufferPointer { g in
        parameters[k].withUnsafeMutableBufferPointer { p in
          firstMoment[k].withUnsafeMutableBufferPointer { m in
            secondMoment[k].withUnsafeMutableBufferPointer { v in
              for i in 0..<p.count {
                let gi = g[i] + wd * p[i]
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi * gi
                p[i] -= eta * (m[i] / c1) / ((v[i] / c2).squareRoot() + eps)
              }
            }
          }
        }
      }
    }
  }

  /// D = √v̂ + ε per parameter (ones before the first step, where Adam has no preconditioner yet).
  /// A coordinate that has never had a nonzero gradient (v = 0: the embedding row of a token no
  /// batch has contained yet) gets D = +∞, which projects it out of D^-1/2·H·D^-1/2: Adam's first
  /// step on it will be m̂/√v̂ = ±1 times η, not g/ε, so D = ε would put a spurious η/ε-scale
  /// curvature there (10²–10⁴ × 38/η on a character LM's first steps) that no update ever sees.
  public func preconditioner(shapes: [[Int]]) -> [Tensor<Scalar>] {
    guard stepCount > 0 else { return shapes.map { Tensor(repeating: 1, shape: $0) } }
    return Self.preconditioner(secondMoment: secondMoment, step: stepCount, beta2: beta2, epsilon: epsilon)
  }

  /// D = √(v/(1 − β2ᵗ)) + ε from a second moment v after `step` ≥ 1 steps, +∞ where v = 0 (see
  /// `preconditioner(shapes:)`): also for a state saved by another program (`AdamState`).
  public static func preconditioner(secondMoment: [Tensor<Scalar>], step: Int, beta2: Double, epsilon: Double) -> [Tensor<Scalar>] {
    precondition(step >= 1, "Adam's preconditioner needs at least one step")
    let c2 = Scalar(1 - Foundation.pow(beta2, Double(step))), eps = Scalar(epsilon)
    return secondMoment.map { v in
      Tensor(shape: v.shape) { d in
        v.withUnsafeBufferPointer { v in
          for i in 0..<v.count { d[i] = v[i] > 0 ? (v[i] / c2).squareRoot() + eps : .infinity }
        }
      }
    }
  }
}

/// An optimizer of either kind behind one concrete type, for training loops configured by data.
public struct AnyOptimizer<Scalar: TensorScalar>: Optimizer {
  public enum Storage: Sendable { case sgd(SGD<Scalar>), adam(Adam<Scalar>) }
  public private(set) var storage: Storage
  public let kind: OptimizerKind

  public init(_ kind: OptimizerKind) {
    self.kind = kind
    switch kind {
    case .sgd(let m, let n, let wd): storage = .sgd(SGD(momentum: m, nesterov: n, weightDecay: wd))
    case .adam(let b1, let b2, let e, let wd): storage = .adam(Adam(beta1: b1, beta2: b2, epsilon: e, weightDecay: wd))
    }
  }

  public mutating func step(parameters: inout [Tensor<Scalar>], gradients: [Tensor<Scalar>], learningRate: Double) {
    switch storage {
    case .sgd(var o): o.step(parameters: &parameters, gradients: gradients, learningRate: learningRate); storage = .sgd(o)
    case .adam(var o): o.step(parameters: &parameters, gradients: gradients, learningRate: learningRate); storage = .adam(o)
    }
  }

  /// Adam's preconditioner D, or nil for SGD.
  public func preconditioner(shapes: [[Int]]) -> [Tensor<Scalar>]? {
    if case .adam(let o) = storage { return o.preconditioner(shapes: shapes) }
    return nil
  }
}

import Foundation
