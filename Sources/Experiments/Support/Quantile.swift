/// The q-quantile of sorted values, linearly interpolated between neighbours (numpy's default);
/// nil for no values. The one quantile of claims and tables (medians, interquartile ranges).
func quantile(sorted s: [Double], _ q: Double) -> Double? {
  guard !s.isEmpty else { return nil }
  let pos = q * Double(s.count - 1)
  let lo = Int(pos), hi = min(lo + 1, s.count - 1)
  return s[lo] + (s[hi] - s[lo]) * (pos - Double(lo))
}
