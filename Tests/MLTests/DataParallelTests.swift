import Testing
@testable import ML

/// Splitting a batch among threads by examples (`Network+DataParallel`) changes only rounding:
/// the loss, gradient, logits and Hessian-vector product of the sharded computation match the
/// whole-batch ones in Float64 to ~1e-12, for every layer kind a separable network may hold.
/// The tests call the sharded functions with explicit shards, so they do not depend on (or
/// change) the process's thread count while other tests run.
struct DataParallelTests {
  static let names = ["mlp", "cnn", "lm"]

  static func network(_ name: String) -> (Network, Batch<Double>) {
    let mlp = Network(build: { MLP(widths: [6, 5, 4], activation: .tanh, registry: &$0) }, l2: 0.01)
    let cnn = Network(build: { SmallCNN(classes: 4, channels: (3, 4, 5), registry: &$0) })
    let lm = Network(build: {
      TransformerLM(.init(vocabulary: 7, context: 5, width: 8, layers: 1, heads: 2, mlpWidth: 12), registry: &$0)
    }, loss: .crossEntropy(labelSmoothing: 0.1))
    var rng = SplitMix64(seed: 5)
    let tokens = Tensor<Double>(shape: [19, 5], scalars: (0..<95).map { _ in Double(rng.next() % 7) })
    switch name {
    case "mlp": return (mlp, Batch(inputs: randomTensor([19, 6], seed: 1), labels: (0..<19).map { $0 % 4 }))
    case "cnn": return (cnn, Batch(inputs: randomTensor([19, 6, 6, 1], seed: 2), labels: (0..<19).map { $0 % 4 }))
    default: return (lm, Batch(inputs: tokens, labels: (0..<95).map { ($0 * 3) % 7 }))
    }
  }

  /// Uneven shards on purpose: the weights b_i/B must not assume equal parts.
  static let shards = [0..<5, 5..<11, 11..<17]

  @Test(arguments: names)
  func shardedGradientMatchesWholeBatch(_ name: String) {
    let (network, batch) = Self.network(name)
    let params: [Tensor<Double>] = network.initialParameters(seed: 3)
    var buffers: [Tensor<Double>] = network.initialBuffers()
    let whole = network.lossAndGradient(parameters: params, buffers: &buffers, batch: batch, mode: .curvature)
    let sharded = network.shardedLossAndGradient(parameters: params, buffers: buffers, batch: batch, mode: .curvature,
                                                 rng: SplitMix64(seed: 0), shards: Self.shards + [17..<batch.count])
    expectClose(Double(sharded.loss), Double(whole.loss), rtol: 1e-12, atol: 1e-14, "\(name) loss")
    for (s, w) in zip(sharded.gradient, whole.gradient) { expectClose(s, w, rtol: 1e-10, atol: 1e-13, "\(name) gradient") }
    expectClose(sharded.logits, whole.logits, rtol: 1e-12, atol: 1e-14, "\(name) logits")
    let evaluated = network.evaluate(parameters: params, buffers: buffers, batch: batch)
    let shardedEvaluation = network.shardedEvaluate(parameters: params, buffers: buffers, batch: batch, mode: .evaluation,
                                                    shards: Self.shards + [17..<batch.count])
    expectClose(Double(shardedEvaluation.loss), Double(evaluated.loss), rtol: 1e-12, atol: 1e-14, "\(name) evaluation")
    expectClose(shardedEvaluation.logits, evaluated.logits, rtol: 1e-12, atol: 1e-14, "\(name) evaluation logits")
  }

