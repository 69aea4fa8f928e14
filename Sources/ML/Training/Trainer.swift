/// Trains a network with minibatch SGD or Adam, measuring λ1 on a schedule, evaluating at
/// intervals, and stopping at divergence. Same seed and BLAS thread count → same numbers.
public struct Trainer<S: TensorScalar> {
  public let network: Network
  public let config: TrainingConfig
  public let train: Dataset<S>
  public let test: Dataset<S>?

  public init(network: Network, config: TrainingConfig, train: Dataset<S>, test: Dataset<S>? = nil) {
    self.network = network
    self.config = config
    self.train = train
    self.test = test
  }

  /// Called after every step with (step, loss).
  public typealias Progress = (Int, Double) -> Void

  /// Trains. `failureStep`, called once after a run that did not diverge, names the step at
  /// which it failed by the caller's rule (a collapse to chance loss), or nil: the record then
  /// carries the last λ1 measured at or before that step (`lastBeforeFailure`), from a
  /// scheduled measurement or the latest divergence snapshot before it, measured then.
  /// `initialParameters` replaces the network's own draw (a data-driven initialization's result);
  /// `atMeasurement(step, θ, optimizer)` sees the parameters (and the optimizer's state) at each
  /// scheduled λ1 measurement (a further
  /// conditioning measure, such as MetaInit's gradient quotient, on the same schedule).
  public func run(initialParameters: [Tensor<S>]? = nil, progress: Progress? = nil,
                  atMeasurement: ((Int, [Tensor<S>], AnyOptimizer<S>) -> Void)? = nil, failureStep: ((TrainingRecord) -> Int?)? = nil)
    -> (record: TrainingRecord, parameters: [Tensor<S>])
  {
    var params: [Tensor<S>] = initialParameters ?? network.initialParameters(seed: config.seed, scale: config.initScale)
    precondition(params.map(\.shape) == network.parameterSpecs.map(\.shape), "initial parameters do not fit the network")
    var buffers: [Tensor<S>] = network.initialBuffers()
    var optimizer = AnyOptimizer<S>(config.optimizer)
    var sampler = BatchSampler(datasetSize: train.count, batchSize: config.batchSize, seed: config.seed &+ 1)
    let measurement = train.prefix(config.measurementExamples)
    // Dropout masks: one independent stream per step, derived from the seed and the step.
    let dropoutRNG = SplitMix64(seed: config.seed &+ 2)
    var record = TrainingRecord()
    let shapes = params.map(\.shape)
    var snapshots = SnapshotStore(parameterCount: shapes.reduce(0) { $0 + $1.reduce(1, *) } * MemoryLayout<S>.stride)
    /// The newest λ1 before `step` (strictly before it unless `inclusive`): a scheduled
    /// measurement, or a snapshot newer than it measured now (the last ones before a NaN can
    /// already have non-finite curvature, so the newest finite one; a dense schedule would have
    /// stopped at the first of those).
    func lastMeasurement(before step: Int, inclusive: Bool) -> SharpnessRecord? {
      func earlier(_ s: Int) -> Bool { inclusive ? s <= step : s < step }
      let scheduled = record.sharpness.last { earlier($0.step) }
      for snap in snapshots.all.reversed() where earlier(snap.step) && snap.step > (scheduled?.step ?? -1) {
        if let m = measureSharpness(snap.parameters, snap.buffers, measurement, snap.optimizer, shapes, step: snap.step,
                                    eta: snap.learningRate) {
          let at = record.sharpness.firstIndex { $0.step > snap.step } ?? record.sharpness.endIndex
          record.sharpness.insert(m, at: at)
          return m
        }
      }
      return scheduled
    }
    func diverge(_ step: Int, _ reason: DivergenceRecord.Reason, _ eta: Double) {
      _ = lastMeasurement(before: step, inclusive: false)
      record.divergence = divergence(step, reason, eta, record)
    }

    for step in 0..<config.steps {
      let eta = config.schedule(step)
      if config.sharpness.contains(step) {
        if let m = measureSharpness(params, buffers, measurement, optimizer, shapes, step: step, eta: eta) {
          record.sharpness.append(m)
          atMeasurement?(step, params, optimizer)
        } else {
          diverge(step, .nonFiniteCurvature, eta)
          break
        }
      } else if config.divergenceSnapshots.contains(step) {
        snapshots.append(Snapshot(step: step, learningRate: eta, parameters: params, buffers: buffers, optimizer: optimizer))
      }
      let batch = train.batch(sampler.next())
      var (loss, grads, _) = network.lossAndGradient(
        parameters: params, buffers: &buffers, batch: batch, mode: .training, rng: dropoutRNG.derived(UInt64(step)))
      let lossD = Double(loss)
      // clipByGlobalNorm measures the norm itself: one pass over the gradients either way.
      let (norm, clipped) = config.clipNorm.map { clipByGlobalNorm(&grads, maxNorm: $0) } ?? (globalNorm(grads), false)
      record.steps.append(StepRecord(step: step, loss: lossD, learningRate: eta, gradientNorm: norm, clipped: clipped))
      progress?(step, lossD)
      if !lossD.isFinite || !norm.isFinite {
        diverge(step, .nonFiniteLoss, eta)
        break
      }
      if lossD > config.divergenceLoss {
        diverge(step, .lossAboveBound, eta)
        break
      }
      optimizer.step(parameters: &params, gradients: grads, learningRate: eta)
      if config.evalEvery > 0, (step + 1) % config.evalEvery == 0 || step + 1 == config.steps, let test {
        let e = evaluate(params, buffers, test, step: step + 1)
        record.evals.append(e)
        if record.stepsToTarget == nil, let target = config.targetAccuracy, e.testAccuracy >= target {
          record.stepsToTarget = step + 1
          if config.stopAtTarget { break }
        }
      }
    }
    if !record.diverged, let failureStep, let step = failureStep(record) {
      record.failureStep = step
      record.lastBeforeFailure = lastMeasurement(before: step, inclusive: true)
    }
    return (record, params)
  }

