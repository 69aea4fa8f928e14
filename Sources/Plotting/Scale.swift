import Foundation

/// How data values map to positions along an axis.
public enum Scale: Sendable, Hashable {
  /// Position proportional to the value.
  case linear
  /// Position proportional to log₁₀ of the value; non-positive values cannot be shown.
  case log

  /// The value in the space where the axis is uniform (log₁₀ for ``log``); `nil` when the value
  /// cannot be drawn on this scale (NaN, ±∞, or ≤ 0 on a log axis).
  public func forward(_ v: Double) -> Double? {
    guard v.isFinite else { return nil }
    switch self {
    case .linear: return v
    case .log: return v > 0 ? log10(v) : nil
    }
  }

  /// The inverse of ``forward(_:)``.
  public func inverse(_ u: Double) -> Double {
    switch self {
    case .linear: return u
    case .log: return pow(10, u)
    }
  }

  /// Whether `v` can be placed on this scale.
  public func accepts(_ v: Double) -> Bool { forward(v) != nil }

  /// Automatic limits for `values`: the finite (and, on a log axis, positive) values padded by
  /// `padding` of the span on each side, measured in the axis' uniform space.
  ///
  /// A zero span (one point, or all points equal) is widened: ±10 % of the value (±1 around 0)
  /// on a linear axis, a factor of 2 on a log axis. Returns `nil` when no value is usable.
  public func autoLimits(_ values: [Double], padding: Double = 0.05) -> ClosedRange<Double>? {
    var lo = Double.infinity, hi = -Double.infinity
    for v in values { if let u = forward(v) { lo = Swift.min(lo, u); hi = Swift.max(hi, u) } }
    guard lo <= hi else { return nil }
    if hi - lo < 1e-12 * Swift.max(1, abs(lo)) {
      switch self {
      case .linear:
        let d = lo == 0 ? 1 : abs(lo) * 0.1
        return (lo - d)...(hi + d)
      case .log:
        return inverse(lo - log10(2.0))...inverse(hi + log10(2.0))
      }
    }
    // A near-constant series (spread under 5 % of its magnitude) is shown on a span of 20 % of
    // its magnitude: autoscaled to its own spread, a step of η from 0.30 to 0.29 filled the
    // panel like a crash.
    // On a log axis (lo, hi are log₁₀ there) the same in ratio: under 1.05×, shown on 0.9–1.1×.
    let magnitude = Swift.max(abs(lo), abs(hi))
    switch self {
    case .linear where hi - lo < Self.nearConstant * magnitude:
      let center = (lo + hi) / 2, half = Self.nearConstantSpan * magnitude / 2
      return (center - half)...(center + half)
    case .log where hi - lo < log10(1 + Self.nearConstant):
      let center = (lo + hi) / 2, half = log10(1 + Self.nearConstantSpan / 2)
      return inverse(center - half)...inverse(center + half)
    default: break
    }
    let pad = (hi - lo) * padding
    // Keep padded limits representable (10^±308 is the edge of Double).
    let bound = self == .log ? 307.0 : Double.greatestFiniteMagnitude
    return inverse(Swift.max(-bound, lo - pad))...inverse(Swift.min(bound, hi + pad))
  }

  /// A linear series whose spread is below this fraction of its magnitude is near-constant, and
  /// its axis spans `nearConstantSpan` of the magnitude.
  static let nearConstant = 0.05, nearConstantSpan = 0.2

  /// Limits to use when an axis has no data at all.
  public var defaultLimits: ClosedRange<Double> { self == .linear ? 0...1 : 1...10 }

  /// Major ticks (with labels) and unlabelled minor ticks inside `limits`.
  ///
  /// Linear: steps of 1, 2 or 5 × 10ᵏ, the smallest giving at most `target` intervals.
  /// Log: every decade (every 2nd, 3rd… when more than `target` decades), minor ticks at 2…9 × 10ᵏ;
  /// a range narrower than a decade also labels 2× and 5× (then every digit) so that at least two
  /// labels show, and one too narrow for that (119…140) is labelled as a linear axis would be.
  public func ticks(in limits: ClosedRange<Double>, target: Int = 6) -> TickSet {
    switch self {
    case .linear: return linearTicks(limits, target: Swift.max(2, target))
    case .log: return logTicks(limits, target: Swift.max(2, target))
    }
  }
}

/// A labelled position on an axis.
public struct Tick: Sendable, Hashable {
  public var value: Double
  public var label: String
  public init(value: Double, label: String) { self.value = value; self.label = label }
}

/// The ticks of one axis.
public struct TickSet: Sendable, Hashable {
  /// Labelled ticks, ascending.
  public var major: [Tick]
  /// Unlabelled ticks, ascending (decade subdivisions on log axes).
  public var minor: [Double]
  public init(major: [Tick], minor: [Double]) { self.major = major; self.minor = minor }
}

// MARK: - Linear

