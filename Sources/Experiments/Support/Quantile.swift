/// The q-quantile of sorted values, linearly interpolated between neighbours (numpy's default);
/// nil for no values. The one quantile of claims and tables (medians, interquartile ranges).
func quantile(sorted s: [Double], _ q: Double) -> Double? {
  guard !s.isEmpty else { return nil }
  let pos = q * Double(s.count - 1)
  let lo = Int(pos), hi = min(lo + 1, s.count - 1)
  let f = pos - Double(lo)
  // At a sample (f = 0) the value is that sample: an infinite neighbour (fig6's seed that never
  // reached its target) must not turn 0·∞ into NaN.
  return f == 0 ? s[lo] : s[lo] + (s[hi] - s[lo]) * f
}
