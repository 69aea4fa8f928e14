import Foundation

/// fig6's search of one (variant, batch) cell's η grid, from the top down. Above the largest
/// stable η every run fails within a few steps (cheap); below the best η each run only gets
/// slower. So the walk trains the grid's largest η first and goes one η down per round until,
/// once some η has reached the target, a run needs more than `slowerFactor` times the best
/// steps to target so far or exhausts its budget without reaching it. Every η above the cell's
/// largest stable η is tried (so "best η = largest non-divergent η" is decided on the grid),
/// and the steps-to-target curve is followed from its minimum to a factor `slowerFactor` above
/// it. A stable run that exhausts its budget before any η has reached the target does not stop
/// the walk: with a constant η, SGD's noise floor can keep a large η from a target that a
/// smaller one reaches (measured: the BatchNorm MLP at batch 16, η 0.2, stalls at 84.9 %).
public enum EtaSearch {
  /// What one η gave.
  public enum Result: Equatable, Sendable {
    /// The target was reached at this step.
    case reached(Int)
    /// Diverged or collapsed.
    case failed
    /// Stable, but the target was not reached within the budget.
    case exhausted
  }

  /// How many grid values (from the top) the walk has reached for `tried` (results from the top
  /// of the grid down, consecutive) and whether it goes on: the number of η to train, which is
  /// `tried.count + 1` while the walk continues and `tried.count` once it has stopped.
  public static func extent(tried: [Result], gridCount: Int, slowerFactor: Double) -> Int {
    guard let last = tried.last else { return min(1, gridCount) }
    if tried.count >= gridCount { return gridCount }
    let best = tried.compactMap { if case .reached(let s) = $0 { return s } else { return nil } }.min()
    switch last {
    case .failed: return tried.count + 1
    case .exhausted: return best == nil ? tried.count + 1 : tried.count
    case .reached(let s): return Double(s) > slowerFactor * Double(best ?? s) ? tried.count : tried.count + 1
    }
  }
}
