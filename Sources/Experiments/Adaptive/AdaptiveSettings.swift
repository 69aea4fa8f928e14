import Foundation
import ML

/// The settings of fig14: Adam's preconditioned sharpness λ1(P^-1/2 H P^-1/2), P = √v̂ + ε.
/// The adaptive edge of stability (Cohen et al. 2022): a small MLP trained by full-batch Adam
/// with constant η on a few thousand Fashion-MNIST images, with the squared loss (Cohen et al.'s
/// choice: with cross-entropy the sharpness decays late as the loss goes to zero; that is shown
/// too, as a second panel), at several η and for a β1 sweep at one η. And the paper's Fig 14
/// proper: a Transformer LM trained by minibatch Adam at one peak η with several warmup lengths,
/// on fig4's measurement plan (dense through each warmup), the preconditioned λ1 against 38/η_t.
public struct AdaptiveSettings: Codable, Hashable, Sendable, Overridable {
  /// `mlp-tanh` or `mlp-relu`, of hidden width `width`.
  public var model: String
  public var width: Int
  /// Full batch: every step uses all of these (the measurement set is the same examples).
  public var examples: Int
  public var testExamples: Int
  public var modelSize: ModelZoo.Size
  public var steps: Int
  /// Peak η of the squared-loss runs at β1 = `beta1`.
  public var learningRates: [Double]
  public var beta1: Double
  /// The β1 sweep, at η = `sweepLearningRate`: the threshold (2 + 2β1)/((1 − β1)η) is the formula,
  /// not a constant.
  public var sweepBetas: [Double]
  public var sweepLearningRate: Double
  /// η of the cross-entropy panel (β1 = `beta1`).
  public var crossEntropyLearningRates: [Double]
  public var beta2: Double
  public var epsilon: Double
  /// λ1 and the preconditioned λ1 every this many steps.
  public var traceEvery: Int
  public var lanczosIterations: Int
  public var lanczosTolerance: Double
  public var seed: Int
  /// Fig 14 proper: the language model (`ModelCatalog` id), its peak η, warmup lengths, and
  /// fig4's plan for the rest (steps, sequences per batch, training windows, measurement
  /// sequences, measurements per warmup, λ1 every `lmTraceEvery` after, snapshots).
  public var lmModel: String
  public var lmLearningRate: Double
  public var lmWarmups: [Int]
  public var lmSteps: Int
  public var lmBatchSize: Int
  public var lmTrainExamples: Int
  public var lmMeasurementSequences: Int
  public var lmMeasurementsPerWarmup: Int
  public var lmTraceEvery: Int
  public var lmSnapshotEvery: Int

  public static var fields: [ConfigField<AdaptiveSettings>] {
    let count = 1...10_000_000
    return [
      .string("model", \.model, allowed: ["mlp-tanh", "mlp-relu"]), .int("width", \.width, in: 1...65536),
      .int("examples", \.examples, in: count), .int("testExamples", \.testExamples, in: 0...10_000_000),
      .string("modelSize", \.modelSizeName, allowed: ModelZoo.Size.allCases.map(\.rawValue)), .int("steps", \.steps, in: count),
      .doubles("learningRates", \.learningRates, in: 0...100, excluding: [0]), .double("beta1", \.beta1, in: 0...1, excluding: [1]),
      .doubles("sweepBetas", \.sweepBetas, in: 0...1, excluding: [1]), .double("sweepLearningRate", \.sweepLearningRate, in: 0...100, excluding: [0]),
      .doubles("crossEntropyLearningRates", \.crossEntropyLearningRates, in: 0...100, excluding: [0]),
      .double("beta2", \.beta2, in: 0...1, excluding: [1]), .double("epsilon", \.epsilon, in: 0...1, excluding: [0]),
      .int("traceEvery", \.traceEvery, in: count), .int("lanczosIterations", \.lanczosIterations, in: 1...1000),
      .double("lanczosTolerance", \.lanczosTolerance, in: 0...1, excluding: [0]), .int("seed", \.seed, in: 0...Int(UInt32.max)),
      .string("lmModel", \.lmModel, allowed: ModelCatalog.ids.filter(ModelCatalog.isLanguageModel)),
      .double("lmLearningRate", \.lmLearningRate, in: 0...100, excluding: [0]), .ints("lmWarmups", \.lmWarmups, in: 0...10_000_000),
      .int("lmSteps", \.lmSteps, in: count), .int("lmBatchSize", \.lmBatchSize, in: count), .int("lmTrainExamples", \.lmTrainExamples, in: count),
      .int("lmMeasurementSequences", \.lmMeasurementSequences, in: count),
      .int("lmMeasurementsPerWarmup", \.lmMeasurementsPerWarmup, in: 1...100_000), .int("lmTraceEvery", \.lmTraceEvery, in: count),
      .int("lmSnapshotEvery", \.lmSnapshotEvery, in: count)]
  }

