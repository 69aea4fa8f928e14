import Foundation
import ML

/// The sweep behind Figs 1–3: model rows × peak η × {no warmup, warmup} × seeds, trained with
/// SGD and heavy-ball momentum (images: Fashion-MNIST; language models: KJV characters), λ1
/// measured at initialization and at a few mid-training steps; plus a few "trace" runs that
/// measure λ1 all along training for the time-series panels. Every run is a `TrainingRecipe`.
public struct StabilitySettings: Codable, Hashable, Sendable, Overridable {
  /// Rows, as `ModelCatalog` ids; a suffix `-x<α>` scales the initialization by α (the paper's
  /// 1.5× init is `wrn-nobn-x1.5`).
  public var models: [String]
  public var learningRates: [Double]
  /// Warmup lengths in steps (0 = none).
  public var warmups: [Int]
  /// Seeds of the survey rows.
  public var seeds: [Int]
  /// Seeds of the role rows (Figs 1 and 3), whose boundaries are the majority outcome over them.
  public var roleSeeds: [Int]
  public var steps: Int
  public var batchSize: Int
  public var momentum: Double
  /// Nesterov momentum (the paper's ResNet and Transformer runs) instead of heavy ball.
  public var nesterov: Bool
  /// The model zoo's size, which fixes the data: tiny = 14×14 Fashion-MNIST, small = 28×28
  /// Fashion-MNIST, full = CIFAR-10 from `--data-dir` (and the language models' size).
  public var modelSize: ModelZoo.Size
  /// Hidden width of the plain MLP rows.
  public var width: Int
  public var trainExamples: Int
  public var testExamples: Int
  /// Batch sizes of model families (`ModelCatalog.family`) that differ from `batchSize` (the
  /// paper's per-model batch sizes at full scale; nil elsewhere).
  public var familyBatchSizes: [String: Int]?
  /// Batch and measurement set of the language models, in sequences.
  public var textBatchSize: Int
  public var textMeasurementSequences: Int
  /// The step whose λ1 the right-hand panels of Fig 2 show (the paper's fixed mid-training step).
  public var midStep: Int
  /// Every mid-training step at which each grid run measures λ1 (`midStep` among them).
  public var midSteps: [Int]
  /// Parameter snapshots for "λ1 before failure": every snapshotEvery/4 steps until
  /// 2·snapshotEvery, then every snapshotEvery (measured only for a run that fails, at its last
  /// snapshot before the failure).
  public var snapshotEvery: Int
  /// The rows Figs 1 and 3 compare: the plain model without normalization, the same with a
  /// flatter initialization, with the worse (scaled-up) initialization, and with normalization.
  public var roles: StabilityRoles
  /// λ1 every this many steps in a trace run (the follow-up runs Figs 1 and 3 pick from the
  /// grid and re-train with the full λ1 series).
  public var traceEvery: Int
  public var lanczosIterations: Int
  /// Every λ1's explicit residual is at most this fraction of λ1, or it is flagged unconverged.
  public var lanczosTolerance: Double
  public var measurementExamples: Int
  /// Iterations of MetaInit and GradInit for the `+metainit` / `+gradinit` rows.
  public var initIterations: Int

  public static var fields: [ConfigField<StabilitySettings>] {
    // Each range is what a run can do at all; how fields must agree (warmup ≤ steps, batch ≤
    // training set) is checked by `problems` and each recipe's `problems`.
    let count = 1...10_000_000
    return [
      .strings("models", \.models, expected: "comma-separated model ids (\(ModelCatalog.ids.joined(separator: ", ")), each optionally -x<init scale>)",
               valid: { ModelCatalog.variant($0).isKnown }),
      .doubles("learningRates", \.learningRates, in: 0...100, excluding: [0]), .ints("warmups", \.warmups, in: 0...10_000_000),
      .ints("seeds", \.seeds, in: 0...Int(UInt32.max)), .ints("roleSeeds", \.roleSeeds, in: 0...Int(UInt32.max)),
      .int("steps", \.steps, in: count), .int("batchSize", \.batchSize, in: count),
      .double("momentum", \.momentum, in: 0...1, excluding: [1]), .bool("nesterov", \.nesterov),
      .string("modelSize", \.modelSizeName, allowed: ModelZoo.Size.allCases.map(\.rawValue)), .int("width", \.width, in: 1...65536),
      .int("trainExamples", \.trainExamples, in: count), .int("testExamples", \.testExamples, in: 0...10_000_000),
      .int("textBatchSize", \.textBatchSize, in: count), .int("textMeasurementSequences", \.textMeasurementSequences, in: count),
      .int("midStep", \.midStep, in: count), .ints("midSteps", \.midSteps, in: count),
      .int("snapshotEvery", \.snapshotEvery, in: count), .int("traceEvery", \.traceEvery, in: count),
      .int("lanczosIterations", \.lanczosIterations, in: 1...1000), .double("lanczosTolerance", \.lanczosTolerance, in: 0...1, excluding: [0]),
      .int("measurementExamples", \.measurementExamples, in: count), .int("initIterations", \.initIterations, in: 1...100_000)]
  }

