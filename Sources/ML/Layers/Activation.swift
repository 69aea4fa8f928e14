/// Element-wise activations.
public enum Activation: String, Sendable, CaseIterable {
  case relu, tanh, gelu, identity

  public func callAsFunction<S>(_ x: Variable<S>) -> Variable<S> {
    switch self {
    case .relu: return x.relu()
    case .tanh: return x.tanh()
    case .gelu: return ML.gelu(x)
    case .identity: return x
    }
  }
}

extension Activation: Layer {
  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> { self(x) }
}

/// GELU, exact form y = xΦ(x) = ½x(1 + erf(x/√2)) (Hendrycks & Gimpel 2016). A fused primitive:
/// y′ = Φ(x) + xφ(x) and, for the pullback's tangent, y″ = φ(x)(2 − x²).
public func gelu<S>(_ x: Variable<S>) -> Variable<S> {
  let input = x.value
  return Variable.record(input.gelu(), inputs: [x]) { g, _ in [Dual.geluPullback(input: input, cotangent: g)] }
}
