/// x + f(x) (He et al. 2016): the skip connection of ResNets and transformers.
public func residual<S>(_ x: Variable<S>, _ f: (Variable<S>) -> Variable<S>) -> Variable<S> {
  let y = f(x)
  precondition(y.shape == x.shape, "residual branch changed the shape \(x.shape) → \(y.shape)")
  return x + y
}

/// A layer wrapped in a skip connection, y = x + body(x).
public struct Residual: Layer {
  public let body: any Layer
  public init(_ body: any Layer) { self.body = body }
  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    residual(x) { body($0, ctx) }
  }
}