  /// What is wrong with the settings (checked before any training).
  public var problems: [String] {
    var out: [String] = []
    if models.isEmpty || learningRates.isEmpty || warmups.isEmpty || seeds.isEmpty || roleSeeds.isEmpty {
      out.append("models, learningRates, warmups, seeds and roleSeeds must each list at least one value")
    }
    if snapshotEvery < 1 || traceEvery < 1 { out.append("snapshotEvery and traceEvery must be at least 1") }
    if !(midStep > 0 && midStep < steps) { out.append("midStep must lie inside the run (1…\(steps - 1), got \(midStep))") }
    if !midSteps.contains(midStep) { out.append("midSteps must contain midStep \(midStep)") }
    if midSteps.contains(where: { $0 <= 0 || $0 >= steps }) { out.append("every mid step must lie inside the run (1…\(steps - 1))") }
    if width < 1 || textBatchSize < 1 || textMeasurementSequences < 1 { out.append("width and the text batch sizes must be at least 1") }
    if let w = warmups.first(where: { $0 > steps }) { out.append("warmup \(w) is longer than the \(steps)-step run") }
    let batches = [batchSize] + (familyBatchSizes.map { Array($0.values) } ?? [])
    if let b = batches.first(where: { $0 > trainExamples }) {
      out.append("batch size \(b) exceeds the \(trainExamples) training examples (trainExamples)")
    }
    if measurementExamples > trainExamples {
      out.append("measurementExamples \(measurementExamples) exceeds the \(trainExamples) training examples (trainExamples)")
    }
    return out
  }
}

extension StabilitySettings {
  /// `modelSize` as text, for `--set modelSize=small`.
  var modelSizeName: String {
    get { modelSize.rawValue }
    set { modelSize = ModelZoo.Size(rawValue: newValue) ?? modelSize }
  }
}

/// Which rows play the parts of Figs 1 and 3 (the paper: WRN without BN; the same with
/// MetaInit; 1.5× init; WRN with BN).
public struct StabilityRoles: Codable, Hashable, Sendable {
  public var plain: String
  public var flatterInit: String
  public var worseInit: String
  public var normalized: String

  public var all: [String] { [plain, flatterInit, worseInit, normalized] }
}

public enum StabilitySweep {
  /// The paper's Fig 2 rows at small scale (the survey), with the role rows of Figs 1 and 3:
  /// the residual MLP without normalization (plain), with MetaInit (the flatter init, as the
  /// paper's), with the 1.5× init, and with BatchNorm; its Fixup and LayerNorm variants.
  static let smallModels = [
    "resmlp-none", "resmlp-none+metainit", "resmlp-none-x1.5", "resmlp-bn", "resmlp-fixup", "resmlp-ln",
    "wrn-bn", "wrn-nobn", "wrn-nobn-x1.5", "wrn-nobn+metainit", "wrn-fixup", "densenet-bn", "densenet-nobn", "resnet-post",
    "resnet-pre", "resnet-relu-bn", "lm-pre", "lm-post", "lm-none",
  ]