private func linearTicks(_ limits: ClosedRange<Double>, target: Int) -> TickSet {
  let lo = limits.lowerBound, hi = limits.upperBound
  guard lo.isFinite, hi.isFinite, hi > lo else {
    return TickSet(major: lo.isFinite ? [Tick(value: lo, label: formatLinear(lo, exponent: 0))] : [], minor: [])
  }
  let span = hi - lo
  var exponent = Int(floor(log10(span / Double(target))))
  var mantissa = 1
  search: while true {
    for m in [1, 2, 5] {
      let step = Double(m) * pow(10, Double(exponent))
      if span / step <= Double(target) + 1e-9 { mantissa = m; break search }
    }
    exponent += 1
  }
  let step = Double(mantissa) * pow(10, Double(exponent))
  let first = Int((lo / step - 1e-9).rounded(.up)), last = Int((hi / step + 1e-9).rounded(.down))
  var major: [Tick] = []
  if first <= last {
    for k in first...last {
      let v = Double(k) * step
      major.append(Tick(value: v, label: formatLinear(v, exponent: exponent)))
    }
  }
  let minorStep = step / (mantissa == 2 ? 4 : 5)
  var minor: [Double] = []
  let mf = Int((lo / minorStep - 1e-9).rounded(.up)), ml = Int((hi / minorStep + 1e-9).rounded(.down))
  if mf <= ml, ml - mf < 1000 {
    for k in mf...ml {
      let v = Double(k) * minorStep
      if !major.contains(where: { abs($0.value - v) < minorStep * 1e-6 }) { minor.append(v) }
    }
  }
  return TickSet(major: major, minor: minor)
}

/// A linear tick label: as many decimals as the step needs; scientific beyond 10⁵ or below 10⁻⁴.
func formatLinear(_ v: Double, exponent: Int) -> String {
  if v == 0 || abs(v) < pow(10, Double(exponent)) * 1e-6 { return "0" }
  if abs(v) >= 1e5 || abs(v) < 1e-4 { return formatScientific(v) }
  let decimals = Swift.max(0, -exponent)
  return String(format: "%.\(decimals)f", v)
}

/// `2.5e-5`, `1e6`: the shortest mantissa that round-trips three significant digits.
func formatScientific(_ v: Double) -> String {
  let e = Int(floor(log10(abs(v))))
  var m = v / pow(10, Double(e))
  m = (m * 100).rounded() / 100
  var ms = String(format: "%.2f", m)
  while ms.hasSuffix("0") { ms.removeLast() }
  if ms.hasSuffix(".") { ms.removeLast() }
  return "\(ms)e\(e)"
}

// MARK: - Log

private func logTicks(_ limits: ClosedRange<Double>, target: Int) -> TickSet {
  let lo = limits.lowerBound, hi = limits.upperBound
  guard lo > 0, hi.isFinite, hi >= lo else { return TickSet(major: [], minor: []) }
  let llo = log10(lo), lhi = log10(hi)
  let tol = 1e-9
  let e0 = Int(floor(llo + tol)), e1 = Int(ceil(lhi - tol))
  let decades = Swift.max(1, e1 - e0)
  // Decades per label: the smallest of 1, 2, 3, 5, 10, 20, 50, 100, … giving at most `target` labels.
  let wanted = Swift.max(1, Int((Double(decades) / Double(target)).rounded(.up)))
  var stride = 1
  for candidate in [1, 2, 3, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000] where candidate >= wanted { stride = candidate; break }
  // Unlabelled decades become minor ticks, unless there are so many that they would merge into a bar.
  let decadeMinors = decades <= 60
  func inside(_ m: Int, _ e: Int) -> Bool {
    let u = log10(Double(m)) + Double(e)
    return u >= llo - tol && u <= lhi + tol
  }
  var major: [Tick] = []
  var minor: [Double] = []
  for e in (e0 - 1)...e1 {
    if inside(1, e) {
      if ((e % stride) + stride) % stride == 0 {
        major.append(Tick(value: decadeValue(1, e), label: formatLog(1, e)))
      } else if decadeMinors {
        minor.append(decadeValue(1, e))
      }
    }
    if stride == 1 { for m in 2...9 where inside(m, e) { minor.append(decadeValue(m, e)) } }
  }
  if major.count < 2 {
    // Narrower than about a decade: label 2× and 5× too, then every digit if still too few.
    for subdivision in [[1, 2, 5], Array(1...9)] {
      var ticks: [Tick] = []
      var rest: [Double] = []
      for e in (e0 - 1)...e1 {
        for m in 1...9 where inside(m, e) {
          if subdivision.contains(m) { ticks.append(Tick(value: decadeValue(m, e), label: formatLog(m, e))) }
          else { rest.append(decadeValue(m, e)) }
        }
      }
      if ticks.count >= 2 || subdivision.count == 9 { major = ticks; minor = rest; break }
    }
  }
  if major.count < 2 {
    // Narrower than one digit step (119…140 holds no m × 10ᵉ but 100 < lo): label it as a
    // linear axis would, so that a narrow log axis still reads.
    return TickSet(major: linearTicks(limits, target: Swift.min(target, 4)).major, minor: [])
  }
  return TickSet(major: major, minor: minor)
}

/// m × 10ᵉ, computed so that 10ᵉ is exact for negative e (division by an exact power).
private func decadeValue(_ m: Int, _ e: Int) -> Double {
  e >= 0 ? Double(m) * pow(10, Double(e)) : Double(m) / pow(10, Double(-e))
}

/// The label of m × 10ᵉ: plain decimals from 0.01 to 1000 (`0.01`, `0.5`, `20`), otherwise `1e-3`, `5e4`.
func formatLog(_ m: Int, _ e: Int) -> String {
  switch e {
  case ..<(-2), 4...: return "\(m)e\(e)"
  case 0...: return "\(m)" + String(repeating: "0", count: e)
  default: return "0." + String(repeating: "0", count: -e - 1) + "\(m)"
  }
}
