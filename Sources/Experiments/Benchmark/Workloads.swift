import ML

/// A benchmark workload: a network on a random batch (float32, LeCun-normal weights, random
/// inputs), with the same shapes as its JAX and PyTorch peers in bench/peers/ (W1–W3).
public struct Workload: Sendable {
  public var id: String
  public var summary: String
  public var network: Network
  public var batch: Batch<Float>

  /// W1: MLP 784-512-512-10, tanh, softmax cross-entropy, batch 128.
  public static func w1(seed: UInt64 = 1) -> Workload {
    var rng = SplitMix64(seed: seed)
    let x = Tensor<Float>(shape: [128, 784], scalars: (0..<(128 * 784)).map { _ in Float(rng.nextNormal()) })
    let y = (0..<128).map { _ in Int(rng.next() % 10) }
    return Workload(
      id: "W1", summary: "MLP 784-512-512-10 tanh, batch 128",
      network: Network(build: { MLP(widths: [784, 512, 512, 10], activation: .tanh, registry: &$0) }),
      batch: Batch(inputs: x, labels: y))
  }

  /// W2: CNN on 28×28×1, conv 3×3 16 → ReLU → conv 3×3 32 stride 2 → ReLU → conv 3×3 64
  /// stride 2 → ReLU → global average pool → dense 10, SAME padding, batch 128.
  public static func w2(seed: UInt64 = 2) -> Workload {
    var rng = SplitMix64(seed: seed)
    let x = Tensor<Float>(shape: [128, 28, 28, 1], scalars: (0..<(128 * 784)).map { _ in Float(rng.nextNormal()) })
    let y = (0..<128).map { _ in Int(rng.next() % 10) }
    return Workload(
      id: "W2", summary: "CNN 16-32-64 on 28×28, batch 128",
      network: Network(build: { SmallCNN(registry: &$0) }),
      batch: Batch(inputs: x, labels: y))
  }

  /// W3: Transformer LM, vocabulary 96, sequence 64, d_model 64, 2 layers, 4 heads, MLP 256,
  /// pre-LayerNorm, causal, batch 32.
  public static func w3(seed: UInt64 = 3) -> Workload {
    var rng = SplitMix64(seed: seed)
    let x = Tensor<Float>(shape: [32, 64], scalars: (0..<(32 * 64)).map { _ in Float(rng.next() % 96) })
    let y = (0..<(32 * 64)).map { _ in Int(rng.next() % 96) }
    return Workload(
      id: "W3", summary: "Transformer LM d64 L2 H4, seq 64, batch 32",
      network: Network(build: { TransformerLM(.w3, registry: &$0) }),
      batch: Batch(inputs: x, labels: y))
  }

  /// The reference workloads W1–W3.
  public static func reference() -> [Workload] { [w1(), w2(), w3()] }

  /// One row per model family at its small size (`ModelZoo`, 28×28 images or 64-character
  /// sequences), batch 32 images or 8 sequences: what a run of each family costs.
  public static func families() -> [Workload] {
    let images = 32, sequences = 8
    func imageBatch(_ seed: UInt64) -> Batch<Float> {
      var rng = SplitMix64(seed: seed)
      let shape = [images] + ModelZoo.imageShape(.small)
      let x = Tensor<Float>(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.nextNormal()) })
      return Batch(inputs: x, labels: (0..<images).map { _ in Int(rng.next() % 10) })
    }
    func tokenBatch(_ seed: UInt64, length: Int, channels: Int) -> Batch<Float> {
      var rng = SplitMix64(seed: seed)
      let shape = channels == 1 ? [sequences, length] : [sequences, length, channels]
      let x = Tensor<Float>(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in Float(rng.next() % 96) })
      return Batch(inputs: x, labels: (0..<(sequences * length)).map { _ in Int(rng.next() % 96) })
    }
    func image(_ id: String, _ summary: String, _ n: Network) -> Workload {
      Workload(id: id, summary: summary + ", batch \(images)", network: n, batch: imageBatch(7))
    }
    let lm = ModelZoo.lmSequence(.small), s2s = ModelZoo.seq2seqSequence(.small)
    return [
      image("wrn-bn", "WRN-10-1 (b 8), BatchNorm", ModelZoo.wrn(normalization: .batchNorm, size: .small)),
      image("wrn-nobn", "WRN-10-1 (b 8), no BN", ModelZoo.wrn(normalization: .none, size: .small)),
      image("wrn-fixup", "WRN-10-1 (b 8), Fixup", ModelZoo.wrn(normalization: .none, fixup: true, size: .small)),
      image("resnet-post", "ResNet post-activation", ModelZoo.resnet(order: .postActivation, size: .small)),
      image("resnet-pre", "ResNet pre-activation", ModelZoo.resnet(order: .preActivation, size: .small)),
      image("resnet-relu-bn", "ResNet pre-act., ReLU before BN", ModelZoo.resnet(order: .preActivationReLUBeforeBN, size: .small)),
      image("densenet-bn", "DenseNet-BC, BatchNorm", ModelZoo.densenet(normalization: .batchNorm, size: .small)),
      image("densenet-nobn", "DenseNet-BC, no BN", ModelZoo.densenet(normalization: .none, size: .small)),
      image("resmlp", "residual MLP, no norm", ModelZoo.resmlp(normalization: .none, size: .small)),
      Workload(id: "lm-pre", summary: "Transformer LM pre-LN, seq \(lm), batch \(sequences)",
               network: ModelZoo.transformerLM(layerNorm: .pre, size: .small),
               batch: tokenBatch(8, length: lm, channels: 1)),
      Workload(id: "seq2seq-pre", summary: "encoder–decoder pre-LN, seq \(s2s), batch \(sequences)",
               network: ModelZoo.seq2seq(layerNorm: .pre, size: .small),
               batch: tokenBatch(9, length: s2s, channels: 2)),
    ]
  }

  public static func all() -> [Workload] { reference() + families() }
}