  /// The sweep's settings per scale: one base, the scales as overrides of a few fields.
  public static func settings(for scale: ExperimentScale, seed: UInt64) -> StabilitySettings {
    let base = Int(seed)
    // Small: the whole Fashion-MNIST training set at 14×14, 1 000 steps of batch 128 (about two
    // epochs, to a test accuracy near 87 %; the survey's convolutional rows at batch 64), a
    // warmup of a fifth of the run, λ1 on 1 024 fixed examples (REPRODUCE.md: how this was
    // chosen).
    let small = StabilitySettings(
      models: smallModels, learningRates: [0.01, 0.03, 0.1, 0.3, 1, 3], warmups: [0, 200],
      seeds: [base], roleSeeds: [base, base + 1, base + 2], steps: 1000, batchSize: 128, momentum: 0.9, nesterov: false,
      modelSize: .tiny, width: 64, trainExamples: 60000, testExamples: 10000,
      // The survey's convolutional rows at batch 64: at 128 they alone took about 30 of fig2's
      // minutes on 2 cores; the paper too trained its families at different batch sizes.
      familyBatchSizes: ["wrn": 64, "densenet": 64, "resnet": 64], textBatchSize: 16, textMeasurementSequences: 128,
      midStep: 500, midSteps: [250, 500], snapshotEvery: 40,
      roles: StabilityRoles(plain: "resmlp-none", flatterInit: "resmlp-none+metainit", worseInit: "resmlp-none-x1.5", normalized: "resmlp-bn"),
      traceEvery: 10, lanczosIterations: 20, lanczosTolerance: 1e-3, measurementExamples: 1024,
      initIterations: DataDrivenInit.defaultIterations)
    switch scale {
    case .tiny:
      var s = small
      s.models = ["mlp-relu", "resmlp-none", "resmlp-ln", "resmlp-fixup", "resmlp-none+metainit", "resmlp-none-x1.5"]
      s.roles = StabilityRoles(plain: "resmlp-none", flatterInit: "resmlp-none+metainit", worseInit: "resmlp-none-x1.5", normalized: "resmlp-ln")
      s.initIterations = 20
      s.learningRates = [0.03, 0.3, 3]
      s.warmups = [0, 10]
      s.roleSeeds = [base]
      s.familyBatchSizes = nil
      s.steps = 40
      s.batchSize = 32
      s.width = 16
      s.trainExamples = 400
      s.testExamples = 100
      s.midStep = 20
      s.midSteps = [20, 30]
      s.snapshotEvery = 8
      s.traceEvery = 5
      s.lanczosIterations = 10
      s.measurementExamples = 64
      s.textMeasurementSequences = 16
      return s
    case .small:
      return small
    case .full:
      // The paper's protocol (Appendix E) on CIFAR-10 at CPU-cluster widths: Nesterov 0.9,
      // warmup 1000 then cosine, 40 Lanczos steps, the paper's batch sizes (WRN 1024,
      // DenseNet 512, ResNet-50 2048, Transformer 1024) and about its 300 WRN epochs.
      var s = small
      s.models = ["wrn-bn", "wrn-nobn", "wrn-nobn-x1.5", "wrn-nobn+metainit", "wrn-fixup", "densenet-bn", "densenet-nobn", "resnet-post",
                  "resnet-pre", "resnet-relu-bn", "lm-pre", "lm-post", "lm-none"]
      s.roles = StabilityRoles(plain: "wrn-nobn", flatterInit: "wrn-nobn+metainit", worseInit: "wrn-nobn-x1.5", normalized: "wrn-bn")
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
      s.midSteps = [2500, 5000]
      s.snapshotEvery = 100
      s.traceEvery = 50
      s.lanczosIterations = 40
      s.measurementExamples = 2048
      s.textMeasurementSequences = 256
      s.learningRates = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10]
      return s
    }
  }

  /// The grid runs of the models `keep` accepts (every model when nil): the role rows with
  /// `roleSeeds`, the others with `seeds`.
  public static func runs(_ s: StabilitySettings, models keep: ((String) -> Bool)? = nil) -> [TrainingRecipe] {
    var out: [TrainingRecipe] = []
    for model in s.models where keep?(model) ?? true {
      let seeds = s.roles.all.contains(model) ? s.roleSeeds : s.seeds
      for eta in s.learningRates {
        for w in s.warmups {
          for seed in seeds { out.append(recipe(s, row: model, learningRate: eta, warmup: w, seed: seed, trace: false)) }
        }
      }
    }
    return out
  }

  /// One run of the sweep as a recipe. A grid run measures λ1 at initialization and at the mid
  /// steps (and, if it fails, at its last snapshot before the failure); a trace measures every
  /// `traceEvery` steps, every 2 over the first 10 (where fast divergences happen).
  public static func recipe(_ s: StabilitySettings, row: String, learningRate: Double, warmup: Int, seed: Int,
                            trace: Bool) -> TrainingRecipe {
    let variant = ModelCatalog.variant(row)
    let language = ModelCatalog.isLanguageModel(variant.id)
    let batch = language ? s.textBatchSize : (s.familyBatchSizes?[ModelCatalog.family(row)] ?? s.batchSize)
    let schedule = trace ? MeasurementSchedule(denseEvery: 2, denseUntil: min(10, s.traceEvery), every: s.traceEvery, extra: s.midSteps)
                         : MeasurementSchedule(every: Int.max, extra: [0] + s.midSteps)
    let snapshots = MeasurementSchedule(denseEvery: max(1, s.snapshotEvery / 4), denseUntil: 2 * s.snapshotEvery, every: s.snapshotEvery)
    let measurement = TrainingRecipe.MeasurementPlan(
      schedule: schedule, snapshots: snapshots, lanczosIterations: s.lanczosIterations, lanczosTolerance: s.lanczosTolerance)
    let data = TrainingRecipe.DataSpec(size: s.modelSize, trainExamples: s.trainExamples, testExamples: s.testExamples,
                                       measurementExamples: language ? s.textMeasurementSequences : s.measurementExamples)
    var r = TrainingRecipe(
      model: variant.id, initScale: variant.initScale, initMethod: variant.initMethod, modelWidth: variant.id.hasPrefix("mlp-") ? s.width : nil,
      optimizer: s.nesterov ? .nesterov(s.momentum) : .heavyBall(s.momentum), batchSize: batch, steps: s.steps,
      learningRate: learningRate, warmup: warmup, data: data, measurement: measurement, seed: UInt64(seed))
    if variant.initMethod != .standard, s.initIterations != DataDrivenInit.defaultIterations { r.initIterations = s.initIterations }
    return r
  }

  /// The same run with λ1 measured every `traceEvery` steps (the same training trajectory:
  /// measuring does not touch the training state).
  public static func traced(_ r: TrainingRecipe, _ s: StabilitySettings) -> TrainingRecipe {
    recipe(s, row: r.row, learningRate: r.learningRate, warmup: r.warmup, seed: Int(r.seed), trace: true)
  }

  public static func label(_ r: TrainingRecipe) -> String {
    "\(r.row)_eta=\(r.learningRate)_w=\(r.warmup)_s=\(r.seed)\(r.measurement.isTrace ? "_trace" : "")"
  }
}

