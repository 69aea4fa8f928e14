/// Inverted dropout (Srivastava et al. 2014): in `.training`, y = x·m/(1 − p) with
/// m ~ Bernoulli(1 − p) drawn from `ctx.rng`, so E[y] = x; identity in every other mode, which
/// keeps `.curvature` deterministic. The mask is a constant, so derivatives are exact.
public struct Dropout: Layer {
  public let rate: Double

  public init(rate: Double) {
    precondition(rate >= 0 && rate < 1, "dropout rate must be in [0, 1), got \(rate)")
    self.rate = rate
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    guard ctx.mode == .training, rate > 0 else { return x }
    return x.multiplied(byConstant: dropoutMask(shape: x.shape, rate: rate, rng: &ctx.rng))
  }
}

/// A mask of 0 (probability p) and 1/(1 − p) entries.
func dropoutMask<S: TensorScalar>(shape: [Int], rate: Double, rng: inout SplitMix64) -> Tensor<S> {
  let keep = 1 / S(1 - rate)
  return Tensor(shape: shape) { out in
    for i in 0..<out.count { out[i] = rng.nextUniform() < rate ? 0 : keep }
  }
}
