/// Batch normalization over every axis but the last (channel) one (Ioffe & Szegedy 2015):
/// μ = mean(x), σ² = mean((x − μ)²) over the M = count/C positions of each channel, and
/// y = (x − μ)·γ/√(σ² + ε) + β.
///
/// In `.training` and `.curvature` one fused primitive (`Variable.batchNormalized`) whose
/// gradient and HVP (including the coupling through the batch statistics) are exact; the same
/// maths composed from basic differentiable ops is `BatchNorm.composed`, the tests' reference.
/// Modes: `.training` uses batch statistics and updates the running ones by EMA,
/// r ← m·r + (1 − m)·batch with m = 0.9 (σ² is the biased batch variance, as in Flax);
/// `.curvature` uses batch statistics and leaves the running ones alone; `.evaluation` uses the
/// running statistics as constants.
/// Parameters `{name}.scale` [C] (ones), `{name}.bias` [C] (zeros); buffers
/// `{name}.running_mean` [C] (zeros), `{name}.running_var` [C] (ones).
public struct BatchNorm: Layer {
  public let channels: Int
  public let epsilon: Double
  public let momentum: Double
  public let scale: ParameterRef, bias: ParameterRef
  public let runningMean: ParameterRef, runningVar: ParameterRef

  public init(_ channels: Int, name: String, registry: inout ParameterRegistry,
              epsilon: Double = 1e-5, momentum: Double = 0.9) {
    precondition(channels > 0, "BatchNorm needs a positive channel count")
    precondition(epsilon > 0, "BatchNorm ε must be positive")
    precondition(momentum >= 0 && momentum <= 1, "BatchNorm momentum must be in [0, 1]")
    self.channels = channels
    self.epsilon = epsilon
    self.momentum = momentum
    scale = registry.add(ParameterSpec(name: "\(name).scale", shape: [channels], initializer: .ones))
    bias = registry.add(ParameterSpec(name: "\(name).bias", shape: [channels], initializer: .zeros))
    runningMean = registry.addBuffer(ParameterSpec(name: "\(name).running_mean", shape: [channels], initializer: .zeros))
    runningVar = registry.addBuffer(ParameterSpec(name: "\(name).running_var", shape: [channels], initializer: .ones))
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    precondition(x.rank >= 2 && x.shape[x.rank - 1] == channels,
                 "BatchNorm(\(channels)) got input \(x.shape)")
    if ctx.mode == .evaluation {
      let inv = ctx.buffers[runningVar.index].affine(scale: 1, shift: S(epsilon)).applying(.rsqrt)
      let centered = x - Variable(constant: ctx.buffers[runningMean.index])
      return centered * (Variable(constant: inv) * ctx[scale]) + ctx[bias]
    }
    precondition(x.primal.count > 0, "BatchNorm on an empty batch")
    let (y, mean, variance) = x.batchNormalized(scale: ctx[scale], bias: ctx[bias], epsilon: S(epsilon))
    if ctx.mode == .training {
      let mu = S(momentum)
      ctx.buffers[runningMean.index] =
        ctx.buffers[runningMean.index].affine(scale: mu) + mean.affine(scale: 1 - mu)
      ctx.buffers[runningVar.index] =
        ctx.buffers[runningVar.index].affine(scale: mu) + variance.affine(scale: 1 - mu)
    }
    return y
  }

  /// Batch-statistics normalization composed from basic differentiable ops (about ten
  /// element-wise passes forward, twenty back): the reference the fused
  /// `Variable.batchNormalized` is tested against. Returns y, the batch mean and variance.
  static func composed<S>(_ x: Variable<S>, scale gamma: Variable<S>, bias beta: Variable<S>, epsilon: S)
    -> (output: Variable<S>, mean: Tensor<S>, variance: Tensor<S>)
  {
    let c = [x.shape[x.rank - 1]]
    let m = S(x.primal.count / c[0])
    let mean = x.sum(toShape: c).affine(scale: 1 / m)
    let centered = x - mean
    let variance = centered.square().sum(toShape: c).affine(scale: 1 / m)
    let inv = variance.affine(scale: 1, shift: epsilon).rsqrt()
    // Scale the [C] factor first: one big multiply instead of two.
    return (centered * (inv * gamma) + beta, mean.primal, variance.primal)
  }
}

/// Layer normalization over the last axis (Ba et al. 2016): per row, μ = mean(x),
/// σ² = mean((x − μ)²), y = (x − μ)/√(σ² + ε)·γ + β. Same in every mode. One fused primitive
/// (`Variable.layerNormalized`), tested against the composed ops.
/// Parameters `{name}.scale` [D] (ones), `{name}.bias` [D] (zeros).
public struct LayerNorm: Layer {
  public let width: Int
  public let epsilon: Double
  public let scale: ParameterRef, bias: ParameterRef

  public init(_ width: Int, name: String, registry: inout ParameterRegistry, epsilon: Double = 1e-5) {
    precondition(width > 0, "LayerNorm needs a positive width")
    precondition(epsilon > 0, "LayerNorm ε must be positive")
    self.width = width
    self.epsilon = epsilon
    scale = registry.add(ParameterSpec(name: "\(name).scale", shape: [width], initializer: .ones))
    bias = registry.add(ParameterSpec(name: "\(name).bias", shape: [width], initializer: .zeros))
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    precondition(x.rank >= 1 && x.shape[x.rank - 1] == width, "LayerNorm(\(width)) got input \(x.shape)")
    return x.layerNormalized(scale: ctx[scale], bias: ctx[bias], epsilon: S(epsilon))
  }
}
