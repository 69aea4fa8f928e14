import Foundation
import ML

/// The sweep behind Figs 1–3: models × peak η × {no warmup, warmup} × seeds, trained with SGD
/// and heavy-ball momentum on Fashion-MNIST, λ1 measured at initialization and on a schedule.
public struct StabilitySettings: Codable, Hashable, Sendable, Overridable {
  public var models: [String]
  public var learningRates: [Double]
  /// Warmup lengths in steps (0 = none).
  public var warmups: [Int]
  public var seeds: [Int]
  public var steps: Int
  public var batchSize: Int
  public var momentum: Double
  public var imageSide: Int
  public var width: Int
  public var trainExamples: Int
  public var testExamples: Int
  /// The step whose λ1 the right-hand panels show (the paper's fixed mid-training step).
  public var midStep: Int
  public var measureEvery: Int
  public var lanczosIterations: Int
  public var measurementExamples: Int
  /// A run whose final loss exceeds this multiple of its initial loss did not train.
  public var notTrainedFactor: Double

  public static var fields: [ConfigField<StabilitySettings>] {
    [.doubles("learningRates", \.learningRates), .ints("warmups", \.warmups), .ints("seeds", \.seeds),
     .int("steps", \.steps), .int("batchSize", \.batchSize), .double("momentum", \.momentum),
     .int("imageSide", \.imageSide), .int("width", \.width), .int("trainExamples", \.trainExamples),
     .int("testExamples", \.testExamples), .int("midStep", \.midStep), .int("measureEvery", \.measureEvery),
     .int("lanczosIterations", \.lanczosIterations), .int("measurementExamples", \.measurementExamples),
     .double("notTrainedFactor", \.notTrainedFactor)]
  }
}

/// One run of the sweep: everything that determines its outcome.
public struct StabilityRun: Codable, Hashable, Sendable {
  public var model: String
  public var learningRate: Double
  public var warmup: Int
  public var seed: Int
  public var initScale: Double
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
  public var finalLoss: Double?
  public var testAccuracy: Double?
  /// The full λ1 series (step, η, λ1) for time-series figures.
  public var sharpness: [SharpnessRecord]
}

public enum StabilitySweep {
  /// The sweep's settings per scale: one base, the scales as overrides of a few fields.
  public static func settings(for scale: ExperimentScale, seed: UInt64) -> StabilitySettings {
    let base = StabilitySettings(
      models: ["resmlp-none", "resmlp-ln", "wrn-nobn", "wrn-bn"], learningRates: [0.01, 0.03, 0.1, 0.3, 1, 3], warmups: [0, 50],
      seeds: [Int(seed)], steps: 200, batchSize: 64, momentum: 0.9, imageSide: 14, width: 64,
      trainExamples: 2000, testExamples: 500, midStep: 100, measureEvery: 20, lanczosIterations: 20,
      measurementExamples: 256, notTrainedFactor: 1.5)
    switch scale {
    case .tiny:
      var s = base
      s.models = ["mlp-relu", "resmlp-none", "resmlp-ln"]
      s.learningRates = [0.03, 0.3, 3]
      s.warmups = [0, 10]
      s.steps = 30
      s.batchSize = 32
      s.width = 16
      s.trainExamples = 200
      s.testExamples = 100
      s.midStep = 15
      s.measureEvery = 10
      s.lanczosIterations = 10
      s.measurementExamples = 64
      return s
    case .small:
      return base
    case .full:
      var s = base
      s.imageSide = 28
      s.width = 512
      s.trainExamples = 60000
      s.testExamples = 10000
      s.steps = 5000
      s.batchSize = 128
      s.warmups = [0, 1000]
      s.midStep = 2000
      s.measureEvery = 100
      s.lanczosIterations = 40
      s.measurementExamples = 2048
      s.learningRates = [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3]
      return s
    }
  }

  public static func runs(_ s: StabilitySettings) -> [StabilityRun] {
    // Each run keeps only the settings that shape it, not the grid: extending the grid (one
    // more η or seed) keeps every stored run's key, and experiments sharing the sweep agree.
    var perRun = s
    perRun.models = []
    perRun.learningRates = []
    perRun.warmups = []
    perRun.seeds = []
    var out: [StabilityRun] = []
    for model in s.models {
      for eta in s.learningRates {
        for w in s.warmups {
          for seed in s.seeds {
            out.append(StabilityRun(model: model, learningRate: eta, warmup: w, seed: seed, initScale: 1, settings: perRun))
          }
        }
      }
    }
    return out
  }

