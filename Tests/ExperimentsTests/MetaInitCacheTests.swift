import Foundation
import ML
import Testing
@testable import Experiments

@Suite("MetaInit computed once per network and seed")
struct MetaInitCacheTests {
  static let haveData = FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")

  /// A run served from the cache (filled by a traced run at another η) has exactly the outcome
  /// it has when it computes MetaInit itself: the same scales, gradient quotients, λ1 through
  /// the method, and training.
  @Test(.enabled(if: haveData, "dataset-fashion-mnist not installed"))
  func aCachedRunEqualsAFreshOne() throws {
    var s = StabilitySweep.settings(for: .tiny, seed: 0)
    s.steps = 12
    s.midStep = 6
    s.midSteps = [6]
    s.initIterations = 4
    let traced = StabilitySweep.recipe(s, row: "resmlp-none+metainit", learningRate: 0.3, warmup: 0, seed: 0, trace: true)
    let plain = StabilitySweep.recipe(s, row: "resmlp-none+metainit", learningRate: 0.03, warmup: 0, seed: 0, trace: false)
    let shared = MetaInitCache(), fresh = MetaInitCache()
    _ = try RecipeTrainer.train(traced, dataDirectory: nil, progress: nil, metaInitCache: shared)
    let cached = try RecipeTrainer.train(plain, dataDirectory: nil, progress: nil, metaInitCache: shared)
    let alone = try RecipeTrainer.train(plain, dataDirectory: nil, progress: nil, metaInitCache: fresh)
    #expect(shared.computed == 1 && fresh.computed == 1)
    let a = try #require(cached.initialization), b = try #require(alone.initialization)
    #expect(a.scales == b.scales && a.metaLoss == b.metaLoss)
    #expect(a.lambda1.map(\.step) == [0, 4] && a.lambda1.map(\.lambda1) == b.lambda1.map(\.lambda1))
    #expect(a.lambda1.allSatisfy { $0.learningRate == 0.03 })
    #expect(cached.lossCurve == alone.lossCurve && cached.measurements.map(\.lambda1) == alone.measurements.map(\.lambda1))
    // Another seed is another entry.
    _ = try RecipeTrainer.train(StabilitySweep.recipe(s, row: "resmlp-none+metainit", learningRate: 0.03, warmup: 0, seed: 1, trace: false),
                                dataDirectory: nil, progress: nil, metaInitCache: shared)
    #expect(shared.computed == 2)
  }
}
