/// What one training step saw.
public struct StepRecord: Sendable, Codable, Hashable {
  public var step: Int
  public var loss: Double
  public var learningRate: Double
  /// Global gradient norm before clipping.
  public var gradientNorm: Double
  public var clipped: Bool
}

/// A scheduled sharpness measurement, taken on the parameters before the step's update.
public struct SharpnessRecord: Sendable, Codable, Hashable {
  public var step: Int
  public var learningRate: Double
  /// λ1 of the training-loss Hessian on the measurement set.
  public var lambda1: Double
  public var residual: Double
  /// The optimizer's quadratic stability threshold at this η (2/η for SGD, (2+2β)/η with
  /// momentum, 38/η for Adam at β1 = 0.9 on the preconditioned λ1).
  public var threshold: Double
  /// λ1 of D^-1/2 H D^-1/2 for Adam (nil for SGD).
  public var preconditionedLambda1: Double?
  public var preconditionedResidual: Double?
  /// Whether every value above meets the run's Lanczos tolerance on its explicit residual (nil:
  /// no tolerance was asked for, or recorded before this field existed).
  public var converged: Bool?

  public init(step: Int, learningRate: Double, lambda1: Double, residual: Double, threshold: Double,
              preconditionedLambda1: Double? = nil, preconditionedResidual: Double? = nil, converged: Bool? = nil) {
    self.step = step; self.learningRate = learningRate; self.lambda1 = lambda1; self.residual = residual
    self.threshold = threshold; self.preconditionedLambda1 = preconditionedLambda1
    self.preconditionedResidual = preconditionedResidual; self.converged = converged
  }
}

public struct EvalRecord: Sendable, Codable, Hashable {
  public var step: Int
  public var testLoss: Double
  public var testAccuracy: Double

  public init(step: Int, testLoss: Double, testAccuracy: Double) {
    self.step = step; self.testLoss = testLoss; self.testAccuracy = testAccuracy
  }
}

/// Why and when a run stopped early.
public struct DivergenceRecord: Sendable, Codable, Hashable {
  public enum Reason: String, Sendable, Codable { case nonFiniteLoss, lossAboveBound, nonFiniteCurvature }
  public var step: Int
  public var reason: Reason
  /// η at the step that diverged.
  public var learningRate: Double
  /// The last λ1 measured at a scheduled step (or a divergence snapshot) strictly before the
  /// divergence step, or at step 0 for a run that diverges at once, with its step and η (the
  /// parameters one step before a NaN have meaningless curvature, so it is the last
  /// *scheduled* one).
  public var lastLambda1: Double?
  public var lastLambda1Step: Int?
  public var lastLambda1LearningRate: Double?
}

/// The full record of a run.
public struct TrainingRecord: Sendable, Codable {
  public var steps: [StepRecord] = []
  public var sharpness: [SharpnessRecord] = []
  public var evals: [EvalRecord] = []
  public var divergence: DivergenceRecord?
  /// First evaluation step whose test accuracy reached the target.
  public var stepsToTarget: Int?
  /// For a run that did not diverge but failed by the caller's rule (`Trainer.run`'s
  /// `failureStep`, e.g. a collapse to chance): the step the failure began and the last λ1
  /// measured at or before it (a scheduled measurement or a snapshot measured afterwards).
  public var failureStep: Int?
  public var lastBeforeFailure: SharpnessRecord?

  public init() {}

  public var diverged: Bool { divergence != nil }
  public var finalLoss: Double? { steps.last?.loss }
}
