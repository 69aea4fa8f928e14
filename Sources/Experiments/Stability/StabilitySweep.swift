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
