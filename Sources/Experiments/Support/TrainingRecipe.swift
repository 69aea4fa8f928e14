import Foundation
import ML

/// Everything that determines one training run, as a value: the model and its initialization,
/// the loss, the optimizer, the batch and schedule, clipping and L2, the data, what curvature
/// is measured when, evaluation, and the seed. `train(_:context:)` turns it into a
/// `TrainingOutcome`; every experiment's sweep is a list of recipes.
///
/// A run's key hashes its recipe's JSON, and a field at its default value is left out of that
/// JSON (and read back as the default when absent): a field added later with a default that
/// reproduces the old behaviour leaves every stored run's key, and so its results, in place.
public struct TrainingRecipe: Hashable, Sendable {
  /// A `ModelCatalog` id (without the `-x<α>` suffix: the init scale is `initScale`).
  public var model: String
  /// α: every initial variable is multiplied by it (the paper's "1.5× init").
  public var initScale: Double = 1
  public var initMethod: InitMethod = .standard
  /// Iterations of a data-driven `initMethod` (nil: `DataDrivenInit`'s 200).
  public var initIterations: Int?
  /// The hidden width of the plain MLPs (`mlp-relu`, `mlp-tanh`; nil: 64); the zoo fixes the
  /// other families' sizes.
  public var modelWidth: Int?
  public var loss: LossKind = .crossEntropy(labelSmoothing: 0)
  public var optimizer: OptimizerKind
  /// Examples per step; nil: the whole training set every step (full-batch training).
  public var batchSize: Int?
  public var steps: Int
  /// Peak learning rate.
  public var learningRate: Double
  /// Linear warmup from peak/W to the peak over this many steps (0: none).
  public var warmup: Int = 0
  public var decay: Decay = .cosine
  /// Clip the gradient to this global L2 norm (nil: no clipping).
  public var clipNorm: Double?
  /// Coefficient λ of the L2 penalty (λ/2)‖θ‖².
  public var l2: Double = 0
  public var data: DataSpec
  public var measurement: MeasurementPlan
  /// Evaluate on the test set every this many steps (and at the end); 0: at the end only.
  public var evalEvery: Int = 0
  /// Steps to target: the run ends at the first evaluation whose test accuracy reaches this
  /// (`TrainingOutcome.stepsToTarget`); nil: it trains all its steps.
  public var targetAccuracy: Double?
  public var seed: UInt64

  /// How the initial parameters are drawn. `.standard` is the model's own rule (LeCun normal;
  /// Fixup's rule for the Fixup members of the zoo); `.metaInit` and `.gradInit` start from it
  /// (at `initScale`) and rescale each tensor by the data-driven method (`DataDrivenInit`).
  public enum InitMethod: String, Codable, Hashable, Sendable, CaseIterable {
    case standard, metaInit, gradInit

    /// The suffix a figure or table row carries for this method ("+metainit"; none for `.standard`).
    public var rowSuffix: String { self == .standard ? "" : "+" + rawValue.lowercased() }
  }

  /// After warmup: cosine decay to zero at the last step (the paper's schedule), or constant.
  public enum Decay: String, Codable, Hashable, Sendable { case cosine, constant }

  /// The data a run trains and measures on.
  public struct DataSpec: Codable, Hashable, Sendable {
    /// The zoo size, which fixes the data (`ModelZoo`): tiny = 14×14 Fashion-MNIST, small =
    /// 28×28 Fashion-MNIST, full = CIFAR-10; language models read KJV character windows of the
    /// size's length.
    public var size: ModelZoo.Size
    public var trainExamples: Int
    public var testExamples: Int
    /// The fixed measurement set: the first this many training examples (or sequences).
    public var measurementExamples: Int

    public init(size: ModelZoo.Size, trainExamples: Int, testExamples: Int, measurementExamples: Int) {
      self.size = size; self.trainExamples = trainExamples; self.testExamples = testExamples
      self.measurementExamples = measurementExamples
    }
  }

  /// Which curvature is measured, when, and how precisely.
  public struct MeasurementPlan: Codable, Hashable, Sendable {
    /// Steps at which λ1 (and for Adam the preconditioned λ1) is measured.
    public var schedule: MeasurementSchedule
    /// Steps whose parameters are kept so that a failed run can measure λ1 at the last of them
    /// before its failure (never measured otherwise).
    public var snapshots: MeasurementSchedule
    public var lanczosIterations: Int
    /// Every stored λ1 has an explicit residual at most this fraction of λ1, or is flagged.
    public var lanczosTolerance: Double
    /// BatchNorm models: the ghost batch of the measurement (nil: the training batch size).
    public var ghostBatch: Int?
    /// Also measure MetaInit's gradient quotient at each λ1 measurement (on a fixed random
    /// batch, `DataDrivenInit.gradientQuotient`); nil (left out of the key): no.
    public var gradientQuotient: Bool?

