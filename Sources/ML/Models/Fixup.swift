import Foundation

/// Fixup initialization (Zhang, Dauphin & Ma 2019), which trains residual networks without
/// normalization at large learning rates:
/// 1. the classification layer and the last layer of every residual branch start at 0, so each
///    branch starts as the zero function and the network as its skip path;
/// 2. the other branch layers get He-normal weights rescaled by L^(−1/(2m−2)), with L residual
///    branches of m layers each (m = 2: L^(−1/2); m = 3: L^(−1/4)), which keeps the update of
///    the whole network Θ(η) however deep it is;
/// 3. a scalar bias (0) before each convolution, dense layer and activation of a branch, and a
///    scalar multiplier (1) on each branch's output.
/// The residual families take it as an option (`fixup: true`, normalization `.none`).
public enum Fixup {
  /// L^(−1/(2m−2)).
  public static func branchScale(branches: Int, layersPerBranch m: Int) -> Double {
    precondition(branches > 0, "Fixup needs at least one residual branch")
    precondition(m >= 2, "Fixup needs at least two layers per branch, got \(m)")
    return pow(Double(branches), -1 / Double(2 * m - 2))
  }

  /// He normal, N(0, 2/fan_in), times L^(−1/(2m−2)): a branch layer before the last.
  public static func branchInitializer(fanIn: Int, branches: Int, layersPerBranch m: Int) -> Initializer {
    precondition(fanIn > 0, "Fixup: fan-in must be positive")
    return .normal(std: (2 / Double(fanIn)).squareRoot() * branchScale(branches: branches, layersPerBranch: m))
  }
}

/// x + b with one learned scalar b: parameter `{name}` [1], zeros (a Fixup bias).
public struct ScalarBias: Layer {
  public let bias: ParameterRef
  public init(name: String, registry: inout ParameterRegistry) {
    bias = registry.add(ParameterSpec(name: name, shape: [1], initializer: .zeros))
  }
  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> { x + ctx[bias] }
}

/// s·x with one learned scalar s: parameter `{name}` [1], ones (a Fixup multiplier).
public struct ScalarMultiplier: Layer {
  public let scale: ParameterRef
  public init(name: String, registry: inout ParameterRegistry) {
    scale = registry.add(ParameterSpec(name: name, shape: [1], initializer: .constant(1)))
  }
  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> { x * ctx[scale] }
}

/// An optional scalar bias: the identity when absent (a model without Fixup).
extension Optional where Wrapped == ScalarBias {
  func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> { map { $0(x, ctx) } ?? x }
}
