/// Whether a forward pass trains (BatchNorm uses batch statistics, dropout is on) or evaluates.
public enum ForwardMode: Sendable {
  /// Training step: batch statistics, running statistics updated, dropout on.
  case training
  /// Curvature measurement: batch statistics (as the paper's code did), running statistics
  /// left alone, dropout off, so the Hessian is that of a deterministic function.
  case curvature
  /// Evaluation: running statistics, dropout off.
  case evaluation
}

/// The state a forward pass reads and writes: parameter variables, mode, dropout randomness and
/// the BatchNorm running statistics.
public final class ForwardContext<S: TensorScalar> {
  public let parameters: [Variable<S>]
  public let mode: ForwardMode
  /// Running statistics; updated in place during `.training`.
  public var buffers: [Tensor<S>]
  public var rng: SplitMix64

  public init(parameters: [Variable<S>], buffers: [Tensor<S>], mode: ForwardMode, rng: SplitMix64 = SplitMix64(seed: 0)) {
    self.parameters = parameters
    self.buffers = buffers
    self.mode = mode
    self.rng = rng
  }

  @inlinable public subscript(_ ref: ParameterRef) -> Variable<S> { parameters[ref.index] }
}

/// Something callable with parameters it lists explicitly (through the registry it was built
/// with).
public protocol Layer: Sendable {
  func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S>
}

/// Layers applied in order.
public struct Sequential: Layer {
  public var layers: [any Layer]
  public init(_ layers: [any Layer]) { self.layers = layers }
  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    layers.reduce(x) { h, layer in layer(h, ctx) }
  }
}