  public static func label(_ r: StabilityRun) -> String {
    "\(r.model)_eta=\(r.learningRate)_w=\(r.warmup)_s=\(r.seed)"
  }

  public struct UnknownModel: Error, CustomStringConvertible {
    public let id: String
    public var description: String { "unknown model '\(id)' (known: \(ModelCatalog.ids.joined(separator: ", ")))" }
  }

  public static func execute(_ r: StabilityRun, context: RunContext) throws -> StabilityOutcome {
    let s = r.settings
    let data = try DataCache.shared.fashionMNIST(side: s.imageSide, train: s.trainExamples, test: s.testExamples)
    guard let network = ModelCatalog.network(r.model, side: s.imageSide, classes: 10, width: s.width) else {
      throw UnknownModel(id: r.model)
    }
    // The paper's schedule: linear warmup over W steps (none when W = 0), then cosine decay.
    let schedule = LearningRateSchedule.warmupCosine(peak: r.learningRate, warmupSteps: r.warmup, totalSteps: s.steps)
    let config = TrainingConfig(
      steps: s.steps, batchSize: s.batchSize, schedule: schedule, optimizer: .heavyBall(s.momentum),
      seed: UInt64(r.seed), initScale: r.initScale,
      sharpness: MeasurementSchedule(denseEvery: max(1, s.measureEvery / 4), denseUntil: min(s.midStep, s.measureEvery * 2),
                                     every: s.measureEvery, extra: [0, s.midStep]),
      lanczosIterations: s.lanczosIterations, measurementExamples: s.measurementExamples,
      evalEvery: s.steps, divergenceLoss: 1e4)
    let trainer = Trainer(network: network, config: config, train: data.train, test: data.test)
    let (record, _) = trainer.run { step, loss in context.progress(step, s.steps, loss) }
    let first = record.sharpness.first
    let initialLoss = record.steps.first?.loss ?? .nan
    var status: StabilityOutcome.Status = .trained
    if record.diverged {
      status = .diverged
    } else if let f = record.finalLoss, f > s.notTrainedFactor * initialLoss {
      status = .notTrained
    }
    // Mid-training λ1: the scheduled measurement at midStep; for a diverged run, the last
    // scheduled measurement before divergence (the parameters one step before a NaN have
    // meaningless curvature).
    let mid: SharpnessRecord?
    if let d = record.divergence {
      mid = record.sharpness.last { $0.step < d.step || ($0.step == d.step && d.step == 0) }
    } else {
      mid = record.sharpness.first { $0.step == s.midStep } ?? record.sharpness.last
    }
    return StabilityOutcome(
      status: status, lambdaInit: first?.lambda1 ?? .nan, lambdaInitResidual: first?.residual ?? .nan,
      lambdaMid: mid?.lambda1, lambdaMidStep: mid?.step, lambdaMidLearningRate: mid?.learningRate,
      divergenceStep: record.divergence?.step, initialLoss: initialLoss,
      finalLoss: record.diverged ? nil : record.finalLoss, testAccuracy: record.evals.last?.testAccuracy,
      sharpness: record.sharpness)
  }
}

/// An experiment drawn from the stability sweep: Figs 1–3 share its settings, runs and
/// training, and differ only in what they draw and check.
public protocol StabilitySweepExperiment: Experiment
where Settings == StabilitySettings, Run == StabilityRun, Outcome == StabilityOutcome {}

extension StabilitySweepExperiment {
  public var sweepID: String { "stability" }
  public var resultsVersion: Int { 1 }

  /// Measured on 2 cores with the default --jobs 2 --threads 1 (tiny: 3 s; small: 661 s).
  public func estimatedSeconds(_ scale: ExperimentScale) -> Double? {
    switch scale {
    case .tiny: return 3
    case .small: return 660
    case .full: return nil
    }
  }

  public func settings(for scale: ExperimentScale, seed: UInt64) -> StabilitySettings {
    StabilitySweep.settings(for: scale, seed: seed)
  }
  public func runs(_ s: StabilitySettings) -> [StabilityRun] { StabilitySweep.runs(s) }
  public func label(_ r: StabilityRun) -> String { StabilitySweep.label(r) }
  public func execute(_ r: StabilityRun, settings: StabilitySettings, context: RunContext) throws -> StabilityOutcome {
    try StabilitySweep.execute(r, context: context)
  }

  public func summarize(_ o: StabilityOutcome) -> String {
    let mid = o.lambdaMid.map { String(format: "λ1 mid %.3g", $0) } ?? "no mid λ1"
    return "\(o.status.rawValue), λ1 init \(String(format: "%.3g", o.lambdaInit)), \(mid)"
  }
}