    public init(schedule: MeasurementSchedule, snapshots: MeasurementSchedule = .never, lanczosIterations: Int,
                lanczosTolerance: Double, ghostBatch: Int? = nil, gradientQuotient: Bool? = nil) {
      self.schedule = schedule; self.snapshots = snapshots; self.lanczosIterations = lanczosIterations
      self.lanczosTolerance = lanczosTolerance; self.ghostBatch = ghostBatch; self.gradientQuotient = gradientQuotient
    }

    /// A trace measures all along training (every `every` steps), not only at a few steps.
    public var isTrace: Bool { schedule.every != Int.max }
  }

  public init(model: String, initScale: Double = 1, initMethod: InitMethod = .standard, modelWidth: Int? = nil,
              loss: LossKind = .crossEntropy(labelSmoothing: 0), optimizer: OptimizerKind, batchSize: Int?, steps: Int,
              learningRate: Double, warmup: Int = 0, decay: Decay = .cosine, clipNorm: Double? = nil, l2: Double = 0,
              data: DataSpec, measurement: MeasurementPlan, evalEvery: Int = 0, targetAccuracy: Double? = nil, seed: UInt64) {
    self.model = model; self.initScale = initScale; self.initMethod = initMethod; self.modelWidth = modelWidth; self.loss = loss
    self.optimizer = optimizer; self.batchSize = batchSize; self.steps = steps; self.learningRate = learningRate
    self.warmup = warmup; self.decay = decay; self.clipNorm = clipNorm; self.l2 = l2; self.data = data
    self.measurement = measurement; self.evalEvery = evalEvery; self.targetAccuracy = targetAccuracy; self.seed = seed
  }

  /// The row id of figures and tables: the model with its `-x<α>` init scale and its
  /// data-driven initialization ("resmlp-none-x1.5", "wrn-nobn+metainit"; `ModelCatalog.variant`
  /// reads it back).
  public var row: String {
    (initScale == 1 ? model : model + "-x" + String(format: "%g", initScale)) + initMethod.rowSuffix
  }

  public var isLanguageModel: Bool { ModelCatalog.isLanguageModel(model) }
  public var isTranslationModel: Bool { ModelCatalog.isTranslationModel(model) }

  /// The learning-rate schedule the recipe describes.
  public var schedule: LearningRateSchedule {
    switch decay {
    case .cosine: return .warmupCosine(peak: learningRate, warmupSteps: warmup, totalSteps: steps)
    case .constant: return warmup > 0 ? .warmupConstant(peak: learningRate, warmupSteps: warmup) : .constant(peak: learningRate)
    }
  }

  /// What is wrong with the recipe, if anything (checked before training, so a bad `--set`
  /// fails with a sentence rather than a crash mid-sweep).
  public var problems: [String] {
    var out: [String] = []
    if steps < 1 { out.append("steps must be at least 1 (got \(steps))") }
    if let b = batchSize, b < 1 { out.append("batch size must be at least 1 (got \(b))") }
    if !(learningRate > 0 && learningRate.isFinite) { out.append("the learning rate must be positive (got \(learningRate))") }
    if warmup < 0 || warmup > steps { out.append("warmup must be between 0 and the \(steps) steps (got \(warmup))") }
    if !(initScale > 0 && initScale.isFinite) { out.append("the init scale must be positive (got \(initScale))") }
    if let c = clipNorm, !(c > 0) { out.append("the clip norm must be positive (got \(c))") }
    if let k = initIterations, k < 1 { out.append("initIterations must be at least 1 (got \(k))") }
    if !(l2 >= 0) { out.append("L2 must be non-negative (got \(l2))") }
    if data.trainExamples < 1 || data.testExamples < 0 { out.append("the data set sizes must be positive") }
    if let b = batchSize, b > data.trainExamples { out.append("batch size \(b) exceeds the \(data.trainExamples) training examples") }
    if data.measurementExamples < 1 || data.measurementExamples > data.trainExamples {
      out.append("measurement examples must be between 1 and the \(data.trainExamples) training examples (got \(data.measurementExamples))")
    }
    if measurement.lanczosIterations < 1 { out.append("Lanczos needs at least 1 iteration") }
    if !(measurement.lanczosTolerance > 0) { out.append("the Lanczos tolerance must be positive") }
    if case .sgd(let beta, _, _) = optimizer, !(beta >= 0 && beta < 1) { out.append("momentum must be in [0, 1) (got \(beta))") }
    return out
  }
}

