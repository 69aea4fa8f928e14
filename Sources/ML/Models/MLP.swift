/// A fully connected network: Dense → activation → … → Dense (no activation on the logits).
/// Checkpoint names: `layers.{i}.weight` [in, out] and `layers.{i}.bias` [out].
public struct MLP: Layer {
  public let widths: [Int]
  public let activation: Activation
  let layers: [Dense]

  public init(widths: [Int], activation: Activation, registry: inout ParameterRegistry,
              initializer: Initializer = .lecunNormal) {
    precondition(widths.count >= 2, "an MLP needs at least input and output widths")
    precondition(widths.allSatisfy { $0 > 0 }, "MLP widths must be positive")
    self.widths = widths
    self.activation = activation
    registry.noteOneRowPerExample()
    var layers: [Dense] = []
    for i in 0..<(widths.count - 1) {
      layers.append(Dense(widths[i], widths[i + 1], name: "layers.\(i)", registry: &registry, initializer: initializer))
    }
    self.layers = layers
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    var h = x.rank == 2 ? x : x.reshaped([x.shape[0], -1])
    for (i, layer) in layers.enumerated() {
      h = layer(h, ctx)
      if i < layers.count - 1 { h = activation(h) }
    }
    return h
  }
}