  var modelSizeName: String {
    get { modelSize.rawValue }
    set { modelSize = ModelZoo.Size(rawValue: newValue) ?? modelSize }
  }

  public var problems: [String] {
    (learningRates.isEmpty ? ["learningRates must list at least one η"] : []) + lmPlan.problems.map { "lm: " + $0 }
  }

  /// The LM runs' plan, in fig4's terms (one panel: `lmModel` at `lmLearningRate`).
  public var lmPlan: WarmupSettings {
    WarmupSettings(
      models: [lmModel], learningRates: [lmLearningRate], warmups: lmWarmups, seed: seed, steps: lmSteps, batchSize: lmBatchSize,
      convBatchSize: lmBatchSize, textBatchSize: lmBatchSize, momentum: 0, nesterov: false, modelSize: modelSize,
      trainExamples: lmTrainExamples, testExamples: testExamples, measurementExamples: lmMeasurementSequences,
      textMeasurementSequences: lmMeasurementSequences, measurementsPerWarmup: lmMeasurementsPerWarmup, traceEvery: lmTraceEvery,
      snapshotEvery: lmSnapshotEvery, lanczosIterations: lanczosIterations, lanczosTolerance: lanczosTolerance)
  }

  /// Adam at `beta1`, as the full-batch runs.
  public var adam: OptimizerKind { .adam(beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: 0) }

