import Foundation
import ML

/// The sweep behind Figs 1–3: model rows × peak η × {no warmup, warmup} × seeds, trained with
/// SGD and heavy-ball momentum (images: Fashion-MNIST; language models: KJV characters), λ1
/// measured at initialization and at the mid-training step; plus a few "trace" runs that
/// measure λ1 all along training for the time-series panels.
public struct StabilitySettings: Codable, Hashable, Sendable, Overridable {
  /// Rows, as `ModelCatalog` ids; a suffix `-x<α>` scales the initialization by α (the paper's
  /// 1.5× init is `wrn-nobn-x1.5`).
  public var models: [String]
  public var learningRates: [Double]
  /// Warmup lengths in steps (0 = none).
  public var warmups: [Int]
  public var seeds: [Int]
  public var steps: Int
  public var batchSize: Int
  public var momentum: Double
  /// Nesterov momentum (the paper's ResNet and Transformer runs) instead of heavy ball.
  public var nesterov: Bool
  /// The model zoo's size, which fixes the data: tiny = 14×14 Fashion-MNIST, small = 28×28
  /// Fashion-MNIST, full = CIFAR-10 from `--data-dir` (and the language models' size).
  public var modelSize: ModelZoo.Size
  public var width: Int
  public var trainExamples: Int
  public var testExamples: Int
  /// Batch sizes of model families (`ModelCatalog.family`) that differ from `batchSize` (the
  /// paper's per-model batch sizes at full scale; nil elsewhere, so it leaves the keys of the
  /// smaller scales' runs alone).
  public var familyBatchSizes: [String: Int]?
  /// Batch and measurement set of the language models, in sequences.
  public var textBatchSize: Int
  public var textMeasurementSequences: Int
  /// The step whose λ1 the right-hand panels show (the paper's fixed mid-training step).
  public var midStep: Int
  /// Parameter snapshots for "λ1 before divergence": every snapshotEvery/4 steps until
  /// 2·snapshotEvery, then every snapshotEvery (the dense-early schedule, measured only for a
  /// run that diverges, at its last snapshot before the divergence).
  public var snapshotEvery: Int
  /// The rows Figs 1 and 3 compare: the plain model without normalization, the same with a
  /// flatter initialization, with the worse (scaled-up) initialization, and with normalization.
  public var roles: StabilityRoles
  /// λ1 every this many steps in a trace run (the follow-up runs Figs 1 and 3 pick from the
  /// grid and re-train with the full λ1 series).
  public var traceEvery: Int
  public var lanczosIterations: Int
  /// Lanczos stops once λ1's residual estimate is below this fraction of λ1.
  public var lanczosTolerance: Double
  public var measurementExamples: Int
  /// A run whose final training loss (mean of the last tenth of steps) exceeds this multiple of
  /// the smaller of its initial loss and the loss of the best constant prediction (the entropy
  /// of the training labels: ln 10 for balanced classes, the unigram entropy for text) did not
  /// train: so a run that collapsed to chance is not counted as trained, whatever its initial loss.
  public var notTrainedFactor: Double

  public static var fields: [ConfigField<StabilitySettings>] {
    [.strings("models", \.models, expected: "comma-separated model ids (\(ModelCatalog.ids.joined(separator: ", ")), each optionally -x<init scale>)",
              valid: { ModelCatalog.variant($0).isKnown }), .doubles("learningRates", \.learningRates), .ints("warmups", \.warmups),
     .ints("seeds", \.seeds), .int("steps", \.steps), .int("batchSize", \.batchSize), .double("momentum", \.momentum),
     .bool("nesterov", \.nesterov),
     .string("modelSize", \.modelSizeName, allowed: ModelZoo.Size.allCases.map(\.rawValue)), .int("width", \.width), .int("trainExamples", \.trainExamples),
     .int("testExamples", \.testExamples), .int("textBatchSize", \.textBatchSize),
     .int("textMeasurementSequences", \.textMeasurementSequences), .int("midStep", \.midStep),
     .int("snapshotEvery", \.snapshotEvery), .int("traceEvery", \.traceEvery),
     .int("lanczosIterations", \.lanczosIterations), .double("lanczosTolerance", \.lanczosTolerance),
     .int("measurementExamples", \.measurementExamples), .double("notTrainedFactor", \.notTrainedFactor)]
  }
}

extension StabilitySettings {
  /// `modelSize` as text, for `--set modelSize=small`.
  var modelSizeName: String {
    get { modelSize.rawValue }
    set { modelSize = ModelZoo.Size(rawValue: newValue) ?? modelSize }
  }
}

