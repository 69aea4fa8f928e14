import Foundation
import ML

/// MetaInit's results, computed once per process for each network and seed.
///
/// Why: MetaInit does not depend on the learning rate, the warmup or anything else a sweep
/// varies over one row (its data are random batches seeded by the run's seed), yet every run of
/// a `+metainit` row starts from it; on the small WRN it takes about 18 s against 12 s of
/// training, and a row has 12 runs per seed. The cache keeps, per key, the parameters at every
/// iteration the runs may observe (`observed`), so each run measures λ1 through the method on
/// its own measurement plan exactly as if it had run MetaInit itself: the result is
/// bit-identical (same inputs, same single-threaded arithmetic), only computed once.
///
/// Concurrent runs that need the same key wait for the first to finish rather than computing it
/// twice.
final class MetaInitCache: @unchecked Sendable {
  static let shared = MetaInitCache()

  init() {}

  struct Key: Hashable {
    var model: String
    var modelWidth: Int?
    var size: ModelZoo.Size
    var loss: LossKind
    var l2: Double
    var initScale: Double
    var seed: UInt64
    var iterations: Int
  }

  struct Entry {
    var parameters: [Tensor<Float>]
    var report: MetaInit.Report
    /// The parameters after iteration k, for every k a run may measure λ1 at.
    var observed: [Int: [Tensor<Float>]]
  }

  private let condition = NSCondition()
  /// How many entries were computed (not served from the cache): for tests.
  private(set) var computed = 0
  private var entries: [Key: Entry] = [:]
  private var inFlight = Set<Key>()
  /// Bounded so a long sweep over many seeds does not hold every result (a few MB each).
  private let capacity = 16

  /// The entry for `key`, computing it with `compute` unless present or being computed.
  func entry(_ key: Key, compute: () -> Entry) -> Entry {
    condition.lock()
    while true {
      if let e = entries[key] { condition.unlock(); return e }
      if !inFlight.contains(key) { break }
      condition.wait()
    }
    inFlight.insert(key)
    computed += 1
    condition.unlock()
    let e = compute()
    condition.lock()
    if entries.count >= capacity, let evict = entries.keys.first { entries[evict] = nil }
    entries[key] = e
    inFlight.remove(key)
    condition.broadcast()
    condition.unlock()
    return e
  }
}
