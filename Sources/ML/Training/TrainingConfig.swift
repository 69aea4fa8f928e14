/// When λ1 is measured: every `denseEvery` steps until `denseUntil`, then every `every` steps,
/// plus the listed steps; the paper measured densely early in training, sparsely later.
public struct MeasurementSchedule: Sendable, Hashable, Codable {
  public var denseEvery: Int
  public var denseUntil: Int
  public var every: Int
  public var extra: [Int]

  public init(denseEvery: Int = 1, denseUntil: Int = 0, every: Int, extra: [Int] = []) {
    precondition(denseEvery >= 1 && every >= 1, "measurement intervals must be positive")
    self.denseEvery = denseEvery
    self.denseUntil = denseUntil
    self.every = every
    self.extra = extra
  }

  public static let never = MeasurementSchedule(every: Int.max)

  public func contains(_ step: Int) -> Bool {
    if extra.contains(step) { return true }
    if step < denseUntil { return step % denseEvery == 0 }
    return every != Int.max && step % every == 0
  }
}

/// Everything that defines one training run besides the model and data.
public struct TrainingConfig: Sendable, Hashable, Codable {
  public var steps: Int
  public var batchSize: Int
  public var schedule: LearningRateSchedule
  public var optimizer: OptimizerKind
  /// Clip the gradient to this global L2 norm (nil: no clipping).
  public var clipNorm: Double?
  public var seed: UInt64
  /// α: every initial variable is multiplied by it.
  public var initScale: Double
  public var sharpness: MeasurementSchedule
  public var lanczosIterations: Int
  /// Stop Lanczos early once λ1's residual estimate is within this fraction of λ1 (nil: always
  /// run `lanczosIterations`). The explicit residual is recorded either way.
  public var lanczosTolerance: Double?
  /// Steps at which the parameters are kept (not measured) so that a run that diverges can
  /// measure λ1 at the last of them before the divergence: the λ1 a dense schedule would have
  /// recorded, at the cost of one measurement, and only for runs that diverge.
  public var divergenceSnapshots: MeasurementSchedule
  /// Examples of the fixed measurement set (the first N of the training set; independent of
  /// the batch size).
  public var measurementExamples: Int
  /// Evaluate on the test set every this many steps (and at the end); 0 disables.
  public var evalEvery: Int
  /// A loss above this bound counts as divergence (besides a non-finite loss).
  public var divergenceLoss: Double
  /// Record the first evaluation step whose test accuracy reaches this.
  public var targetAccuracy: Double?
  /// End the run at that evaluation (steps-to-target sweeps: the steps after it are not needed).
  public var stopAtTarget = false
  /// BatchNorm networks: λ1 is the curvature of the mean loss over ghost batches of this many
  /// measurement examples, each with its own batch statistics (`Network.hessianOperator`); nil
  /// normalizes over the whole measurement set.
  public var ghostBatch: Int?
  /// When λ1's explicit residual misses `lanczosTolerance`, Lanczos runs again with up to this
  /// many steps (`lanczosToTolerance`); nil: twice `lanczosIterations`.
  public var lanczosMaxIterations: Int?

  public init(
    steps: Int, batchSize: Int, schedule: LearningRateSchedule, optimizer: OptimizerKind = .plainSGD,
    clipNorm: Double? = nil, seed: UInt64 = 0, initScale: Double = 1,
    sharpness: MeasurementSchedule = .never, lanczosIterations: Int = 20, lanczosTolerance: Double? = nil,
    divergenceSnapshots: MeasurementSchedule = .never, measurementExamples: Int = 256,
    evalEvery: Int = 0, divergenceLoss: Double = 1e4, targetAccuracy: Double? = nil, ghostBatch: Int? = nil,
    lanczosMaxIterations: Int? = nil
  ) {
    precondition(steps >= 0 && batchSize >= 1, "steps must be ≥ 0 and batch size ≥ 1")
    precondition(clipNorm.map { $0 > 0 } ?? true, "clip norm must be positive")
    self.steps = steps; self.batchSize = batchSize; self.schedule = schedule; self.optimizer = optimizer
    self.clipNorm = clipNorm; self.seed = seed; self.initScale = initScale; self.sharpness = sharpness
    self.lanczosIterations = lanczosIterations; self.lanczosTolerance = lanczosTolerance
    self.divergenceSnapshots = divergenceSnapshots; self.measurementExamples = measurementExamples
    self.evalEvery = evalEvery; self.divergenceLoss = divergenceLoss; self.targetAccuracy = targetAccuracy
    self.ghostBatch = ghostBatch; self.lanczosMaxIterations = lanczosMaxIterations
  }
}
