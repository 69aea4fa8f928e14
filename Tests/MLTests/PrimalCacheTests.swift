import Testing
@testable import ML

/// Replaying the products' primals (`PrimalCache`) must give exactly the products computed
/// afresh: the primals never depend on the direction, so H·v is bit-identical, for every model
/// family, whole or in shards, and when the budget turns the cache off.
@Suite("Primal cache")
struct PrimalCacheTests {
  static let names = zooMembers(.tiny).map(\.0)

  static func member(_ name: String) -> (Network, Batch<Float>, [Tensor<Float>], [Tensor<Float>]) {
    let network = zooMembers(.tiny).first { $0.0 == name }!.1
    let params: [Tensor<Float>] = network.initialParameters(seed: 3)
    return (network, zooBatch(name, .tiny, batch: 6), params, network.initialBuffers())
  }

  static func directions(_ params: [Tensor<Float>], count: Int) -> [[Tensor<Float>]] {
    (0..<count).map { k in params.enumerated().map { randomTensor($0.element.shape, seed: 100 * UInt64(k + 1) + UInt64($0.offset)) } }
  }

  @Test(arguments: names)
  func replayedProductsGiveTheSameHVP(_ name: String) {
    let (network, batch, params, buffers) = Self.member(name)
    let caches = PrimalCaches<Float>()
    for v in Self.directions(params, count: 3) {
      let fresh = network.hessianVectorProduct(parameters: params, buffers: buffers, batch: batch, direction: v, gradient: false)
      let cached = network.hessianVectorProduct(parameters: params, buffers: buffers, batch: batch, direction: v,
                                                gradient: false, primalCaches: caches)
      #expect(cached.loss == fresh.loss, "\(name) loss")
      let same = cached.hvp.map(\.scalars) == fresh.hvp.map(\.scalars)
      #expect(same, "\(name) H·v")
    }
    let cache = caches.caches(for: [0..<batch.count])[0]
    #expect(cache.isReplaying, "\(name): the products were not replayed")
    #expect(!cache.values.isEmpty)
  }

  /// Shards replay their own products (networks whose examples are independent).
  @Test(arguments: names)
  func shardsReplayTheirOwnProducts(_ name: String) {
    let (network, batch, params, buffers) = Self.member(name)
    guard network.bufferSpecs.isEmpty else { return }  // BatchNorm couples the examples: never sharded
    let shards = [0..<2, 2..<6]
    let caches = PrimalCaches<Float>()
    for v in Self.directions(params, count: 2) {
      let fresh = network.shardedHessianVectorProduct(parameters: params, buffers: buffers, batch: batch, direction: v,
                                                      gradient: false, shards: shards)
      let cached = network.shardedHessianVectorProduct(parameters: params, buffers: buffers, batch: batch, direction: v,
                                                       gradient: false, shards: shards, primalCaches: caches)
      let same = cached.hvp.map(\.scalars) == fresh.hvp.map(\.scalars)
      #expect(same, "\(name) sharded H·v")
    }
    let replaying = caches.caches(for: shards).map(\.isReplaying)
    #expect(replaying == [true, true])
  }

  /// Over its budget a cache drops its recording and computes every product again.
  @Test func overTheBudgetTheCacheTurnsOff() {
    let (network, batch, params, buffers) = Self.member("wrn batchNorm")
    let caches = PrimalCaches<Float>(budget: 1024)
    for v in Self.directions(params, count: 2) {
      let fresh = network.hessianVectorProduct(parameters: params, buffers: buffers, batch: batch, direction: v, gradient: false)
      let cached = network.hessianVectorProduct(parameters: params, buffers: buffers, batch: batch, direction: v,
                                                gradient: false, primalCaches: caches)
      let same = cached.hvp.map(\.scalars) == fresh.hvp.map(\.scalars)
      #expect(same)
    }
    let cache = caches.caches(for: [0..<batch.count])[0]
    #expect(!cache.isReplaying)
    #expect(cache.values.isEmpty)
  }

  /// The Hessian operator caches by default, and Lanczos on it finds the same eigenvalues as
  /// without the cache. To rounding, not bit for bit: Lanczos's own Float64 reductions
  /// (dgemv) follow OpenBLAS's thread count, which tests running alongside change.
  @Test func lanczosOnTheCachingOperatorIsUnchanged() throws {
    let (network, batch, params, buffers) = Self.member("wrn batchNorm")
    let cached = network.hessianOperator(parameters: params, buffers: buffers, batch: batch)
    let fresh = network.hessianOperator(parameters: params, buffers: buffers, batch: batch, cachingPrimals: false)
    let a = try lanczos(cached, iterations: 8, topK: 2, seed: 1)
    let b = try lanczos(fresh, iterations: 8, topK: 2, seed: 1)
    for (x, y) in zip(a.eigenpairs, b.eigenpairs) {
      expectClose(x.value, y.value, rtol: 1e-12, atol: 1e-12, "Ritz value")
      expectClose(x.residual, y.residual, rtol: 1e-9, atol: 1e-12, "Ritz residual")
    }
  }
}
