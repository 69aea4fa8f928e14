/// y = x·W + b, with W of shape [in, out] (so a checkpoint's `weight` is [in, out]).
public struct Dense: Layer {
  public let weight: ParameterRef
  public let bias: ParameterRef?

  public init(
    _ inputs: Int, _ outputs: Int, name: String, registry: inout ParameterRegistry,
    initializer: Initializer = .lecunNormal, bias: Bool = true
  ) {
    weight = registry.add(ParameterSpec(name: "\(name).weight", shape: [inputs, outputs], initializer: initializer))
    self.bias = bias ? registry.add(ParameterSpec(name: "\(name).bias", shape: [outputs], initializer: .zeros)) : nil
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    let y = Variable.matmul(x, ctx[weight])
    guard let bias else { return y }
    return y + ctx[bias]
  }
}
