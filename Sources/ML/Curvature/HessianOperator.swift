import Synchronization

extension Network {
  /// The Hessian of the training loss on a fixed measurement batch, as a Float64 operator. The
  /// HVP itself runs in the parameters' precision (Float32 for training runs); the Lanczos
  /// vectors stay Float64. BatchNorm uses batch statistics and dropout is off
  /// (`ForwardMode.curvature`). The first application keeps the products' primals, which
  /// every later one replays (`PrimalCache`): they do not depend on the vector.
  ///
  /// `ghostBatch`: for a network with BatchNorm, the batch is cut into consecutive ghost
  /// batches of this many examples, each normalized by its own statistics, and the operator is
  /// the Hessian of their example-weighted mean loss Σ (bᵢ/B)·Lᵢ: the loss that training at
  /// that batch size minimizes (statistics over a 1 024-example measurement set would be a
  /// different, smoother function). Networks without BatchNorm ignore it (their loss is the
  /// same either way).
  ///
  /// `chunkExamples`: for a network without batch statistics, the batch is processed this many
  /// examples at a time and the products summed with weights nᵢ/N. The loss is a mean over
  /// examples, so this is the same operator (up to rounding), and without keeping primals the
  /// memory is that of one chunk whatever N is. (For BatchNorm the split changes the function:
  /// use `ghostBatch`.)
  public func hessianOperator<S>(
    parameters: [Tensor<S>], buffers: [Tensor<S>], batch: Batch<S>, cachingPrimals: Bool = true, ghostBatch: Int? = nil,
    chunkExamples: Int? = nil
  ) -> SymmetricOperator {
    let shapes = parameters.map(\.shape)
    let n = shapes.reduce(0) { $0 + $1.reduce(1, *) }
    let network = self
    let chunked = !usesBatchStatistics && (chunkExamples.map { $0 >= 1 && $0 < batch.count } ?? false)
    let pieces = chunked ? stride(from: 0, to: batch.count, by: chunkExamples!).map { $0..<Swift.min($0 + chunkExamples!, batch.count) }
                         : ghostBatchRanges(examples: batch.count, ghostBatch: ghostBatch)
    let batches = pieces.count == 1 ? [batch] : pieces.map { batch.examples($0) }
    let weights = pieces.map { Double($0.count) / Double(batch.count) }
    let caches = batches.map { _ in cachingPrimals && !chunked ? PrimalCaches<S>() : nil }
    // One application at a time: the caches are replayed in order.
    let serial = Mutex(())
    return SymmetricOperator(dimension: n) { v in
      serial.withLock { _ in
        let direction: [Tensor<S>] = FlatVector.unflatten(v, shapes: shapes)
        if batches.count == 1 {
          let r = network.hessianVectorProduct(parameters: parameters, buffers: buffers, batch: batch, direction: direction,
                                               gradient: false, primalCaches: caches[0])
          return FlatVector.flatten(r.hvp)
        }
        var out = [Double](repeating: 0, count: n)
        for (k, b) in batches.enumerated() {
          let r = network.hessianVectorProduct(parameters: parameters, buffers: buffers, batch: b, direction: direction,
                                               gradient: false, primalCaches: caches[k])
          let part = FlatVector.flatten(r.hvp)
          for i in 0..<n { out[i] += weights[k] * part[i] }
        }
        return out
      }
    }
  }

  /// The ghost batches of a measurement set: consecutive ranges of `ghostBatch` examples (the
  /// last one takes the remainder when it is at least half a ghost batch, else it joins the one
  /// before), or the whole set for a network without BatchNorm or without a ghost batch size.
  public func ghostBatchRanges(examples: Int, ghostBatch: Int?) -> [Range<Int>] {
    guard let g = ghostBatch, g >= 1, usesBatchStatistics, examples > g else { return [0..<examples] }
    var ranges: [Range<Int>] = []
    var start = 0
    while start < examples {
      var end = Swift.min(start + g, examples)
      if examples - end < (g + 1) / 2 { end = examples }
      ranges.append(start..<end)
      start = end
    }
    return ranges
  }

  /// Whether the network normalizes by batch statistics (BatchNorm), the only layers whose loss
  /// depends on how a batch is split.
  public var usesBatchStatistics: Bool { !bufferSpecs.isEmpty }

  /// The preconditioned Hessian D^-1/2·H·D^-1/2 for Adam's D = √v̂ + ε: its top eigenvalue is
  /// the "preconditioned sharpness" that equilibrates at 38/η for β1 = 0.9 (Cohen et al. 2022).
  public func preconditionedHessianOperator<S>(
    parameters: [Tensor<S>], buffers: [Tensor<S>], batch: Batch<S>, preconditioner d: [Tensor<S>], ghostBatch: Int? = nil
  ) -> SymmetricOperator {
    hessianOperator(parameters: parameters, buffers: buffers, batch: batch, ghostBatch: ghostBatch)
      .preconditioned(by: FlatVector.flatten(d))
  }
}

extension SymmetricOperator {
  /// D^-1/2·A·D^-1/2 for a positive diagonal D (flattened; +∞ entries project their
  /// coordinate out).
  public func preconditioned(by d: [Double]) -> SymmetricOperator {
    let invSqrtD = d.map { 1 / $0.squareRoot() }
    precondition(invSqrtD.count == dimension, "preconditioner has the wrong size")
    let a = self
    return SymmetricOperator(dimension: dimension) { v in
      var u = v
      for i in u.indices { u[i] *= invSqrtD[i] }
      var y = a(u)
      for i in y.indices { y[i] *= invSqrtD[i] }
      return y
    }
  }
}