/// Which rows play the parts of Figs 1 and 3 (the paper: WRN without BN; MetaInit, for which
/// Fixup stands in until MetaInit lands; 1.5× init; WRN with BN).
public struct StabilityRoles: Codable, Hashable, Sendable {
  public var plain: String
  public var flatterInit: String
  public var worseInit: String
  public var normalized: String

  public var all: [String] { [plain, flatterInit, worseInit, normalized] }
}

/// One run of the sweep: everything that determines its outcome.
public struct StabilityRun: Codable, Hashable, Sendable {
  public var model: String
  public var learningRate: Double
  public var warmup: Int
  public var seed: Int
  public var initScale: Double
  /// λ1 measured every `traceEvery` steps (a trace run) rather than at init and mid-training.
  public var trace: Bool
  public var settings: StabilitySettings
}

/// What a run produced.
public struct StabilityOutcome: Codable, Sendable {
  public enum Status: String, Codable, Sendable { case trained, diverged, notTrained = "did not train" }
  public var status: Status
  public var lambdaInit: Double
  public var lambdaInitResidual: Double
  /// λ1 at the mid-training step, or for a diverged run the last scheduled λ1 before divergence.
  public var lambdaMid: Double?
  public var lambdaMidStep: Int?
  public var lambdaMidLearningRate: Double?
  public var divergenceStep: Int?
  public var initialLoss: Double
  /// The mean minibatch loss over the last tenth of training: the "final training loss" of
  /// the loss-vs-η panels, less noisy than one batch (nil for a diverged run).
  public var finalTrainLoss: Double?
  public var testLoss: Double?
  public var testAccuracy: Double?
  /// The λ1 series (step, η, λ1, residual): init, mid and the pre-divergence measurement, or
  /// the whole trace.
  public var sharpness: [SharpnessRecord]
  /// Every step's minibatch loss, for trace runs only (Figs 8 and 13 plot it).
  public var lossCurve: [Double]?
}

public enum StabilitySweep {
  /// The paper's Fig 2 rows at small scale, plus the cheap residual MLPs (no norm, LayerNorm),
  /// and Fixup as the flatter initialization of Fig 1 until MetaInit lands.
  static let smallModels = [
    "wrn-bn", "wrn-nobn", "wrn-nobn-x1.5", "wrn-fixup", "densenet-bn", "densenet-nobn", "resnet-post", "resnet-pre",
    "resnet-relu-bn", "lm-pre", "lm-post", "lm-none", "resmlp-none", "resmlp-ln",
  ]

