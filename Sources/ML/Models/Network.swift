/// A training objective.
public enum LossKind: Sendable, Hashable, Codable {
  /// Softmax cross-entropy with label smoothing ε.
  case crossEntropy(labelSmoothing: Double)
  /// ½‖z − onehot(y)‖² averaged over examples (the square loss of Cohen et al. 2021).
  case meanSquaredError
}

/// A batch of examples: inputs and integer labels, one per example (classification) or one per
/// position (a language model's next tokens: labels.count = examples × positions).
public struct Batch<S: TensorScalar>: Sendable {
  public var inputs: Tensor<S>
  public var labels: [Int]
  public init(inputs: Tensor<S>, labels: [Int]) {
    precondition(inputs.rank >= 1 && inputs.shape[0] > 0 && labels.count % inputs.shape[0] == 0,
                 "batch: \(labels.count) labels for inputs \(inputs.shape)")
    self.inputs = inputs
    self.labels = labels
  }
  /// Number of examples.
  public var count: Int { inputs.shape[0] }
}

/// A model with its parameter list and loss: the function whose gradient, Hessian-vector
/// products and curvature the rest of the package measures.
public struct Network: Sendable {
  public let model: any Layer
  public let parameterSpecs: [ParameterSpec]
  public let bufferSpecs: [ParameterSpec]
  /// Whether a layer draws random numbers in `.training` (dropout; see `ParameterRegistry`).
  public let drawsRandomness: Bool
  /// Whether every product has one row per example (see `ParameterRegistry`).
  public let oneRowPerExample: Bool
  public var loss: LossKind
  /// Coefficient λ of the L2 penalty (λ/2)‖θ‖² added to the training loss.
  public var l2: Double

  public init(build: (inout ParameterRegistry) -> any Layer, loss: LossKind = .crossEntropy(labelSmoothing: 0), l2: Double = 0) {
    var registry = ParameterRegistry()
    model = build(&registry)
    parameterSpecs = registry.specs
    bufferSpecs = registry.buffers
    drawsRandomness = registry.drawsRandomness
    oneRowPerExample = registry.oneRowPerExample
    self.loss = loss
    self.l2 = l2
  }

  public var parameterCount: Int { parameterSpecs.reduce(0) { $0 + $1.shape.reduce(1, *) } }

  /// Initial parameters, every one multiplied by `scale` (α).
  public func initialParameters<S>(seed: UInt64, scale: Double = 1) -> [Tensor<S>] {
    var rng = SplitMix64(seed: seed)
    return parameterSpecs.map { $0.initialValue(scale: scale, rng: &rng) }
  }

  /// Initial state buffers (running statistics), never scaled.
  public func initialBuffers<S>() -> [Tensor<S>] {
    var rng = SplitMix64(seed: 0)
    return bufferSpecs.map { $0.initialValue(scale: 1, rng: &rng) }
  }

  /// The training loss as a differentiable function of the parameter variables. Writes the
  /// logits to `logits` when given.
  public func objective<S>(
    _ params: [Variable<S>], batch: Batch<S>, context ctx: ForwardContext<S>,
    logits: UnsafeMutablePointer<Tensor<S>>? = nil
  ) -> Variable<S> {
    let z = model(Variable(constant: batch.inputs), ctx)
    logits?.pointee = z.primal
    var l: Variable<S>
    switch loss {
    case .crossEntropy(let eps):
      l = softmaxCrossEntropy(logits: z, labels: batch.labels, labelSmoothing: eps)
    case .meanSquaredError:
      let c = z.shape[z.rank - 1]
      l = meanSquaredError(z, targets: smoothedTargets(labels: batch.labels, classes: c, eps: 0))
    }
    if let penalty = l2Penalty(params, coefficient: l2) { l = l + penalty }
    return l
  }

  /// Loss, gradient and logits on one batch. In `.training` mode the running statistics in
  /// `buffers` are updated.
  public func lossAndGradient<S>(
    parameters: [Tensor<S>], buffers: inout [Tensor<S>], batch: Batch<S>, mode: ForwardMode = .training,
    rng: SplitMix64 = SplitMix64(seed: 0)
  ) -> (loss: S, gradient: [Tensor<S>], logits: Tensor<S>) {
    if let shards = shardRanges(examples: batch.count, mode: mode) {
      return shardedLossAndGradient(parameters: parameters, buffers: buffers, batch: batch, mode: mode, rng: rng,
                                    shards: shards)
    }
    Parallelism.useBLASThreads()
    var logits = Tensor<S>(zeros: [0])
    var ctxOut: ForwardContext<S>? = nil
    let (value, grad) = valueAndGradient(at: parameters) { vars in
      let ctx = ForwardContext(parameters: vars, buffers: buffers, mode: mode, rng: rng)
      ctxOut = ctx
      return objective(vars, batch: batch, context: ctx, logits: &logits)
    }
    if let ctxOut { buffers = ctxOut.buffers }
    return (value, grad, logits)
  }

  /// Data loss (no L2 penalty) and logits without gradients.
  public func evaluate<S>(parameters: [Tensor<S>], buffers: [Tensor<S>], batch: Batch<S>, mode: ForwardMode = .evaluation)
    -> (loss: S, logits: Tensor<S>)
  {
    if let shards = shardRanges(examples: batch.count, mode: mode) {
      return shardedEvaluate(parameters: parameters, buffers: buffers, batch: batch, mode: mode, shards: shards)
    }
    Parallelism.useBLASThreads()
    let vars = parameters.map { Variable(constant: $0) }
    let ctx = ForwardContext(parameters: vars, buffers: buffers, mode: mode)
    var logits = Tensor<S>(zeros: [0])
    var dataLoss = self
    dataLoss.l2 = 0  // evaluation reports the data loss, without the penalty
    let l = dataLoss.objective(vars, batch: batch, context: ctx, logits: &logits)
    return (l.primal.scalar, logits)
  }

  /// The exact Hessian-vector product of the training loss on `batch` (BatchNorm with batch
  /// statistics, dropout off: `ForwardMode.curvature`). With `gradient: false` only H·v is
  /// computed and the returned gradient is empty.
  ///
  /// `primalCaches`, when given, keeps the products' primals of the first call and replays them
  /// in later calls (see `PrimalCache`): only for calls at the same parameters, buffers and batch.
  public func hessianVectorProduct<S>(
    parameters: [Tensor<S>], buffers: [Tensor<S>], batch: Batch<S>, direction v: [Tensor<S>], gradient: Bool = true,
    primalCaches: PrimalCaches<S>? = nil
  ) -> (loss: S, gradient: [Tensor<S>], hvp: [Tensor<S>]) {
    if let shards = shardRanges(examples: batch.count, mode: .curvature) {
      return shardedHessianVectorProduct(parameters: parameters, buffers: buffers, batch: batch, direction: v,
                                         gradient: gradient, shards: shards, primalCaches: primalCaches)
    }
    Parallelism.useBLASThreads()
    let cache = primalCaches?.caches(for: [0..<batch.count])[0]
    let r = PrimalCache.run(cache) {
      ML.hessianVectorProduct(at: parameters, direction: v, gradient: gradient) { vars in
        let ctx = ForwardContext(parameters: vars, buffers: buffers, mode: .curvature)
        return objective(vars, batch: batch, context: ctx)
      }
    }
    return (r.value, r.gradient, r.hvp)
  }
}
