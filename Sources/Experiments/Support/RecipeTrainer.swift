import Foundation
import ML

/// Trains recipes: the one training function every experiment's runs go through.
public enum RecipeTrainer {
  public struct InvalidRecipe: Error, CustomStringConvertible {
    public let problems: [String]
    public var description: String { "invalid training recipe: " + problems.joined(separator: "; ") }
  }

  /// Throws every distinct problem of `settingsProblems`, else of the recipes a sweep would
  /// train: one check, before any training, for every experiment.
  public static func validate(settingsProblems: [String], recipes: [TrainingRecipe]) throws {
    if !settingsProblems.isEmpty { throw InvalidRecipe(problems: settingsProblems) }
    var seen = Set<String>()
    let problems = recipes.flatMap(\.problems).filter { seen.insert($0).inserted }
    if !problems.isEmpty { throw InvalidRecipe(problems: problems) }
  }

  public struct UnknownModel: Error, CustomStringConvertible {
    public let id: String
    public var description: String {
      "unknown model '\(id)' (known: \(ModelCatalog.ids.joined(separator: ", ")), each optionally with -x<init scale>)"
    }
  }

  /// The network and data of a recipe.
  static func materials(_ r: TrainingRecipe, dataDirectory: String?) throws
    -> (network: Network, train: Dataset<Float>, test: Dataset<Float>)
  {
    var network: Network
    let data: DataCache.Split
    if r.isTranslationModel {
      let corpus = try DataCache.shared.translationCorpus(size: r.data.size)
      guard let n = ModelCatalog.translationModel(r.model, size: r.data.size, vocabulary: corpus.vocabulary.count) else {
        throw UnknownModel(id: r.model)
      }
      network = n
      data = try DataCache.shared.translation(size: r.data.size, train: r.data.trainExamples, test: r.data.testExamples)
    } else if r.isLanguageModel {
      guard let n = ModelCatalog.languageModel(r.model, size: r.data.size) else { throw UnknownModel(id: r.model) }
      network = n
      data = try DataCache.shared.kingJamesWindows(length: ModelZoo.lmSequence(r.data.size), train: r.data.trainExamples,
                                                   test: r.data.testExamples)
    } else {
      guard let n = ModelCatalog.network(r.model, size: r.data.size, classes: 10, width: r.modelWidth ?? 64) else { throw UnknownModel(id: r.model) }
      network = n
      data = try DataCache.shared.images(size: r.data.size, train: r.data.trainExamples, test: r.data.testExamples,
                                         dataDirectory: dataDirectory)
    }
    network.loss = r.loss
    network.l2 = r.l2
    return (network, data.train, data.test)
  }

  /// Trains `recipe` and classifies how it ended. `progress` sees (step, steps, loss).
  public static func train(_ recipe: TrainingRecipe, dataDirectory: String? = nil,
                           progress: ((Int, Int, Double) -> Void)? = nil) throws -> TrainingOutcome {
    try train(recipe, dataDirectory: dataDirectory, progress: progress, metaInitCache: .shared)
  }

  /// Trains `recipe` as one run of a sweep: its data directory, progress and checkpoints from `context`.
  public static func train(_ recipe: TrainingRecipe, context: RunContext) throws -> TrainingOutcome {
    try train(recipe, dataDirectory: context.dataDirectory, progress: context.progress, metaInitCache: .shared,
              checkpointDirectory: context.checkpointDirectory)
  }