  /// The sweep's settings per scale: one base, the scales as overrides of a few fields.
  public static func settings(for scale: ExperimentScale, seed: UInt64) -> StabilitySettings {
    let base = StabilitySettings(
      models: smallModels, learningRates: [0.01, 0.03, 0.1, 0.3, 1, 3, 10], warmups: [0, 50],
      seeds: [Int(seed)], steps: 200, batchSize: 64, momentum: 0.9, nesterov: false, modelSize: .tiny, width: 64,
      trainExamples: 2000, testExamples: 500, textBatchSize: 16, textMeasurementSequences: 32, midStep: 100,
      snapshotEvery: 20,
      roles: StabilityRoles(plain: "wrn-nobn", flatterInit: "wrn-fixup", worseInit: "wrn-nobn-x1.5", normalized: "wrn-bn"),
      traceEvery: 10, lanczosIterations: 20, lanczosTolerance: 1e-3, measurementExamples: 256, notTrainedFactor: 0.9)
    switch scale {
    case .tiny:
      var s = base
      s.models = ["mlp-relu", "resmlp-none", "resmlp-ln", "resmlp-fixup", "resmlp-none-x1.5"]
      s.roles = StabilityRoles(plain: "resmlp-none", flatterInit: "resmlp-fixup", worseInit: "resmlp-none-x1.5", normalized: "resmlp-ln")
      s.learningRates = [0.03, 0.3, 3]
      s.warmups = [0, 10]
      s.steps = 30
      s.batchSize = 32
      s.width = 16
      s.trainExamples = 200
      s.testExamples = 100
      s.midStep = 15
      s.snapshotEvery = 10
      s.traceEvery = 5
      s.lanczosIterations = 10
      s.measurementExamples = 64
      s.textMeasurementSequences = 16
      return s
    case .small:
      return base
    case .full:
      // The paper's protocol (Appendix E) on CIFAR-10 at CPU-cluster widths: Nesterov 0.9,
      // warmup 1000 then cosine, 40 Lanczos steps, the paper's batch sizes (WRN 1024,
      // DenseNet 512, ResNet-50 2048, Transformer 1024) and about its 300 WRN epochs.
      var s = base
      s.modelSize = .full
      s.nesterov = true
      s.width = 512
      s.trainExamples = 50000
      s.testExamples = 10000
      s.steps = 15000
      s.batchSize = 1024
      s.familyBatchSizes = ["densenet": 512, "resnet": 2048]
      s.textBatchSize = 1024
      s.warmups = [0, 1000]
      s.midStep = 5000
      s.snapshotEvery = 100
      s.traceEvery = 50
      s.lanczosIterations = 40
      s.measurementExamples = 2048
      s.textMeasurementSequences = 256
      s.learningRates = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]
      return s
    }
  }

  /// The grid runs of the models `keep` accepts (every model when nil).
  public static func runs(_ s: StabilitySettings, models keep: ((String) -> Bool)? = nil) -> [StabilityRun] {
    // Each run keeps only the settings that shape it, not the grid: extending the grid (one
    // more η, seed or row) keeps every stored run's key, and experiments sharing the sweep agree.
    var perRun = s
    perRun.models = []
    perRun.learningRates = []
    perRun.warmups = []
    perRun.seeds = []
    perRun.roles = StabilityRoles(plain: "", flatterInit: "", worseInit: "", normalized: "")
    var out: [StabilityRun] = []
    for model in s.models where keep?(model) ?? true {
      for eta in s.learningRates {
        for w in s.warmups {
          for seed in s.seeds {
            out.append(StabilityRun(model: model, learningRate: eta, warmup: w, seed: seed,
                                    initScale: ModelCatalog.variant(model).initScale, trace: false, settings: perRun))
          }
        }
      }
    }
    return out
  }

  /// The same run with λ1 measured every `traceEvery` steps (the same training trajectory:
  /// measuring does not touch the training state).
  public static func traced(_ r: StabilityRun) -> StabilityRun {
    var t = r
    t.trace = true
    return t
  }

  public static func label(_ r: StabilityRun) -> String {
    "\(r.model)_eta=\(r.learningRate)_w=\(r.warmup)_s=\(r.seed)\(r.trace ? "_trace" : "")"
  }

  public struct UnknownModel: Error, CustomStringConvertible {
    public let id: String
    public var description: String { "unknown model '\(id)' (known: \(ModelCatalog.ids.joined(separator: ", ")), each optionally with -x<init scale>)" }
  }

  public static func execute(_ r: StabilityRun, context: RunContext) throws -> StabilityOutcome {
    let s = r.settings
    let variant = ModelCatalog.variant(r.model)
    let data: (train: Dataset<Float>, test: Dataset<Float>)
    let network: Network
    let batchSize: Int, measurementExamples: Int
    if ModelCatalog.isLanguageModel(variant.id) {
      guard let n = ModelCatalog.languageModel(variant.id, size: s.modelSize) else { throw UnknownModel(id: r.model) }
      network = n
      data = try DataCache.shared.kingJamesWindows(length: ModelZoo.lmSequence(s.modelSize), train: s.trainExamples, test: s.testExamples)
      batchSize = s.textBatchSize
      measurementExamples = s.textMeasurementSequences
    } else {
      guard let n = ModelCatalog.network(variant.id, size: s.modelSize, classes: 10, width: s.width) else {
        throw UnknownModel(id: r.model)
      }
      network = n
      data = try DataCache.shared.images(size: s.modelSize, train: s.trainExamples, test: s.testExamples,
                                         dataDirectory: context.dataDirectory)
      batchSize = s.familyBatchSizes?[ModelCatalog.family(r.model)] ?? s.batchSize
      measurementExamples = s.measurementExamples
    }
    // The paper's schedule: linear warmup over W steps (none when W = 0), then cosine decay.
    let schedule = LearningRateSchedule.warmupCosine(peak: r.learningRate, warmupSteps: r.warmup, totalSteps: s.steps)
    // A trace measures every 2 steps over the first 10 too, where fast divergences happen.
    let sharpness = r.trace ? MeasurementSchedule(denseEvery: 2, denseUntil: min(10, s.traceEvery), every: s.traceEvery, extra: [s.midStep])
                            : MeasurementSchedule(every: Int.max, extra: [0, s.midStep])
    let config = TrainingConfig(
      steps: s.steps, batchSize: batchSize, schedule: schedule, optimizer: s.nesterov ? .nesterov(s.momentum) : .heavyBall(s.momentum),
      seed: UInt64(r.seed), initScale: r.initScale, sharpness: sharpness,
      lanczosIterations: s.lanczosIterations, lanczosTolerance: s.lanczosTolerance,
      divergenceSnapshots: MeasurementSchedule(denseEvery: max(1, s.snapshotEvery / 4), denseUntil: min(s.midStep, s.snapshotEvery * 2),
                                               every: s.snapshotEvery),
      measurementExamples: measurementExamples, evalEvery: s.steps, divergenceLoss: 1e4)
    let trainer = Trainer(network: network, config: config, train: data.train, test: data.test)
    let (record, _) = trainer.run { step, loss in context.progress(step, s.steps, loss) }
    let first = record.sharpness.first
    let initialLoss = record.steps.first?.loss ?? .nan
    let tail = record.steps.suffix(max(1, s.steps / 10)).map(\.loss)
    let finalTrainLoss = tail.reduce(0, +) / Double(max(tail.count, 1))
    var status: StabilityOutcome.Status = .trained
    if record.diverged {
      status = .diverged
    } else if !(finalTrainLoss <= s.notTrainedFactor * min(initialLoss, labelEntropy(data.train))) {
      status = .notTrained
    }
    // Mid-training λ1: the measurement at midStep; for a diverged run, the trainer's last
    // measurement strictly before divergence (the parameters one step before a NaN have
    // meaningless curvature).
    let mid: SharpnessRecord?
    if let d = record.divergence {
      mid = d.lastLambda1Step.flatMap { step in record.sharpness.first { $0.step == step } }
    } else {
      mid = record.sharpness.first { $0.step == s.midStep } ?? record.sharpness.last
    }
    return StabilityOutcome(
      status: status, lambdaInit: first?.lambda1 ?? .nan, lambdaInitResidual: first?.residual ?? .nan,
      lambdaMid: mid?.lambda1, lambdaMidStep: mid?.step, lambdaMidLearningRate: mid?.learningRate,
      divergenceStep: record.divergence?.step, initialLoss: initialLoss,
      finalTrainLoss: record.diverged ? nil : finalTrainLoss,
      testLoss: record.evals.last?.testLoss, testAccuracy: record.evals.last?.testAccuracy,
      sharpness: record.sharpness, lossCurve: r.trace ? record.steps.map(\.loss) : nil)
  }
}