/// An experiment drawn from the stability sweep: Figs 1–3 share its settings, runs and
/// training, and differ only in what they draw and check.
public protocol StabilitySweepExperiment: Experiment
where Settings == StabilitySettings, Run == TrainingRecipe, Outcome == TrainingOutcome {}

extension StabilitySweepExperiment {
  public var sweepID: String { "stability" }
  /// 2: the runs are recipes, classified by `OutcomeRules` (collapse, under-trained).
  public var resultsVersion: Int { 2 }

  /// Measured on 2 cores with the default --jobs 2 --threads 1, each experiment alone on an
  /// empty store (REPRODUCE.md gives the run of `repro all --small`).
  public func estimatedSeconds(_ scale: ExperimentScale) -> Double? {
    switch scale {
    case .tiny: return 3
    // 2026-12-07, 2-core Xeon (SkylakeX kernels), within `repro all` from an empty store: fig1
    // 62 s, fig2 23.8 min after fig1, fig3 17 s after both (alone, its grid's runs sum to about
    // 8 core-minutes).
    case .small: return ["fig1": 62, "fig2": 1427, "fig3": 280][id]
    case .full: return nil
    }
  }

  public func settings(for scale: ExperimentScale, seed: UInt64) -> StabilitySettings {
    StabilitySweep.settings(for: scale, seed: seed)
  }
  /// The settings, then every run they make (grid and traces), are checked before any training.
  public func validate(_ s: StabilitySettings) throws {
    // Settings problems first: recipes from bad settings (no models, say) say less.
    guard s.problems.isEmpty else { throw RecipeTrainer.InvalidRecipe(problems: s.problems) }
    let grid = runs(s)
    try RecipeTrainer.validate(settingsProblems: [], recipes: grid + grid.prefix(1).map { StabilitySweep.traced($0, s) })
  }
  public func label(_ r: TrainingRecipe) -> String { StabilitySweep.label(r) }
  public func execute(_ r: TrainingRecipe, settings: StabilitySettings, context: RunContext) throws -> TrainingOutcome {
    try RecipeTrainer.train(r, context: context)
  }

  public func summarize(_ o: TrainingOutcome) -> String {
    var parts = [o.status.rawValue + (o.failureStep.map { " at step \($0)" } ?? "")]
    if let m = o.measurements.first, m.step == 0 { parts.append(String(format: "λ1 init %.3g", m.lambda1)) }
    if let m = o.lastBeforeFailure { parts.append(String(format: "λ1 %.3g at step %d before failing", m.lambda1, m.step)) }
    return parts.joined(separator: ", ")
  }
}
