import Foundation
import ML

/// The settings of fig4: each panel a model trained at one peak η with several warmup lengths,
/// λ1 measured densely through each warmup and for half as long again, sparsely after. The
/// optimizer, data and model sizes are the stability sweep's, so a panel's no-warmup run is the
/// run Fig 2 marks as failing at that η.
public struct WarmupSettings: Codable, Hashable, Sendable, Overridable {
  /// One panel per model (`ModelCatalog` ids, each optionally `-x<α>`).
  public var models: [String]
  /// The peak η of each panel, in the order of `models`.
  public var learningRates: [Double]
  /// Warmup lengths in steps, from none (or too short to save the run) to long.
  public var warmups: [Int]
  public var seed: Int
  public var steps: Int
  /// Examples per step of the MLP rows; `convBatchSize` for the convolutional families,
  /// `textBatchSize` (sequences) for the language models: the stability sweep's batches.
  public var batchSize: Int
  public var convBatchSize: Int
  public var textBatchSize: Int
  public var momentum: Double
  public var nesterov: Bool
  public var modelSize: ModelZoo.Size
  public var trainExamples: Int
  public var testExamples: Int
  public var measurementExamples: Int
  public var textMeasurementSequences: Int
  /// λ1 measurements per warmup (the issue's "about 20"): every warmup/this steps, through the
  /// warmup and half as long again.
  public var measurementsPerWarmup: Int
  /// After the dense part, λ1 every this many steps to the end.
  public var traceEvery: Int
  /// Parameters kept every this many steps, so that a run failing between measurements
  /// measures λ1 at the last of them before the failure.
  public var snapshotEvery: Int
  public var lanczosIterations: Int
  public var lanczosTolerance: Double

  public static var fields: [ConfigField<WarmupSettings>] {
    let count = 1...10_000_000
    return [
      .strings("models", \.models, expected: "comma-separated model ids (\(ModelCatalog.ids.joined(separator: ", ")), each optionally -x<init scale>)",
               valid: { ModelCatalog.variant($0).isKnown }),
      .doubles("learningRates", \.learningRates, in: 0...100, excluding: [0]), .ints("warmups", \.warmups, in: 0...10_000_000),
      .int("seed", \.seed, in: 0...Int(UInt32.max)), .int("steps", \.steps, in: count), .int("batchSize", \.batchSize, in: count),
      .int("convBatchSize", \.convBatchSize, in: count), .int("textBatchSize", \.textBatchSize, in: count),
      .double("momentum", \.momentum, in: 0...1, excluding: [1]), .bool("nesterov", \.nesterov),
      .string("modelSize", \.modelSizeName, allowed: ModelZoo.Size.allCases.map(\.rawValue)),
      .int("trainExamples", \.trainExamples, in: count), .int("testExamples", \.testExamples, in: 0...10_000_000),
      .int("measurementExamples", \.measurementExamples, in: count), .int("textMeasurementSequences", \.textMeasurementSequences, in: count),
      .int("measurementsPerWarmup", \.measurementsPerWarmup, in: 1...100_000), .int("traceEvery", \.traceEvery, in: count),
      .int("snapshotEvery", \.snapshotEvery, in: count),
      .int("lanczosIterations", \.lanczosIterations, in: 1...1000), .double("lanczosTolerance", \.lanczosTolerance, in: 0...1, excluding: [0])]
  }

  public var problems: [String] {
    var out: [String] = []
    if models.isEmpty || warmups.isEmpty { out.append("models and warmups must each list at least one value") }
    if models.count != learningRates.count {
      out.append("learningRates must give one peak η per model (\(models.count) models, \(learningRates.count) learning rates)")
    }
    if let w = warmups.first(where: { $0 > steps }) { out.append("warmup \(w) is longer than the \(steps)-step run") }
    if Set(warmups).count != warmups.count { out.append("warmups must not repeat a length") }
    return out
  }

  var modelSizeName: String {
    get { modelSize.rawValue }
    set { modelSize = ModelZoo.Size(rawValue: newValue) ?? modelSize }
  }

  /// The panels: (row, peak η) in order.
  public var panels: [(row: String, learningRate: Double)] { Array(zip(models, learningRates)) }