// MARK: - Coding: defaults left out

extension TrainingRecipe: Codable {
  enum CodingKeys: String, CodingKey {
    case model, initScale, initMethod, initIterations, modelWidth, loss, optimizer, batchSize, steps, learningRate, warmup, decay, clipNorm, l2, data,
         measurement, evalEvery, targetAccuracy, seed
  }

  /// The values a field takes when absent from the JSON (and is left out at).
  static let defaults = TrainingRecipe(
    model: "", optimizer: .plainSGD, batchSize: nil, steps: 0, learningRate: 0,
    data: DataSpec(size: .tiny, trainExamples: 0, testExamples: 0, measurementExamples: 0),
    measurement: MeasurementPlan(schedule: .never, lanczosIterations: 0, lanczosTolerance: 0), seed: 0)

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let d = Self.defaults
    model = try c.decode(String.self, forKey: .model)
    initScale = try c.decodeIfPresent(Double.self, forKey: .initScale) ?? d.initScale
    initMethod = try c.decodeIfPresent(InitMethod.self, forKey: .initMethod) ?? d.initMethod
    initIterations = try c.decodeIfPresent(Int.self, forKey: .initIterations)
    modelWidth = try c.decodeIfPresent(Int.self, forKey: .modelWidth)
    loss = try c.decodeIfPresent(LossKind.self, forKey: .loss) ?? d.loss
    optimizer = try c.decode(OptimizerKind.self, forKey: .optimizer)
    batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize)
    steps = try c.decode(Int.self, forKey: .steps)
    learningRate = try c.decode(Double.self, forKey: .learningRate)
    warmup = try c.decodeIfPresent(Int.self, forKey: .warmup) ?? d.warmup
    decay = try c.decodeIfPresent(Decay.self, forKey: .decay) ?? d.decay
    clipNorm = try c.decodeIfPresent(Double.self, forKey: .clipNorm)
    l2 = try c.decodeIfPresent(Double.self, forKey: .l2) ?? d.l2
    data = try c.decode(DataSpec.self, forKey: .data)
    measurement = try c.decode(MeasurementPlan.self, forKey: .measurement)
    evalEvery = try c.decodeIfPresent(Int.self, forKey: .evalEvery) ?? d.evalEvery
    targetAccuracy = try c.decodeIfPresent(Double.self, forKey: .targetAccuracy)
    seed = try c.decode(UInt64.self, forKey: .seed)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    let d = Self.defaults
    try c.encode(model, forKey: .model)
    try c.encode(initScale, forKey: .initScale, unlessEqualTo: d.initScale)
    try c.encode(initMethod, forKey: .initMethod, unlessEqualTo: d.initMethod)
    try c.encodeIfPresent(initIterations, forKey: .initIterations)
    try c.encodeIfPresent(modelWidth, forKey: .modelWidth)
    try c.encode(loss, forKey: .loss, unlessEqualTo: d.loss)
    try c.encode(optimizer, forKey: .optimizer)
    // nil (full batch) is left out like the other defaults; every sweep so far names its batch.
    try c.encodeIfPresent(batchSize, forKey: .batchSize)
    try c.encode(steps, forKey: .steps)
    try c.encode(learningRate, forKey: .learningRate)
    try c.encode(warmup, forKey: .warmup, unlessEqualTo: d.warmup)
    try c.encode(decay, forKey: .decay, unlessEqualTo: d.decay)
    try c.encodeIfPresent(clipNorm, forKey: .clipNorm)
    try c.encode(l2, forKey: .l2, unlessEqualTo: d.l2)
    try c.encode(data, forKey: .data)
    try c.encode(measurement, forKey: .measurement)
    try c.encode(evalEvery, forKey: .evalEvery, unlessEqualTo: d.evalEvery)
    try c.encodeIfPresent(targetAccuracy, forKey: .targetAccuracy)
    try c.encode(seed, forKey: .seed)
  }
}

extension KeyedEncodingContainer {
  /// Encodes `value` unless it equals the field's default (which decoding restores).
  mutating func encode<T: Encodable & Equatable>(_ value: T, forKey key: Key, unlessEqualTo fallback: T) throws {
    if value != fallback { try encode(value, forKey: key) }
  }
}
