import Foundation

/// When a minibatch Adam run becomes unstable, and when its preconditioned λ1 crosses its
/// threshold c/η_t (the paper, Fig 14: "instabilities in model training coincide exactly with
/// λmax(D^1/2 H D^1/2) crossing the empirically corrected threshold"). The rules were first
/// fixed before the small scale was chosen and revised once, after the first three probes and
/// before the fourth was looked at (REPRODUCE.md says what changed and why).
public enum AdaptiveInstability {
  /// The training loss is a minibatch's: it is smoothed over this many steps before a spike is
  /// called, so one hard batch is not an instability.
  public static let window = 10
  /// A spike: the smoothed loss above this multiple of its own running minimum.
  public static let spikeFactor = 1.2
  /// "Crossed" the threshold: above the upper edge of the band that counts as at it (the
  /// preconditioned λ1 of a run that adapts hovers near its threshold, and noise takes single
  /// measurements just over 1).
  public static var crossed: Double { WarmupTracking.band.upperBound }

  /// The first step at which the smoothed loss exceeds `spikeFactor` × its running minimum, a
  /// loss is not finite, or the run diverged (`divergenceStep`), whichever is first; nil for a
  /// run that never does. (A collapse is no such event: its loss may simply never improve, and
  /// its failure step dates its lowest loss.)
  public static func spikeStep(losses: [Double], divergenceStep: Int?) -> Int? {
    var sum = 0.0, lowest = Double.infinity
    for (t, loss) in losses.enumerated() {
      guard loss.isFinite else { return min(t, divergenceStep ?? t) }
      sum += loss
      if t >= window { sum -= losses[t - window] }
      guard t >= window - 1 else { continue }
      let mean = sum / Double(window)
      if mean > spikeFactor * lowest { return min(t, divergenceStep ?? t) }
      lowest = min(lowest, mean)
    }
    return divergenceStep
  }

  /// The index of the first measurement after step 0 whose preconditioned λ1 is above `crossed`
  /// × its threshold (step 0 is excluded: Adam has no preconditioner before its first step).
  public static func crossing(steps: [Int], ratios: [Double]) -> Int? {
    steps.indices.first { steps[$0] > 0 && ratios[$0] > crossed }
  }

  /// Whether a spike at step `spike` coincides with the first crossing at measurement `i`: it
  /// comes no earlier than the measurement before the crossing, and every measurement from the
  /// crossing to the spike stays above `crossed` (the curvature does not return to its threshold
  /// before the loss rises; the loss detector lags a gradual rise by tens of steps).
  public static func coincides(spike: Int, crossing i: Int, steps: [Int], ratios: [Double]) -> Bool {
    guard spike >= steps[max(i - 1, 0)] else { return false }
    return steps.indices.filter { $0 >= i && steps[$0] <= spike }.allSatisfy { ratios[$0] > crossed }
  }
}