/// The entropy (nats) of a data set's label frequencies: the loss of the best constant prediction.
func labelEntropy<S>(_ d: Dataset<S>) -> Double {
  var counts = [Double](repeating: 0, count: d.classes)
  for y in d.labels { counts[y] += 1 }
  let n = Double(d.labels.count)
  return counts.filter { $0 > 0 }.reduce(0) { $0 - $1 / n * log($1 / n) }
}

/// An experiment drawn from the stability sweep: Figs 1–3 share its settings, runs and
/// training, and differ only in what they draw and check.
public protocol StabilitySweepExperiment: Experiment
where Settings == StabilitySettings, Run == StabilityRun, Outcome == StabilityOutcome {}

extension StabilitySweepExperiment {
  public var sweepID: String { "stability" }
  public var resultsVersion: Int { 1 }

  /// Measured on 2 cores with the default --jobs 2 --threads 1, each experiment alone on an
  /// empty store (`repro all --small`, which trains the sweep once, took 499 s: fig1 169 s,
  /// then fig2 291 s and fig3 39 s for the runs fig1 had not trained).
  public func estimatedSeconds(_ scale: ExperimentScale) -> Double? {
    switch scale {
    case .tiny: return 3
    case .small: return ["fig1": 170, "fig2": 440, "fig3": 250][id]
    case .full: return nil
    }
  }

  public func settings(for scale: ExperimentScale, seed: UInt64) -> StabilitySettings {
    StabilitySweep.settings(for: scale, seed: seed)
  }
  public func label(_ r: StabilityRun) -> String { StabilitySweep.label(r) }
  public func execute(_ r: StabilityRun, settings: StabilitySettings, context: RunContext) throws -> StabilityOutcome {
    try StabilitySweep.execute(r, context: context)
  }

  public func summarize(_ o: StabilityOutcome) -> String {
    let mid = o.lambdaMid.map { String(format: "λ1 mid %.3g", $0) } ?? "no mid λ1"
    return "\(o.status.rawValue), λ1 init \(String(format: "%.3g", o.lambdaInit)), \(mid)"
  }
}
