#if canImport(Glibc)
import Glibc
#endif

/// The primals of the products (matrix products and convolutions) of one Hessian-vector product,
/// kept from the first product at a point and reused by the next ones there.
///
/// Why: Lanczos applies H to 20 or more vectors at the same parameters and batch. In
/// forward-over-reverse differentiation every primal, the activations and the cotangents alike,
/// depends on the parameters and the batch only, never on the direction v, so after the first
/// product only the tangents are new. The products' primals are most of the repeated work: a
/// convolution layer's H·v computes its output and its input cotangent besides four tangent
/// products, so replaying the two saves a quarter of the layer's arithmetic.
///
/// The ops run in the same order every time (the same code on the same shapes), so the k-th
/// product of a replay takes the k-th recorded value. Every value's shape is checked, and so is
/// the count at the end of each replay. Element-wise primals are recomputed: they cost memory
/// traffic, which caching them would not save.
public final class PrimalCache<S: TensorScalar> {
  enum Phase { case recording, replaying, off }

  /// The most a cache holds, in bytes. A recording that would exceed it is dropped and the
  /// products are computed every time, as without a cache (a full-scale measurement set can
  /// hold gigabytes of activations).
  public static var defaultBudget: Int { 1 << 30 }

  let budget: Int
  var phase = Phase.recording
  var values: [Tensor<S>] = []
  var bytes = 0
  var cursor = 0

  public init(budget: Int = PrimalCache.defaultBudget) { self.budget = budget }

  /// Whether products are being replayed from this cache (false before the first product
  /// and after a recording went over the budget).
  public var isReplaying: Bool { phase == .replaying }

  /// Runs `body` (one Hessian-vector product at this cache's point) with this cache serving
  /// the products of the current thread.
  public func run<R>(_ body: () -> R) -> R {
    let previous = pthread_getspecific(primalCacheKey)
    pthread_setspecific(primalCacheKey, Unmanaged.passUnretained(self as AnyObject).toOpaque())
    defer { pthread_setspecific(primalCacheKey, previous) }
    let result = body()
    switch phase {
    case .recording: phase = .replaying
    case .replaying:
      precondition(cursor == values.count, "PrimalCache: a replay used \(cursor) of \(values.count) recorded products")
    case .off: break
    }
    cursor = 0
    return result
  }

  /// `body` through `cache.run` when there is a cache, else as it is.
  public static func run<R>(_ cache: PrimalCache?, _ body: () -> R) -> R {
    guard let cache else { return body() }
    return cache.run(body)
  }

  /// The product of shape `shape`: recorded, replayed or computed.
  func value(shape: () -> [Int], _ compute: () -> Tensor<S>) -> Tensor<S> {
    switch phase {
    case .off:
      return compute()
    case .replaying:
      precondition(cursor < values.count, "PrimalCache: a replay asked for more than \(values.count) recorded products")
      let v = values[cursor]
      precondition(v.shape == shape(), "PrimalCache: replayed product \(cursor) has shape \(v.shape), expected \(shape())")
      cursor += 1
      return v
    case .recording:
      let v = compute()
      bytes += v.count * MemoryLayout<S>.stride
      if bytes > budget {
        phase = .off
        values = []
      } else {
        values.append(v)
      }
      return v
    }
  }

  /// The cache serving the current thread, if any.
  static var current: PrimalCache? {
    guard let p = pthread_getspecific(primalCacheKey) else { return nil }
    return Unmanaged<AnyObject>.fromOpaque(p).takeUnretainedValue() as? PrimalCache
  }
}

/// A product's primal through the current thread's `PrimalCache`, or computed when none serves.
@usableFromInline
func cachedProduct<S: TensorScalar>(shape: @autoclosure () -> [Int], _ compute: () -> Tensor<S>) -> Tensor<S> {
  guard let cache = PrimalCache<S>.current else { return compute() }
  return cache.value(shape: shape, compute)
}

private let primalCacheKey: pthread_key_t = {
  var key = pthread_key_t()
  let status = pthread_key_create(&key, nil)
  precondition(status == 0, "pthread_key_create failed (\(status))")
  return key
}()

/// One `PrimalCache` per shard of a batch (see `Network.hessianVectorProduct`): each shard
/// replays its own products. A change of shards (another thread count) starts over.
///
/// Sendable so that a `SymmetricOperator` may hold it; its user must run one product at a
/// time (`Network.hessianOperator` serializes its applications).
public final class PrimalCaches<S: TensorScalar>: @unchecked Sendable {
  let budget: Int
  var layout: [Range<Int>] = []
  var caches: [PrimalCache<S>] = []

  /// `budget` is shared among the shards.
  public init(budget: Int = PrimalCache<S>.defaultBudget) { self.budget = budget }

  /// The caches for these shards, in order (made fresh when the shards differ from the last).
  func caches(for shards: [Range<Int>]) -> [PrimalCache<S>] {
    if shards != layout {
      layout = shards
      caches = shards.map { _ in PrimalCache(budget: budget / Swift.max(shards.count, 1)) }
    }
    return caches
  }
}