  /// `train` with MetaInit's results kept in `metaInitCache` (tests pass a fresh one) and, with a
  /// `checkpointDirectory`, the run's checkpoints at every curvature measurement (`RunCheckpoints`).
  static func train(_ recipe: TrainingRecipe, dataDirectory: String?, progress: ((Int, Int, Double) -> Void)?,
                    metaInitCache: MetaInitCache, checkpointDirectory: String? = nil) throws -> TrainingOutcome {
    let problems = recipe.problems
    guard problems.isEmpty else { throw InvalidRecipe(problems: problems) }
    let (network, train, test) = try materials(recipe, dataDirectory: dataDirectory)
    let batch = recipe.batchSize ?? train.count
    guard batch <= train.count else {
      throw InvalidRecipe(problems: ["batch size \(batch) exceeds the \(train.count) training examples the data set has"])
    }
    let m = recipe.measurement
    var config = TrainingConfig(
      steps: recipe.steps, batchSize: batch, schedule: recipe.schedule, optimizer: recipe.optimizer, clipNorm: recipe.clipNorm,
      seed: recipe.seed, initScale: recipe.initScale, sharpness: m.schedule, lanczosIterations: m.lanczosIterations,
      lanczosTolerance: m.lanczosTolerance, divergenceSnapshots: m.snapshots,
      measurementExamples: min(recipe.data.measurementExamples, train.count),
      evalEvery: recipe.evalEvery > 0 ? recipe.evalEvery : recipe.steps, divergenceLoss: 1e4,
      targetAccuracy: recipe.targetAccuracy, ghostBatch: m.ghostBatch ?? batch)
    config.stopAtTarget = recipe.targetAccuracy != nil
    let chance = labelEntropy(train)
    let language = recipe.isLanguageModel || recipe.isTranslationModel
    let trainer = Trainer(network: network, config: config, train: train, test: test)
    let initialized = DataDrivenInit.run(recipe, network: network, train: train, trainer: trainer, cache: metaInitCache)
    var quotients: [TrainingOutcome.StepValue] = []
    let quotientBatch = DataDrivenInit.randomBatch(like: train, count: DataDrivenInit.metaInitBatch, seed: recipe.seed &+ 3000)
    let checkpoints = try checkpointDirectory.map {
      try RunCheckpoints(directory: $0, recipe: recipe, network: network, measurement: train.prefix(config.measurementExamples))
    }
    var checkpointError: Error?
    let measuresQuotient = recipe.measurement.gradientQuotient == true
    let atMeasurement: ((Int, [Tensor<Float>], AnyOptimizer<Float>) -> Void)? = measuresQuotient || checkpoints != nil ? { step, p, optimizer in
      if measuresQuotient {
        quotients.append(.init(step: step, value: DataDrivenInit.metaInit.gradientQuotient(network: network, parameters: p, batch: quotientBatch)))
      }
      do { try checkpoints?.write(step: step, learningRate: config.schedule(step), parameters: p, optimizer: optimizer) } catch {
        if checkpointError == nil { checkpointError = error }
      }
    } : nil
    let (record, finalParameters) = trainer.run(initialParameters: initialized?.parameters, progress: { step, loss in progress?(step, recipe.steps, loss) },
                                  atMeasurement: atMeasurement, failureStep: { rec in
      let losses = rec.steps.map(\.loss)
      let c = OutcomeRules.classify(losses: losses, initialLoss: losses.first ?? .nan, chanceLoss: chance, languageModel: language)
      return c.status == .collapsed ? c.failureStep : nil
    })
    if let checkpointError { throw checkpointError }
    let losses = record.steps.map(\.loss)
    let initial = losses.first ?? .nan
    var outcome = TrainingOutcome(
      status: .trained, failureStep: nil, measurements: record.sharpness, lastBeforeFailure: nil, initialLoss: initial,
      chanceLoss: chance, finalTrainLoss: nil, lossCurve: losses, evaluations: record.evals, stepsToTarget: record.stepsToTarget,
      initialization: initialized?.record,
      clippedFraction: recipe.clipNorm == nil || record.steps.isEmpty ? nil : Double(record.steps.filter(\.clipped).count) / Double(record.steps.count),
      midTrainingGradientNorm: quantile(sorted: record.steps[(record.steps.count / 4)..<(3 * record.steps.count / 4)].map(\.gradientNorm).filter(\.isFinite).sorted(), 0.5),
      gradientQuotients: measuresQuotient ? quotients : nil, initialGradientNorm: record.steps.first?.gradientNorm)
    if let d = record.divergence {
      outcome.status = .diverged
      outcome.failureStep = d.step
      outcome.lastBeforeFailure = record.sharpness.last { $0.step < d.step || $0.step == 0 }
    } else {
      let c = OutcomeRules.classify(losses: losses, initialLoss: initial, chanceLoss: chance, languageModel: language)
      outcome.status = c.status
      outcome.finalTrainLoss = c.finalLoss
      if c.status == .collapsed {
        outcome.failureStep = record.failureStep
        outcome.lastBeforeFailure = record.lastBeforeFailure
      }
    }
    if recipe.isTranslationModel, record.divergence == nil, recipe.data.testExamples > 0 {
      outcome.translation = try heldOutTranslation(recipe, network: network, parameters: finalParameters)
    }
    return outcome
  }

  /// BLEU of greedy translations of the first `testExamples` held-out pairs, with a few samples.
  static func heldOutTranslation(_ r: TrainingRecipe, network: Network, parameters: [Tensor<Float>]) throws
    -> TrainingOutcome.TranslationScore
  {
    let corpus = try DataCache.shared.translationCorpus(size: r.data.size)
    let held = Array(corpus.validation.prefix(r.data.testExamples))
    let outputs = network.greedyTranslate(parameters: parameters, buffers: network.initialBuffers(), sources: held.map(corpus.sourceRow),
                                          begin: BytePairEncoding.begin, end: BytePairEncoding.end, pad: BytePairEncoding.pad)
    let hypotheses = outputs.map { BytePairEncoding.words(corpus.vocabulary.decode($0)).joined(separator: " ") }
    let references = held.map(\.reference)
    let samples = stride(from: 0, to: held.count, by: max(1, held.count / TrainingOutcome.TranslationScore.sampleCount))
      .prefix(TrainingOutcome.TranslationScore.sampleCount)
      .map { TrainingOutcome.SampleTranslation(source: corpus.vocabulary.decode(held[$0].source), reference: references[$0], hypothesis: hypotheses[$0]) }
    return .init(bleu: Translation.bleu(hypotheses: hypotheses, references: references), sentences: held.count, samples: Array(samples))
  }
}

/// The entropy (nats) of a data set's label frequencies: the loss of the best constant prediction.
func labelEntropy<S>(_ d: Dataset<S>) -> Double {
  var counts = [Double](repeating: 0, count: d.classes)
  for y in d.labels { counts[y] += 1 }
  let n = Double(d.labels.count)
  return counts.filter { $0 > 0 }.reduce(0) { $0 - $1 / n * log($1 / n) }
}