  public static func settings(for scale: ExperimentScale, seed: UInt64) -> WarmupSettings {
    // Small: the stability sweep's small scale (the whole 14×14 Fashion-MNIST training set,
    // 1 000 steps, heavy ball 0.9, cosine decay after warmup). Each panel's η is the smallest at
    // which the model fails without warmup: in Fig 2's grid, 0.1 for the residual MLP (λ1₀·η/2 =
    // 6.2) and 1 for the pre-LN Transformer (49). The pre-activation ResNet (BatchNorm, λ1₀ =
    // 1.6) trains without warmup at every η of that grid; probed at 5, 7, 10, 20 and 30 with
    // warmups up to 400, it first fails at 7 (collapses), and no warmup saves it there or above
    // (REPRODUCE.md).
    let small = WarmupSettings(
      models: ["resmlp-none", "lm-pre", "resnet-pre"], learningRates: [0.1, 1, 7], warmups: [0, 25, 50, 100, 200, 400],
      seed: Int(seed), steps: 1000, batchSize: 128, convBatchSize: 64, textBatchSize: 16, momentum: 0.9, nesterov: false,
      modelSize: .tiny, trainExamples: 60000, testExamples: 10000, measurementExamples: 1024, textMeasurementSequences: 128,
      measurementsPerWarmup: 20, traceEvery: 25, snapshotEvery: 5, lanczosIterations: 20, lanczosTolerance: 1e-3)
    switch scale {
    case .tiny:
      var s = small
      s.models = ["resmlp-none", "lm-pre"]
      s.learningRates = [0.03, 1]
      s.warmups = [0, 5, 20]
      s.steps = 40
      s.batchSize = 32
      s.textBatchSize = 8
      s.trainExamples = 400
      s.testExamples = 100
      s.measurementExamples = 64
      s.textMeasurementSequences = 16
      s.measurementsPerWarmup = 5
      s.traceEvery = 5
      s.lanczosIterations = 10
      return s
    case .small:
      return small
    case .full:
      // The paper's Fig 4 and 15 on CIFAR-10 and the KJV LM: the WRN without BN at peak 0.1
      // (Fig 15), the post-LN Transformer, the pre-activation ResNet; Nesterov, 15 000 steps,
      // warmups up to 4 000 steps (the panels' η still to be chosen by the small scale's rule on CIFAR-10).
      var s = small
      s.models = ["wrn-nobn", "lm-post", "resnet-pre"]
      s.learningRates = [0.1, 1, 3]
      s.warmups = [0, 250, 500, 1000, 2000, 4000]
      s.modelSize = .full
      s.nesterov = true
      s.steps = 15000
      s.batchSize = 1024
      s.convBatchSize = 1024
      s.textBatchSize = 1024
      s.trainExamples = 50000
      s.measurementExamples = 2048
      s.textMeasurementSequences = 256
      s.traceEvery = 250
      s.snapshotEvery = 20
      s.lanczosIterations = 40
      return s
    }
  }

  /// The run of `row` at peak `eta` with `warmup`: λ1 at step 0, then every warmup/N steps
  /// until 1.5× the warmup (every 2 over the first 20 steps without warmup, where fast
  /// divergences happen), then every `traceEvery`. `optimizer` replaces the momentum of these
  /// settings (fig14 trains the same plan with Adam).
  public func recipe(row: String, learningRate eta: Double, warmup: Int, optimizer: OptimizerKind? = nil) -> TrainingRecipe {
    let variant = ModelCatalog.variant(row)
    let language = ModelCatalog.isLanguageModel(variant.id)
    let conv = ["wrn", "resnet", "densenet"].contains(ModelCatalog.family(row))
    let batch = language ? textBatchSize : (conv ? convBatchSize : batchSize)
    let dense = warmup > 0 ? MeasurementSchedule(denseEvery: max(1, warmup / measurementsPerWarmup), denseUntil: warmup + warmup / 2,
                                                 every: traceEvery, extra: [0])
                           : MeasurementSchedule(denseEvery: 2, denseUntil: min(20, steps), every: traceEvery, extra: [0])
    let measurement = TrainingRecipe.MeasurementPlan(
      schedule: dense, snapshots: MeasurementSchedule(every: snapshotEvery), lanczosIterations: lanczosIterations,
      lanczosTolerance: lanczosTolerance)
    let data = TrainingRecipe.DataSpec(size: modelSize, trainExamples: trainExamples, testExamples: testExamples,
                                       measurementExamples: language ? textMeasurementSequences : measurementExamples)
    return TrainingRecipe(
      model: variant.id, initScale: variant.initScale, initMethod: variant.initMethod, optimizer: optimizer ?? (nesterov ? .nesterov(momentum) : .heavyBall(momentum)),
      batchSize: batch, steps: steps, learningRate: eta, warmup: warmup, data: data, measurement: measurement, seed: UInt64(seed))
  }

  public var runs: [TrainingRecipe] {
    panels.flatMap { p in warmups.sorted().map { recipe(row: p.row, learningRate: p.learningRate, warmup: $0) } }
  }
}
