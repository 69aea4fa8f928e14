import Foundation

/// The learning rate η_t at step t (0-based) of a run of `totalSteps` steps.
public enum LearningRateSchedule: Sendable, Hashable, Codable {
  case constant(peak: Double)
  /// Linear warmup from 0 to the peak over W steps, then cosine decay to 0 at the end of
  /// training (the paper's schedule): η_t = peak·(t+1)/W for t < W, then
  /// peak·½(1 + cos(π·(t − W)/(T − W))). The first step uses peak/W rather than 0 so no step
  /// is wasted.
  case warmupCosine(peak: Double, warmupSteps: Int, totalSteps: Int)
  /// Linear warmup over W steps, then constant.
  case warmupConstant(peak: Double, warmupSteps: Int)

  public var peak: Double {
    switch self {
    case .constant(let p), .warmupCosine(let p, _, _), .warmupConstant(let p, _): return p
    }
  }

  public var warmupSteps: Int {
    switch self {
    case .constant: return 0
    case .warmupCosine(_, let w, _), .warmupConstant(_, let w): return w
    }
  }

  public func callAsFunction(_ t: Int) -> Double {
    precondition(t >= 0, "negative step")
    switch self {
    case .constant(let p): return p
    case .warmupConstant(let p, let w):
      return t < w ? p * Double(t + 1) / Double(w) : p
    case .warmupCosine(let p, let w, let total):
      if t < w { return p * Double(t + 1) / Double(w) }
      let span = max(total - w, 1)
      let progress = min(Double(t - w) / Double(span), 1)
      return p * 0.5 * (1 + cos(Double.pi * progress))
    }
  }
}
