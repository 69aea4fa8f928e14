import Foundation
import ML

/// What training a recipe produced: how the run ended, the curvature series with residuals, the
/// loss curve, the evaluations, and the last measurement before a failure.
public struct TrainingOutcome: Codable, Sendable {
  /// How a run ended (`OutcomeRules` says by which rule).
  public enum Status: String, Codable, Sendable {
    /// Its final training loss is well below the chance level.
    case trained
    /// A non-finite loss or gradient, or a loss above the divergence bound, at `failureStep`.
    case diverged
    /// Finite, but it ended at (or above) the chance level: the loss rose to it and stayed, or
    /// never left it (a dead network). A failure, as a NaN is.
    case collapsed
    /// Neither: below chance but not yet well trained (merely slow).
    case underTrained = "under-trained"

    /// Diverged and collapsed runs failed; under-trained ones did not fail, nor succeed.
    public var failed: Bool { self == .diverged || self == .collapsed }
  }

  public var status: Status
  /// The step of the failure: the diverged step, or the step at which a collapsed run's loss was
  /// lowest (after it, the loss rose for good; for a run that never trained, where it was lowest).
  public var failureStep: Int?
  /// Every λ1 measured (scheduled ones, and the snapshot measured for a failed run), in step order.
  public var measurements: [SharpnessRecord]
  /// The last λ1 measured before the failure (at or before a collapse's step; strictly before a
  /// divergence's): the curvature a dense schedule would have seen last, never a post-mortem one.
  public var lastBeforeFailure: SharpnessRecord?
  /// The first minibatch's loss.
  public var initialLoss: Double
  /// The loss of the best constant prediction (the entropy of the training labels).
  public var chanceLoss: Double
  /// Mean minibatch loss over the last tenth of the steps (nil for a diverged run).
  public var finalTrainLoss: Double?
  /// Every step's minibatch loss (up to a divergence).
  public var lossCurve: [Double]
  public var evaluations: [EvalRecord]
  public var stepsToTarget: Int?
  /// What a data-driven initialization did before step 0 (nil for `.standard`).
  public var initialization: InitializationRecord?
  /// With a clip norm: the fraction of steps whose gradient norm exceeded it (nil without one).
  public var clippedFraction: Double?
  /// The median gradient norm (before clipping) over the middle half of the steps.
  public var midTrainingGradientNorm: Double?
  /// MetaInit's gradient quotient at each λ1 measurement, when the plan asks for it.
  public var gradientQuotients: [StepValue]?
  /// The first step's gradient norm (before clipping).
  public var initialGradientNorm: Double?
  /// A translation model's held-out BLEU (nil for other models and for diverged runs).
  public var translation: TranslationScore?

  /// Corpus BLEU-4 of greedy translations of held-out pairs (`Translation.bleu` on lowercased
  /// words, punctuation split off: `BytePairEncoding.words`), with a few examples.
  public struct TranslationScore: Codable, Sendable {
    public static let sampleCount = 4
    public var bleu: Double
    public var sentences: Int
    public var samples: [SampleTranslation]
  }

  public struct SampleTranslation: Codable, Sendable, Hashable {
    public var source: String
    public var reference: String
    public var hypothesis: String
  }

  /// A value measured at a step.
  public struct StepValue: Codable, Sendable, Hashable {
    public var step: Int
    public var value: Double
  }

  public var testLoss: Double? { evaluations.last?.testLoss }
  public var testAccuracy: Double? { evaluations.last?.testAccuracy }
  /// The measurement at `step`, if any.
  public func measurement(at step: Int) -> SharpnessRecord? { measurements.first { $0.step == step } }
}

/// The rules that classify a run, stated once (README: "How a run is classified").
public enum OutcomeRules {
  /// A run collapsed when its final training loss is at least this fraction of the reference
  /// loss min(initial loss, chance): its outputs carry almost nothing about the labels.
  public static let collapsedFraction = 0.9
  /// A run trained when its final training loss is at most this fraction of the reference:
  /// images, half of the chance level (ln 10 for ten balanced classes: loss ≤ 1.15, about 65 %
  /// accuracy or better); text, 0.8 of the unigram entropy (a small character LM trained for a
  /// few thousand sequences reaches about 0.68 of it). Between the two a run is under-trained.
  public static func trainedFraction(languageModel: Bool) -> Double { languageModel ? 0.8 : 0.5 }
  /// The window of the running mean whose minimum dates a collapse: a twentieth of the run.
  public static func window(steps: Int) -> Int { max(1, steps / 20) }

  /// The status and failure step of a run that did not diverge, from its loss curve.
  public static func classify(losses: [Double], initialLoss: Double, chanceLoss: Double, languageModel: Bool)
    -> (status: TrainingOutcome.Status, failureStep: Int?, finalLoss: Double)
  {
    let tail = losses.suffix(max(1, losses.count / 10))
    let final = tail.reduce(0, +) / Double(max(tail.count, 1))
    let reference = min(initialLoss.isFinite ? initialLoss : chanceLoss, chanceLoss)
    if !(final < collapsedFraction * reference) {
      return (.collapsed, collapseStep(losses), final)
    }
    return (final <= trainedFraction(languageModel: languageModel) * reference ? .trained : .underTrained, nil, final)
  }

  /// The step at which the running mean of the loss (over `window` steps, ending at that step)
  /// is lowest, the earliest such step on ties.
  static func collapseStep(_ losses: [Double]) -> Int {
    let w = window(steps: losses.count)
    guard losses.count >= w, w > 0 else { return 0 }
    var sum = losses.prefix(w).reduce(0, +)
    var best = sum, at = w - 1
    for i in w..<losses.count {
      sum += losses[i] - losses[i - w]
      if sum < best { best = sum; at = i }
    }
    // Dated at the window's first step: the last step before the loss began its final rise
    // lies within it, and a measurement up to there saw the network before it failed.
    return at - (w - 1)
  }
}
