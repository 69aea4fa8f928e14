import Foundation

/// Where `repro all` stands across its experiments: which one is running, and an overall ETA
/// from the experiments' measured wall times (`Experiment.estimatedSeconds`), rescaled by how
/// the experiments finished so far compared with their estimates (a slower or busier machine
/// than the one the estimates were measured on). Every progress line of the sweep carries it.
public final class OverallProgress: @unchecked Sendable {
  public struct Item: Sendable {
    public var id: String
    /// Measured wall time at this scale (nil: unmeasured, counted as the mean of the others).
    public var estimate: Double?
    public init(id: String, estimate: Double?) { self.id = id; self.estimate = estimate }
  }

  let items: [Item]
  let lock = NSLock()
  var current = 0
  var currentStart = Date()
  /// Actual seconds of each finished experiment.
  var actual: [Int: Double] = [:]

  public init(_ items: [Item]) { self.items = items }

  /// Each experiment's estimate, unmeasured ones at the mean of the measured (1 s if none is).
  var estimates: [Double] {
    let known = items.compactMap(\.estimate)
    let fill = known.isEmpty ? 1 : known.reduce(0, +) / Double(known.count)
    return items.map { $0.estimate ?? fill }
  }

  public func begin(_ index: Int, at date: Date = Date()) {
    lock.lock(); defer { lock.unlock() }
    current = index
    currentStart = date
  }

  public func end(_ index: Int, seconds: Double) {
    lock.lock(); defer { lock.unlock() }
    actual[index] = seconds
  }

  /// Seconds left: the rest of the running experiment (its estimate less its elapsed time, or
  /// less the fraction `done` of its runs when that says more) and every later one, all times
  /// the ratio of actual to estimated time over the finished experiments.
  public func remaining(done: Double? = nil, now: Date = Date()) -> Double {
    lock.lock(); defer { lock.unlock() }
    let e = estimates
    let finished = actual.keys.filter { $0 < items.count }
    let estimatedDone = finished.map { e[$0] }.reduce(0, +)
    let ratio = estimatedDone > 0 ? finished.compactMap { actual[$0] }.reduce(0, +) / estimatedDone : 1
    guard current < items.count else { return 0 }
    let elapsed = now.timeIntervalSince(currentStart)
    var left = max(0, e[current] * ratio - elapsed)
    if let done, done > 0, done < 1 { left = max(left, elapsed / done * (1 - done)) }
    if done == 1 { left = 0 }
    return left + e[(current + 1)...].reduce(0, +) * ratio
  }

  /// "[all 4/10 fig4 · ETA 52 min]".
  public func prefix(done: Double? = nil, now: Date = Date()) -> String {
    let left = remaining(done: done, now: now)
    lock.lock(); defer { lock.unlock() }
    let id = current < items.count ? items[current].id : "done"
    return "[all \(min(current + 1, items.count))/\(items.count) \(id) · ETA \(Self.duration(left))]"
  }

  /// "45 s", "12 min", "1.4 h".
  public static func duration(_ s: Double) -> String {
    s >= 5400 ? String(format: "%.1f h", s / 3600) : s > 90 ? "\(Int((s / 60).rounded())) min" : "\(Int(s.rounded())) s"
  }
}