  @Test(arguments: names)
  func shardedHessianVectorProductMatchesWholeBatch(_ name: String) {
    let (network, batch) = Self.network(name)
    let params: [Tensor<Double>] = network.initialParameters(seed: 3)
    let buffers: [Tensor<Double>] = network.initialBuffers()
    let v = params.enumerated().map { randomTensor($0.element.shape, seed: 100 + UInt64($0.offset)) as Tensor<Double> }
    let whole = network.hessianVectorProduct(parameters: params, buffers: buffers, batch: batch, direction: v)
    let sharded = network.shardedHessianVectorProduct(parameters: params, buffers: buffers, batch: batch, direction: v,
                                                      gradient: true, shards: Self.shards + [17..<batch.count])
    expectClose(Double(sharded.loss), Double(whole.loss), rtol: 1e-12, atol: 1e-14, "\(name) loss")
    for (s, w) in zip(sharded.gradient, whole.gradient) { expectClose(s, w, rtol: 1e-10, atol: 1e-13, "\(name) gradient") }
    for (s, w) in zip(sharded.hvp, whole.hvp) { expectClose(s, w, rtol: 1e-10, atol: 1e-12, "\(name) HVP") }
    let tangentOnly = network.shardedHessianVectorProduct(parameters: params, buffers: buffers, batch: batch,
                                                          direction: v, gradient: false, shards: Self.shards + [17..<batch.count])
    #expect(tangentOnly.gradient.isEmpty)
    for (s, w) in zip(tangentOnly.hvp, whole.hvp) { expectClose(s, w, rtol: 1e-10, atol: 1e-12, "\(name) HVP only") }
  }

  /// The shards' results are added by several threads when large: every element must still be
  /// the sum in shard order (the same bits as a plain loop), ragged splits included.
  @Test func shardSumIsThePlainSumInShardOrder() {
    let network = Network(build: { MLP(widths: [2, 2], activation: .relu, registry: &$0) })
    let shapes = [[301, 457], [7], [65_537]]
    let lists: [[Tensor<Float>]] = (0..<3).map { k in
      shapes.enumerated().map { randomTensor($0.element, seed: UInt64(10 * k + $0.offset)) }
    }
    let summed = network.sum(lists)
    for j in shapes.indices {
      let (a, b, c) = (lists[0][j].scalars, lists[1][j].scalars, lists[2][j].scalars)
      #expect(summed[j].scalars == a.indices.map { (a[$0] + b[$0]) + c[$0] }, "tensor \(j)")
    }
  }

  @Test func splitsOnlyIndependentExamples() {
    let cnn = Network(build: { SmallCNN(classes: 4, channels: (3, 4, 5), registry: &$0) })
    #expect(cnn.shardRanges(examples: 128, mode: .training, threads: 2) == [0..<64, 64..<128])
    #expect(cnn.shardRanges(examples: 25, mode: .training, threads: 3) == [0..<8, 8..<16, 16..<25])
    #expect(cnn.shardRanges(examples: 128, mode: .training, threads: 1) == nil)
    // Shards below the minimum size are not worth a thread.
    #expect(cnn.shardRanges(examples: 15, mode: .training, threads: 2) == nil)
    // An MLP's GEMMs are its work, with one row per example: it stays whole, BLAS takes the threads.
    let mlp = Network(build: { MLP(widths: [4, 3], activation: .relu, registry: &$0) })
    #expect(mlp.oneRowPerExample && !cnn.oneRowPerExample)
    #expect(mlp.shardRanges(examples: 128, mode: .training, threads: 2) == nil)
    // BatchNorm's batch statistics couple the examples.
    let bn = ModelZoo.wrn(normalization: .batchNorm, size: .tiny)
    #expect(bn.shardRanges(examples: 128, mode: .curvature, threads: 2) == nil)
    // Dropout draws one mask stream for the whole batch: not in training, fine without it.
    let dropout = Network(build: {
      TransformerLM(.init(vocabulary: 7, context: 5, width: 8, layers: 1, heads: 2, mlpWidth: 12, dropout: 0.1),
                    registry: &$0)
    })
    #expect(dropout.drawsRandomness)
    #expect(dropout.shardRanges(examples: 64, mode: .training, threads: 2) == nil)
    #expect(dropout.shardRanges(examples: 64, mode: .curvature, threads: 2) != nil)
    #expect(!cnn.drawsRandomness)
  }

  /// The threads really run: a shard's worker sees itself as one (so ops do not split again)
  /// and every shard runs exactly once.
  @Test func workersRunEveryShardOnce() {
    var seen = [Int](repeating: 0, count: 4)
    var flagged = [Bool](repeating: false, count: 4)
    seen.withUnsafeMutableBufferPointer { s in
      flagged.withUnsafeMutableBufferPointer { f in
        Parallelism.forEachShard(4) { i in
          s[i] += 1
          f[i] = Parallelism.isShardWorker
        }
      }
    }
    #expect(seen == [1, 1, 1, 1])
    #expect(flagged == [true, true, true, true])
    #expect(!Parallelism.isShardWorker)
  }
}
