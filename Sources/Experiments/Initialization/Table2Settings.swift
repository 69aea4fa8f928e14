import Foundation
import ML

/// One arm of table2: a row of the model catalog (with its `-x<α>` init scale and
/// `+metainit` / `+gradinit` suffix) trained with `warmup` steps of linear warmup and, for the
/// translation arms, Adam with gradient clipping. Written `row` or `row@w<warmup>`
/// ("resmlp-none@w200", "wrn-nobn+metainit", "mt-none-x0.25@w400").
public struct Table2Arm: Codable, Hashable, Sendable {
  public var row: String
  public var warmup: Int

  public init(row: String, warmup: Int = 0) { self.row = row; self.warmup = warmup }

  public init?(_ spec: String) {
    let parts = spec.components(separatedBy: "@w")
    guard parts.count <= 2, ModelCatalog.variant(parts[0]).isKnown else { return nil }
    row = parts[0]
    if parts.count == 2 {
      guard let w = Int(parts[1]), w >= 0 else { return nil }
      warmup = w
    } else {
      warmup = 0
    }
  }

  public var spec: String { warmup > 0 ? "\(row)@w\(warmup)" : row }
  public var variant: ModelCatalog.Variant { ModelCatalog.variant(row) }
  /// The family that compares its arms (`ModelCatalog.family`: resmlp, wrn, mt).
  public var family: String { ModelCatalog.family(row) }

  /// "warmup 200", "MetaInit", "Fixup", "GradInit", "LayerNorm", "warmup 400 + clip + 0.25× init".
  public func method(clip: Double?) -> String {
    let v = variant
    var parts: [String] = []
    if warmup > 0 { parts.append("warmup \(warmup)") }
    if let c = clip { parts.append("clip \(StabilityClaims.fmt(c))") }
    if v.initScale != 1 { parts.append("\(StabilityClaims.fmt(v.initScale))× init") }
    switch v.initMethod {
    case .metaInit: parts.append("MetaInit")
    case .gradInit: parts.append("GradInit")
    case .standard: break
    }
    if v.id.hasSuffix("-fixup") { parts.append("Fixup") }
    if v.id.hasSuffix("-pre") || v.id.hasSuffix("-post") || v.id.hasSuffix("-ln") { parts.append("LayerNorm") }
    return parts.isEmpty ? "default init" : parts.joined(separator: " + ")
  }
}

/// The settings of table2 (the paper's Table 2: "learning rate warmup can match the performance
/// of recent advances in initialization research").
///
/// Images: residual networks without normalization, each arm (warmup with the default
/// initialization; MetaInit, Fixup, GradInit without warmup) trained on the stability sweep's
/// recipe (`StabilitySweep.recipe`: fig2's data, steps, batch, optimizer; the same recipe and so
/// the same stored run where fig2 trains it too) at every η of `learningRates` and every seed;
/// each arm is reported at its best η, the one whose seeds' mean final training loss is lowest
/// among the η at which a majority of seeds trained (chosen on training data, reported on the
/// test set).
///
/// Translation: the encoder–decoder Transformer on KJV → Reina-Valera 1909, trained by Adam
/// with label smoothing: with LayerNorm, without it at the default initialization, and without
/// it with the initialization scaled down (the paper: "scaling the default initialization down
/// by a factor 4"), all with the same warmup and gradient clipping, each at its best η of
/// `translationLearningRates` by the same rule, scored by BLEU on held-out verses.
public struct Table2Settings: Codable, Hashable, Sendable, Overridable {
  /// Image arms (`Table2Arm` specs); each family needs one warmup arm of its plain model.
  public var arms: [String]
  public var learningRates: [Double]
  public var seeds: Int
  /// Translation arms (the comparison: the warmup arm without LayerNorm against the one with it).
  public var translationArms: [String]
  public var translationLearningRates: [Double]
  public var translationSeeds: Int
  public var translationSteps: Int
  public var translationBatchSize: Int
  public var translationClip: Double
  public var labelSmoothing: Double
  public var translationTrainPairs: Int
  /// Held-out pairs scored by BLEU (and whose loss is the test loss).
  public var translationTestPairs: Int
  public var translationMeasurementPairs: Int
  /// The zoo size of the translation model and its corpus (`ModelZoo.seq2seq`).
  public var translationModelSize: ModelZoo.Size
  /// The stability sweep's settings the image arms train with (not overridable here: the image
  /// runs are fig2's recipe, so `repro fig2 --set` changes them there).
  public var sweep: StabilitySettings

