/// Which normalization a model family puts in the places its blueprint has one. The paper
/// compares each family with and without it (WRN ± BN, DenseNet ± BN, Transformer LN
/// placements); the convolutional families take `.batchNorm` or `.none`, the residual MLP all
/// three.
public enum NormalizationKind: String, Sendable, CaseIterable {
  /// The paper's "No BN" variants: the normalization layers are removed and nothing else.
  case none
  case batchNorm
  /// Over the last (feature) axis.
  case layerNorm
}

/// One normalization place of a model: BatchNorm, LayerNorm, or the identity for `.none`.
/// Registers `{name}.scale|bias` [width] (and BatchNorm's running-statistics buffers) unless
/// `.none`.
struct NormalizationSlot: Sendable {
  let batchNorm: BatchNorm?
  let layerNorm: LayerNorm?

  init(_ kind: NormalizationKind, width: Int, name: String, registry: inout ParameterRegistry) {
    batchNorm = kind == .batchNorm ? BatchNorm(width, name: name, registry: &registry) : nil
    layerNorm = kind == .layerNorm ? LayerNorm(width, name: name, registry: &registry) : nil
  }

  func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    if let batchNorm { return batchNorm(x, ctx) }
    if let layerNorm { return layerNorm(x, ctx) }
    return x
  }
}
