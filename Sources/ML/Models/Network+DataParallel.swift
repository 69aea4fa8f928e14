/// Data parallelism over the examples of one batch (see `Parallelism`).
///
/// The training loss is a mean over examples (or over positions, the same number in every
/// example) plus terms that do not depend on the data (the L2 penalty). So with shards of b_i
/// of the batch's B examples, L = Σ (b_i/B)·L_i exactly, and the same weights combine the
/// shards' gradients and Hessian-vector products. Each shard seeds its backward pass with
/// b_i/B, so its results arrive weighted; the sum runs in shard order, so one thread count
/// always gives the same numbers. The split changes only the rounding.
extension Network {
  /// Examples per shard below which a split costs more than it saves.
  static let minimumShardExamples = 8

  /// The example ranges `examples` splits into for `Parallelism.threads` workers, or nil to
  /// run the batch whole: with one thread, inside a worker already, with BatchNorm (batch
  /// statistics couple the examples), with dropout in `.training` (one mask stream for the
  /// whole batch), or for a model with one GEMM row per example (an MLP, faster whole).
  func shardRanges(examples: Int, mode: ForwardMode, threads: Int = Parallelism.threads) -> [Range<Int>]? {
    let workers = Swift.min(threads, examples / Network.minimumShardExamples)
    guard workers > 1, Parallelism.splitsBatches, bufferSpecs.isEmpty, !oneRowPerExample, !(mode == .training && drawsRandomness),
          !Parallelism.isShardWorker else { return nil }
    return (0..<workers).map { examples * $0 / workers ..< examples * ($0 + 1) / workers }
  }

  /// How many shards `lossAndGradient` and `hessianVectorProduct` split a batch of `examples`
  /// into at the current thread count (1: the batch runs whole, BLAS using the threads).
  public func dataParallelShards(examples: Int, mode: ForwardMode) -> Int {
    shardRanges(examples: examples, mode: mode)?.count ?? 1
  }

  func shardedLossAndGradient<S>(
    parameters: [Tensor<S>], buffers: [Tensor<S>], batch: Batch<S>, mode: ForwardMode, rng: SplitMix64,
    shards: [Range<Int>]
  ) -> (loss: S, gradient: [Tensor<S>], logits: Tensor<S>) {
    let parts = runShards(shards, of: batch) { _, sub, weight in
      var logits = Tensor<S>(zeros: [0])
      let (value, grad) = valueAndGradient(at: parameters, seed: weight) { vars in
        let ctx = ForwardContext(parameters: vars, buffers: buffers, mode: mode, rng: rng)
        defer { checkNoRandomness(ctx, rng) }
        return objective(vars, batch: sub, context: ctx, logits: &logits)
      }
      return (value, grad, logits)
    }
    return (weightedLoss(parts.map(\.0), shards, batch.count), sum(parts.map(\.1)),
            Tensor.concatenated(parts.map(\.2), alongAxis: 0))
  }

  func shardedHessianVectorProduct<S>(
    parameters: [Tensor<S>], buffers: [Tensor<S>], batch: Batch<S>, direction v: [Tensor<S>], gradient: Bool,
    shards: [Range<Int>], primalCaches: PrimalCaches<S>? = nil
  ) -> (loss: S, gradient: [Tensor<S>], hvp: [Tensor<S>]) {
    let caches = primalCaches?.caches(for: shards)
    let parts = runShards(shards, of: batch) { i, sub, weight in
      PrimalCache.run(caches?[i]) {
        ML.hessianVectorProduct(at: parameters, direction: v, gradient: gradient, seed: weight) { vars in
          objective(vars, batch: sub, context: ForwardContext(parameters: vars, buffers: buffers, mode: .curvature))
        }
      }
    }
    return (weightedLoss(parts.map(\.value), shards, batch.count), gradient ? sum(parts.map(\.gradient)) : [],
            sum(parts.map(\.hvp)))
  }

  func shardedEvaluate<S>(
    parameters: [Tensor<S>], buffers: [Tensor<S>], batch: Batch<S>, mode: ForwardMode, shards: [Range<Int>]
  ) -> (loss: S, logits: Tensor<S>) {
    let parts = runShards(shards, of: batch) { _, sub, _ in
      evaluate(parameters: parameters, buffers: buffers, batch: sub, mode: mode)
    }
    return (weightedLoss(parts.map(\.loss), shards, batch.count), Tensor.concatenated(parts.map(\.logits), alongAxis: 0))
  }

  /// `body(i, shard batch, b_i/B)` for every shard i, concurrently; results in shard order.
  private func runShards<S, R>(_ shards: [Range<Int>], of batch: Batch<S>, _ body: (Int, Batch<S>, S) -> R) -> [R] {
    var results = [R?](repeating: nil, count: shards.count)
    results.withUnsafeMutableBufferPointer { out in
      Parallelism.forEachShard(shards.count) { i in
        out[i] = body(i, batch.examples(shards[i]), S(shards[i].count) / S(batch.count))
      }
    }
    return results.map { $0! }
  }

  /// Σ (b_i/B)·L_i, accumulated in Float64.
  private func weightedLoss<S: TensorScalar>(_ losses: [S], _ shards: [Range<Int>], _ total: Int) -> S {
    S(zip(losses, shards).reduce(0.0) { $0 + Double($1.0) * Double($1.1.count) / Double(total) })
  }

  /// The element-wise sum of the shards' (already weighted) tensor lists, in shard order. A
  /// large model's gradient is megabytes, so the additions are split among the threads too
  /// (every element is summed in the same order whatever the split).
  func sum<S>(_ lists: [[Tensor<S>]]) -> [Tensor<S>] {
    guard lists.count > 1 else { return lists[0] }
    let out = lists[0].map { Tensor<S>(uninitializedShape: $0.shape) }
    let total = out.reduce(0) { $0 + $1.count }
    let workers = Swift.min(lists.count, Swift.max(1, total / 65_536))
    withExtendedLifetime((lists, out)) {
      Parallelism.forEachShard(workers) { w in
        for j in out.indices {
          let n = out[j].count, lo = n * w / workers, hi = n * (w + 1) / workers
          addInOrder(lists.map { $0[j].storage.base + lo }, into: out[j].storage.base + lo, count: hi - lo)
        }
      }
    }
    return out
  }

  /// A layer that draws random numbers without declaring it (`ParameterRegistry.noteRandomness`)
  /// would give every shard the same mask: stop rather than compute a wrong gradient.
  private func checkNoRandomness<S>(_ ctx: ForwardContext<S>, _ rng: SplitMix64) {
    precondition(ctx.rng.state == rng.state,
                 "a layer drew random numbers but its network did not declare it (ParameterRegistry.noteRandomness)")
  }
}

/// dst[i] = Σ_k sources[k][i], added in the order of `sources`.
@_specialize(where S == Float)
@_specialize(where S == Double)
func addInOrder<S: TensorScalar>(_ sources: [UnsafeMutablePointer<S>], into dst: UnsafeMutablePointer<S>, count: Int) {
  let first = sources[0], second = sources[1]
  for i in 0..<count { dst[i] = first[i] + second[i] }
  for source in sources.dropFirst(2) {
    for i in 0..<count { dst[i] += source[i] }
  }
}

extension Batch {
  /// The examples in `range` (with their labels: one or one per position each).
  func examples(_ range: Range<Int>) -> Batch {
    let perExample = labels.count / count
    return Batch(inputs: inputs.sliced(alongAxis: 0, range),
                 labels: Array(labels[range.lowerBound * perExample ..< range.upperBound * perExample]))
  }
}