  struct Snapshot {
    var step: Int
    var learningRate: Double
    var parameters: [Tensor<S>]
    var buffers: [Tensor<S>]
    var optimizer: AnyOptimizer<S>
  }

  /// The divergence snapshots of a run, within a memory budget: all of them while they fit
  /// (a collapse can begin long before the run ends), then the older ones thinned to every
  /// other one, the newest eight always kept (a divergence is sudden).
  struct SnapshotStore {
    /// Bytes of one snapshot's parameters (the optimizer state roughly doubles it).
    let parameterBytes: Int
    static var budget: Int { 256 << 20 }
    private(set) var all: [Snapshot] = []

    init(parameterCount bytes: Int) { parameterBytes = max(bytes, 1) }

    mutating func append(_ s: Snapshot) {
      all.append(s)
      guard all.count * 2 * parameterBytes > Self.budget, all.count > 8 else { return }
      let old = all.count - 8
      all = all.prefix(old).enumerated().filter { $0.offset % 2 == 0 }.map(\.element) + all.suffix(8)
    }
  }

  /// One rule for "λ1 before divergence": the last measurement strictly before the divergence
  /// step (a measurement at the divergence step itself saw the exploded parameters), or the one
  /// at initialization for a run that diverges at step 0.
  func divergence(_ step: Int, _ reason: DivergenceRecord.Reason, _ eta: Double, _ record: TrainingRecord) -> DivergenceRecord {
    let last = record.sharpness.last(where: { $0.step < step || $0.step == 0 })
    return DivergenceRecord(step: step, reason: reason, learningRate: eta, lastLambda1: last?.lambda1,
                            lastLambda1Step: last?.step, lastLambda1LearningRate: last?.learningRate)
  }

  /// λ1 (and for Adam the preconditioned λ1) on the measurement set; nil if non-finite. With a
  /// tolerance, each value is held to it on its explicit residual (`lanczosToTolerance`).
  public func measureSharpness(
    _ params: [Tensor<S>], _ buffers: [Tensor<S>], _ batch: Batch<S>, _ optimizer: AnyOptimizer<S>,
    _ shapes: [[Int]], step: Int, eta: Double
  ) -> SharpnessRecord? {
    let seed = config.seed &+ 3
    func top(_ op: SymmetricOperator) -> (LanczosResult, Bool?)? {
      if let tolerance = config.lanczosTolerance {
        guard let (r, ok) = try? lanczosToTolerance(
          op, iterations: config.lanczosIterations, maxIterations: config.lanczosMaxIterations ?? 2 * config.lanczosIterations,
          tolerance: tolerance, seed: seed), r.top.isFinite else { return nil }
        return (r, ok)
      }
      guard let r = try? lanczos(op, iterations: min(config.lanczosIterations, op.dimension), seed: seed), r.top.isFinite
      else { return nil }
      return (r, nil)
    }
    let op = network.hessianOperator(parameters: params, buffers: buffers, batch: batch, ghostBatch: config.ghostBatch)
    guard let (r, ok) = top(op) else { return nil }
    var m = SharpnessRecord(step: step, learningRate: eta, lambda1: r.top, residual: r.eigenpairs[0].residual,
                            threshold: config.optimizer.stabilityThreshold(learningRate: eta), converged: ok)
    if let d = optimizer.preconditioner(shapes: shapes) {
      let pop = network.preconditionedHessianOperator(parameters: params, buffers: buffers, batch: batch, preconditioner: d,
                                                           ghostBatch: config.ghostBatch)
      guard let (p, pok) = top(pop) else { return nil }
      m.preconditionedLambda1 = p.top
      m.preconditionedResidual = p.eigenpairs[0].residual
      if let ok, let pok { m.converged = ok && pok }
    }
    return m
  }

  /// Test loss and accuracy with running statistics, in chunks.
  public func evaluate(_ params: [Tensor<S>], _ buffers: [Tensor<S>], _ data: Dataset<S>, step: Int, chunk: Int = 1000) -> EvalRecord {
    var lossSum = 0.0, correct = 0.0
    var start = 0
    while start < data.count {
      let idx = Array(start..<min(start + chunk, data.count))
      let b = data.batch(idx)
      let (l, logits) = network.evaluate(parameters: params, buffers: buffers, batch: b)
      lossSum += Double(l) * Double(idx.count)
      correct += accuracy(logits: logits.reshaped([b.labels.count, -1]), labels: b.labels) * Double(idx.count)
      start += chunk
    }
    let n = Double(max(data.count, 1))
    return EvalRecord(step: step, testLoss: lossSum / n, testAccuracy: correct / n)
  }
}