  public static var fields: [ConfigField<Table2Settings>] {
    let count = 1...10_000_000
    let armHelp = "comma-separated arms: a model id (\(ModelCatalog.ids.joined(separator: ", "))) with optional -x<init scale>, +metainit or +gradinit, and @w<warmup steps>"
    return [
      .strings("arms", \.arms, expected: armHelp, valid: { Table2Arm($0) != nil }),
      .doubles("learningRates", \.learningRates, in: 0...100, excluding: [0]), .int("seeds", \.seeds, in: 1...100),
      .strings("translationArms", \.translationArms, expected: armHelp, valid: { Table2Arm($0).map { ModelCatalog.isTranslationModel($0.variant.id) } ?? false }),
      .doubles("translationLearningRates", \.translationLearningRates, in: 0...100, excluding: [0]),
      .int("translationSeeds", \.translationSeeds, in: 1...100), .int("translationSteps", \.translationSteps, in: count),
      .int("translationBatchSize", \.translationBatchSize, in: count), .double("translationClip", \.translationClip, in: 0...1e12, excluding: [0]),
      .double("labelSmoothing", \.labelSmoothing, in: 0...1, excluding: [1]), .int("translationTrainPairs", \.translationTrainPairs, in: count),
      .int("translationTestPairs", \.translationTestPairs, in: 0...10_000_000),
      .int("translationMeasurementPairs", \.translationMeasurementPairs, in: count),
      .string("translationModelSize", \.translationModelSizeName, allowed: ModelZoo.Size.allCases.map(\.rawValue)),
    ]
  }

  var translationModelSizeName: String {
    get { translationModelSize.rawValue }
    set { translationModelSize = ModelZoo.Size(rawValue: newValue) ?? translationModelSize }
  }

  public var imageArms: [Table2Arm] { arms.compactMap(Table2Arm.init) }
  public var textArms: [Table2Arm] { translationArms.compactMap(Table2Arm.init) }

  public var problems: [String] {
    var out = sweep.problems
    if imageArms.contains(where: { ModelCatalog.isLanguageModel($0.variant.id) || ModelCatalog.isTranslationModel($0.variant.id) }) {
      out.append("arms are image models; translation arms go in translationArms")
    }
    for family in Set(imageArms.map(\.family)).sorted() where warmupArm(family) == nil {
      out.append("the \(family) arms need one warmup arm (the default initialization with @w<steps>) to compare with")
    }
    if let w = imageArms.map(\.warmup).max(), w > sweep.steps { out.append("warmup \(w) is longer than the \(sweep.steps)-step image runs") }
    if let w = textArms.map(\.warmup).max(), w > translationSteps { out.append("warmup \(w) is longer than the \(translationSteps)-step translation runs") }
    return out
  }

  /// The warmup arm of `family`: its plain model (default initialization, no Fixup) with warmup.
  public func warmupArm(_ family: String) -> Table2Arm? {
    imageArms.first { $0.family == family && $0.warmup > 0 && $0.variant.initMethod == .standard && !$0.variant.id.hasSuffix("-fixup") }
  }

