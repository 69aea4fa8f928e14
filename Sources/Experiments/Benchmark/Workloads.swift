import ML

/// A benchmark workload: a network on a random batch, as in the reference measurements taken
/// for JAX and PyTorch on this machine class (float32, LeCun-normal weights, random inputs).
public struct Workload: Sendable {
  public var id: String
  public var summary: String
  public var network: Network
  public var batch: Batch<Float>
  /// Best of JAX (jit) and PyTorch (eager) medians on 2 cores, milliseconds: gradient, HVP,
  /// 20 Lanczos iterations (from the numeric-core issue).
  public var reference: (gradient: Double, hvp: Double, lanczos20: Double)

  /// W1: MLP 784-512-512-10, tanh, softmax cross-entropy, batch 128.
  public static func w1(seed: UInt64 = 1) -> Workload {
    var rng = SplitMix64(seed: seed)
    let x = Tensor<Float>(shape: [128, 784], scalars: (0..<(128 * 784)).map { _ in Float(rng.nextNormal()) })
    let y = (0..<128).map { _ in Int(rng.next() % 10) }
    return Workload(
      id: "W1", summary: "MLP 784-512-512-10 tanh, batch 128",
      network: Network(build: { MLP(widths: [784, 512, 512, 10], activation: .tanh, registry: &$0) }),
      batch: Batch(inputs: x, labels: y), reference: (3.3, 6.5, 406))
  }

  public static func all() -> [Workload] { [w1()] }
}