  public static func settings(for scale: ExperimentScale, seed: UInt64) -> AdaptiveSettings {
    // Small: a tanh MLP 196-64-64-10 on 4 000 14×14 Fashion-MNIST images, full batch, 3 000
    // steps of constant η, λ1 every 50 steps. The η are those at which the preconditioned
    // sharpness reaches its threshold within the run: probed for 1 000 steps, η = 1e-4, 2e-4 and
    // 1e-3 were still sharpening (0.04, 0.09, 0.70 of 38/η at the end), 1e-2 reached it at step
    // 250 (REPRODUCE.md).
    // Fig 14 proper, small: the post-LN Transformer LM (tiny: width 32, 2 layers, context 32) by
    // minibatch Adam, 64 sequences a batch, 1 500 steps, warmups 0–1 000. Probed for 1 000
    // steps (REPRODUCE.md): at 16 sequences a batch the preconditioned λ1 sits at 0.2–0.5 of
    // 38/η_t through a warmup (Cohen et al.: the AEoS appears as the batch grows), at 64 at
    // 0.5–1; at 64, peak 0.05 met no instability in any warmup, 0.1 one in every warmup of 400
    // and more by η_t ≈ 0.065, and 0.07 both (warmup 100 trained; 1 000 spiked at step ~820
    // and recovered); without warmup every peak from 0.03 collapsed to the unigram loss at once.
    let small = AdaptiveSettings(
      model: "mlp-tanh", width: 64, examples: 4000, testExamples: 2000, modelSize: .tiny, steps: 3000,
      learningRates: [2e-3, 5e-3, 1e-2, 2e-2], beta1: 0.9, sweepBetas: [0, 0.5], sweepLearningRate: 1e-2,
      crossEntropyLearningRates: [1e-2], beta2: 0.999, epsilon: 1e-8, traceEvery: 50, lanczosIterations: 30,
      lanczosTolerance: 1e-3, seed: Int(seed),
      lmModel: "lm-post", lmLearningRate: 7e-2, lmWarmups: [0, 100, 400, 1000], lmSteps: 1500, lmBatchSize: 64, lmTrainExamples: 60000,
      lmMeasurementSequences: 128, lmMeasurementsPerWarmup: 20, lmTraceEvery: 25, lmSnapshotEvery: 5)
    switch scale {
    case .tiny:
      var s = small
      s.width = 16
      s.examples = 200
      s.testExamples = 100
      s.steps = 60
      s.learningRates = [1e-2, 3e-2]
      s.sweepLearningRate = 1e-2
      s.sweepBetas = [0]
      s.crossEntropyLearningRates = [1e-2]
      s.traceEvery = 10
      s.lanczosIterations = 15
      s.lmModel = "lm-pre"
      s.lmWarmups = [0, 10]
      s.lmSteps = 30
      s.lmBatchSize = 8
      s.lmTrainExamples = 400
      s.lmMeasurementSequences = 16
      s.lmMeasurementsPerWarmup = 5
      s.lmTraceEvery = 5
      return s
    case .small:
      return small
    case .full:
      // Cohen et al. 2022's scale: 5 000 images (CIFAR-10 at full scale), a wider MLP, longer.
      var s = small
      s.modelSize = .full
      s.width = 512
      s.examples = 5000
      s.steps = 10000
      s.traceEvery = 100
      s.lanczosIterations = 40
      // The paper's Fig 14: the Transformer on the LM corpus, warmups up to 4 000 steps (peak η
      // still the small scale's 0.07: at full scale it is to be chosen by the same probes).
      s.lmWarmups = [0, 250, 500, 1000, 2000, 4000]
      s.lmSteps = 15000
      s.lmBatchSize = 1024
      s.lmMeasurementSequences = 256
      s.lmTraceEvery = 250
      s.lmSnapshotEvery = 20
      return s
    }
  }

  /// A full-batch Adam run with constant η and λ1 every `traceEvery` steps.
  public func recipe(learningRate eta: Double, beta1 b1: Double, loss: LossKind) -> TrainingRecipe {
    let measurement = TrainingRecipe.MeasurementPlan(
      schedule: MeasurementSchedule(every: traceEvery), lanczosIterations: lanczosIterations, lanczosTolerance: lanczosTolerance)
    return TrainingRecipe(
      model: model, modelWidth: width, loss: loss, optimizer: .adam(beta1: b1, beta2: beta2, epsilon: epsilon, weightDecay: 0),
      batchSize: nil, steps: steps, learningRate: eta, decay: .constant,
      data: TrainingRecipe.DataSpec(size: modelSize, trainExamples: examples, testExamples: testExamples, measurementExamples: examples),
      measurement: measurement, seed: UInt64(seed))
  }

  /// Every run: the full-batch ones, then the LM's warmups.
  public var runs: [TrainingRecipe] { fullBatchRuns + lmRuns }

  /// Fig 14 proper: the LM at its peak η, each warmup length, shortest first.
  public var lmRuns: [TrainingRecipe] {
    lmWarmups.sorted().map { lmPlan.recipe(row: lmModel, learningRate: lmLearningRate, warmup: $0, optimizer: adam) }
  }

  /// The full-batch runs: squared loss per η, the β1 sweep, cross-entropy (each once).
  public var fullBatchRuns: [TrainingRecipe] {
    var out = learningRates.map { recipe(learningRate: $0, beta1: beta1, loss: .meanSquaredError) }
    out += sweepBetas.filter { $0 != beta1 || !learningRates.contains(sweepLearningRate) }
      .map { recipe(learningRate: sweepLearningRate, beta1: $0, loss: .meanSquaredError) }
    out += crossEntropyLearningRates.map { recipe(learningRate: $0, beta1: beta1, loss: .crossEntropy(labelSmoothing: 0)) }
    var seen = Set<TrainingRecipe>()
    return out.filter { seen.insert($0).inserted }
  }
}
