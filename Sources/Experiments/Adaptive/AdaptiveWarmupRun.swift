import Foundation
import ML

/// One warmup length of the paper's Fig 14 proper: the LM trained by minibatch Adam, its
/// preconditioned λ1 against the threshold 38/η_t through the warmup and after, and its loss.
public struct AdaptiveWarmupRun: Codable, Sendable {
  public var warmup: Int
  public var status: TrainingOutcome.Status
  public var failureStep: Int?
  /// The measurements (scheduled ones and, for a failed run, the snapshot's before it).
  public var steps: [Int]
  public var learningRates: [Double]
  public var lambda1: [Double]
  public var preconditioned: [Double]
  /// (2 + 2β1)/((1 − β1)η_t) at each measurement.
  public var thresholds: [Double]
  /// The minibatch training loss of every step (up to the failure for a failed run).
  public var losses: [Double]
  public var finalTrainLoss: Double?

  /// The threshold's coefficient c in c/η_t (38 at β1 = 0.9).
  public var coefficient: Double { thresholds.first.flatMap { t in learningRates.first.map { t * $0 } } ?? .nan }

  /// How the preconditioned λ1 follows c/η_t through the warmup (`WarmupTracking`'s band and
  /// fraction), from the first measurement after step 0 (at step 0 Adam has no preconditioner).
  public var tracking: WarmupTracking.Analysis? {
    let k = steps.indices.filter { steps[$0] > 0 }
    return WarmupTracking.analyze(steps: k.map { steps[$0] }, lambda1: k.map { preconditioned[$0] },
                                  learningRates: k.map { learningRates[$0] }, warmup: warmup, coefficient: coefficient)
  }

  public var spikeStep: Int? {
    AdaptiveInstability.spikeStep(losses: losses, divergenceStep: status == .diverged ? failureStep : nil)
  }

  /// Preconditioned λ1 / threshold at each measurement.
  public var ratios: [Double] { zip(preconditioned, thresholds).map { $0 / $1 } }

  /// The first measurement after step 0 above `AdaptiveInstability.crossed` × the threshold (its index).
  public var crossing: Int? { AdaptiveInstability.crossing(steps: steps, ratios: ratios) }

  /// Whether the spike (if any) coincides with the first crossing (`AdaptiveInstability.coincides`); nil without a spike.
  public var spikeCoincides: Bool? {
    guard let s = spikeStep else { return nil }
    guard let i = crossing else { return false }
    return AdaptiveInstability.coincides(spike: s, crossing: i, steps: steps, ratios: ratios)
  }
}
