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

/// GELU, exact form x·Φ(x) = ½x(1 + erf(x/√2)) (Hendrycks & Gimpel 2016). Composed from
/// differentiable ops, so it is twice differentiable for free.
public func gelu<S>(_ x: Variable<S>) -> Variable<S> {
  let phi = x.affine(scale: S(1 / 2.0.squareRoot())).erf().affine(scale: 0.5, shift: 0.5)
  return x * phi
}