  public static func settings(for scale: ExperimentScale, seed: UInt64) -> Table2Settings {
    let sweep = StabilitySweep.settings(for: scale, seed: seed)
    let w = sweep.warmups.filter { $0 > 0 }.min() ?? 0
    // Small. Images: the residual MLP without normalization stands for the paper's ResNet-50
    // without BN (Fixup, MetaInit, GradInit, warmup), the WRN without BN for its WRN-28-10
    // (MetaInit, warmup); the η of fig2's grid up to the first at which every arm fails.
    // Translation: one η and one seed, 2 400 steps of 32 verse pairs (about 10 epochs of the
    // 8 000 training pairs; 6–7 min a run on one core), warmup 400 (a sixth), clip 1; probed
    // before the runs (REPRODUCE.md: what was tried and why).
    let small = Table2Settings(
      arms: ["resmlp-none@w\(w)", "resmlp-none+metainit", "resmlp-fixup", "resmlp-none+gradinit", "wrn-nobn@w\(w)", "wrn-nobn+metainit"],
      learningRates: [0.01, 0.03, 0.1, 0.3], seeds: 3,
      translationArms: ["mt-pre@w400", "mt-none@w400", "mt-none-x0.25@w400"], translationLearningRates: [2e-3],
      translationSeeds: 1, translationSteps: 2400, translationBatchSize: 32, translationClip: 1, labelSmoothing: 0.1,
      translationTrainPairs: 8000, translationTestPairs: 500, translationMeasurementPairs: 32, translationModelSize: .small,
      sweep: sweep)
    switch scale {
    case .tiny:
      var s = small
      s.arms = ["resmlp-none@w\(w)", "resmlp-none+metainit", "resmlp-fixup", "resmlp-none+gradinit"]
      s.learningRates = [0.03, 0.3]
      s.seeds = 2
      s.translationArms = ["mt-pre@w10", "mt-none@w10", "mt-none-x0.25@w10"]
      s.translationLearningRates = [3e-3]
      s.translationSeeds = 1
      s.translationSteps = 40
      s.translationBatchSize = 16
      s.translationTrainPairs = 320
      s.translationTestPairs = 16
      s.translationMeasurementPairs = 16
      s.translationModelSize = .tiny
      return s
    case .small:
      return small
    case .full:
      // The paper's Table 2 settings at CPU-cluster scale: WRN without BN on CIFAR-10 (warmup
      // 1000, MetaInit), the 6-layer-like translation model with warmup 4000.
      var s = small
      s.arms = ["wrn-nobn@w\(w)", "wrn-nobn+metainit", "wrn-fixup", "wrn-nobn+gradinit"]
      s.learningRates = [0.01, 0.03, 0.1, 0.3]
      s.translationArms = ["mt-pre@w4000", "mt-none@w4000", "mt-none-x0.25@w4000"]
      s.translationSteps = 40000
      s.translationBatchSize = 512
      s.translationTrainPairs = 25000
      s.translationTestPairs = 2500
      s.translationMeasurementPairs = 256
      s.translationModelSize = .full
      return s
    }
  }

  /// Seeds from the sweep's first role seed on (so the first seeds are fig2's role runs).
  var imageSeeds: [Int] { (0..<seeds).map { k in (sweep.roleSeeds.first ?? 0) + k } }
  var textSeeds: [Int] { (0..<translationSeeds).map { (sweep.roleSeeds.first ?? 0) + $0 } }

  /// An image arm's run at `eta`: the stability sweep's recipe (shared with fig2 where it has it).
  public func recipe(_ arm: Table2Arm, learningRate eta: Double, seed: Int) -> TrainingRecipe {
    StabilitySweep.recipe(sweep, row: arm.row, learningRate: eta, warmup: arm.warmup, seed: seed, trace: false)
  }

  /// A translation arm's run at `eta`: Adam (β 0.9, 0.98, ε 10⁻⁹: Vaswani et al.'s) with label
  /// smoothing and the clip, linear warmup then cosine decay; λ1 at initialization only (Adam
  /// has no preconditioner before its first step); test loss and BLEU at the end.
  public func translationRecipe(_ arm: Table2Arm, learningRate eta: Double, seed: Int) -> TrainingRecipe {
    let v = arm.variant
    let data = TrainingRecipe.DataSpec(size: translationModelSize, trainExamples: translationTrainPairs, testExamples: translationTestPairs,
                                       measurementExamples: translationMeasurementPairs)
    let measurement = TrainingRecipe.MeasurementPlan(schedule: MeasurementSchedule(every: Int.max, extra: [0]),
                                                    lanczosIterations: sweep.lanczosIterations, lanczosTolerance: sweep.lanczosTolerance)
    return TrainingRecipe(
      model: v.id, initScale: v.initScale, initMethod: v.initMethod, loss: .crossEntropy(labelSmoothing: labelSmoothing),
      optimizer: .adam(beta1: 0.9, beta2: 0.98, epsilon: 1e-9, weightDecay: 0), batchSize: translationBatchSize,
      steps: translationSteps, learningRate: eta, warmup: arm.warmup, clipNorm: translationClip, data: data, measurement: measurement,
      seed: UInt64(seed))
  }

  public var imageRuns: [TrainingRecipe] {
    imageArms.flatMap { a in learningRates.flatMap { eta in imageSeeds.map { recipe(a, learningRate: eta, seed: $0) } } }
  }

  public var translationRuns: [TrainingRecipe] {
    textArms.flatMap { a in translationLearningRates.flatMap { eta in textSeeds.map { translationRecipe(a, learningRate: eta, seed: $0) } } }
  }
}
