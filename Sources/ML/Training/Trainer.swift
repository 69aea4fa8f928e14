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

  public func run(progress: Progress? = nil) -> (record: TrainingRecord, parameters: [Tensor<S>]) {
    var params: [Tensor<S>] = network.initialParameters(seed: config.seed, scale: config.initScale)
    var buffers: [Tensor<S>] = network.initialBuffers()
    var optimizer = AnyOptimizer<S>(config.optimizer)
    var sampler = BatchSampler(datasetSize: train.count, batchSize: config.batchSize, seed: config.seed &+ 1)
    let measurement = train.prefix(config.measurementExamples)
    // Dropout masks: one independent stream per step, derived from the seed and the step.
    let dropoutRNG = SplitMix64(seed: config.seed &+ 2)
    var record = TrainingRecord()
    let shapes = params.map(\.shape)
    // The latest divergence snapshots (copy-on-write: each costs one copy of the parameters
    // when the next update writes them). Several, because the curvature of the last ones before
    // a NaN loss can already be non-finite; a dense schedule would have stopped at the first
    // of those, so the answer is the newest one whose λ1 is finite.
    var snapshots: [Snapshot] = []
    func diverge(_ step: Int, _ reason: DivergenceRecord.Reason, _ eta: Double) {
      let lastMeasured = record.sharpness.last(where: { $0.step < step })?.step ?? -1
      for s in snapshots.reversed() where s.step < step && s.step > lastMeasured {
        if let m = measureSharpness(s.parameters, s.buffers, measurement, s.optimizer, shapes, step: s.step, eta: s.learningRate) {
          let at = record.sharpness.firstIndex(where: { $0.step > s.step }) ?? record.sharpness.endIndex
          record.sharpness.insert(m, at: at)
          break
        }
      }
      record.divergence = divergence(step, reason, eta, record)
    }

    for step in 0..<config.steps {
      let eta = config.schedule(step)
      if config.sharpness.contains(step) {
        if let m = measureSharpness(params, buffers, measurement, optimizer, shapes, step: step, eta: eta) {
          record.sharpness.append(m)
        } else {
          diverge(step, .nonFiniteCurvature, eta)
          break
        }
      } else if config.divergenceSnapshots.contains(step) {
        if snapshots.count == 8 { snapshots.removeFirst() }
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
        }
      }
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

  /// One rule for "λ1 before divergence": the last measurement strictly before the divergence
  /// step (a measurement at the divergence step itself saw the exploded parameters), or the one
  /// at initialization for a run that diverges at step 0.
  func divergence(_ step: Int, _ reason: DivergenceRecord.Reason, _ eta: Double, _ record: TrainingRecord) -> DivergenceRecord {
    let last = record.sharpness.last(where: { $0.step < step || $0.step == 0 })
    return DivergenceRecord(step: step, reason: reason, learningRate: eta, lastLambda1: last?.lambda1,
                            lastLambda1Step: last?.step, lastLambda1LearningRate: last?.learningRate)
  }

  /// λ1 (and for Adam the preconditioned λ1) on the measurement set; nil if non-finite.
  func measureSharpness(
    _ params: [Tensor<S>], _ buffers: [Tensor<S>], _ batch: Batch<S>, _ optimizer: AnyOptimizer<S>,
    _ shapes: [[Int]], step: Int, eta: Double
  ) -> SharpnessRecord? {
    let seed = config.seed &+ 3
    let op = network.hessianOperator(parameters: params, buffers: buffers, batch: batch)
    guard let r = try? lanczos(op, iterations: min(config.lanczosIterations, op.dimension), seed: seed,
                               tolerance: config.lanczosTolerance),
          r.top.isFinite else { return nil }
    var m = SharpnessRecord(step: step, learningRate: eta, lambda1: r.top, residual: r.eigenpairs[0].residual,
                            threshold: config.optimizer.stabilityThreshold(learningRate: eta))
    if let d = optimizer.preconditioner(shapes: shapes) {
      let pop = network.preconditionedHessianOperator(parameters: params, buffers: buffers, batch: batch, preconditioner: d)
      guard let p = try? lanczos(pop, iterations: min(config.lanczosIterations, pop.dimension), seed: seed,
                                 tolerance: config.lanczosTolerance), p.top.isFinite
      else { return nil }
      m.preconditionedLambda1 = p.top
      m.preconditionedResidual = p.eigenpairs[0].residual
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
