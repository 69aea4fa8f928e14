import Foundation
import Testing
@testable import Experiments

struct ToyConfig: Codable, Hashable, Overridable {
  var steps = 10
  var eta = 0.1
  var etas: [Double] = [0.01, 0.1]
  var warmups: [Int] = [0, 100]
  var model = "mlp"

  static var fields: [ConfigField<ToyConfig>] {
    [.int("steps", \.steps, in: 1...1000), .double("eta", \.eta, in: 0...10, excluding: [0]),
     .doubles("etas", \.etas, in: 0...10, excluding: [0]), .ints("warmups", \.warmups, in: 0...1000),
     .string("model", \.model, allowed: ["mlp", "cnn"])]
  }
}

struct ToyResult: Codable, Equatable { var loss: Double }

@Suite("Harness: keys, store, shards, overrides")
struct HarnessTests {
  func tempRoot() -> String {
    let p = FileManager.default.temporaryDirectory.appendingPathComponent("repro-store-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
    try? FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
    return p
  }

  @Test func keysAreStableAndSensitiveToEveryField() throws {
    let a = try RunKey(label: "mlp η=0.1", configuration: ToyConfig())
    let b = try RunKey(label: "mlp η=0.1", configuration: ToyConfig())
    #expect(a == b && a.description == b.description)
    #expect(a.label == "mlp__=0.1")
    // The hash of a fixed configuration is pinned: a change here silently orphans stored results.
    #expect(RunKey.fnv1a(Data("a".utf8)) == 0xaf63_dc4c_8601_ec8c)
    var c = ToyConfig(); c.steps = 11
    var d = ToyConfig(); d.etas = [0.01, 0.2]
    let keys = try [ToyConfig(), c, d].map { try RunKey(label: "x", configuration: $0) }
    #expect(Set(keys).count == 3)
  }

  @Test func storeRoundTripsAndDetectsCorruption() throws {
    let store = ResultStore(root: tempRoot())
    let key = try RunKey(label: "run", configuration: ToyConfig())
    #expect(store.load(ToyResult.self, experiment: "fig2", scale: "tiny", key: key) == nil)
    try store.save(config: ToyConfig(), result: ToyResult(loss: 1.5), experiment: "fig2", scale: "tiny", key: key)
    #expect(store.load(ToyResult.self, experiment: "fig2", scale: "tiny", key: key) == ToyResult(loss: 1.5))
    // No temporary files are left behind.
    let dir = store.directory(experiment: "fig2", scale: "tiny", key: key)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["config.json", "result.json"])
    // A truncated result (a kill mid-write without the rename) is detected and reported.
    let url = dir.appendingPathComponent("result.json")
    try Data("{\"loss\": 1.".utf8).write(to: url)
    var warnings: [String] = []
    #expect(store.load(ToyResult.self, experiment: "fig2", scale: "tiny", key: key, warn: { warnings.append($0) }) == nil)
    #expect(warnings.count == 1 && warnings[0].contains("corrupt"))
  }

  /// A diverged run's last loss is NaN or ±∞: it is stored and read back, not a crash.
  @Test func nonFiniteNumbersAreStored() throws {
    struct Curve: Codable { var losses: [Double] }
    let store = ResultStore(root: tempRoot())
    let key = try RunKey(label: "diverged", configuration: ToyConfig())
    try store.save(config: ToyConfig(), result: Curve(losses: [2.3, .infinity, -.infinity, .nan]), experiment: "fig2", scale: "tiny", key: key)
    let back = try #require(store.load(Curve.self, experiment: "fig2", scale: "tiny", key: key))
    #expect(back.losses[0] == 2.3 && back.losses[1] == .infinity && back.losses[2] == -.infinity && back.losses[3].isNaN)
  }

  @Test func unwritableRootIsAnError() throws {
    let store = ResultStore(root: "/proc/repro-cannot-write")
    let key = try RunKey(label: "r", configuration: ToyConfig())
    #expect(throws: HarnessError.self) {
      try store.save(config: ToyConfig(), result: ToyResult(loss: 0), experiment: "e", scale: "tiny", key: key)
    }
  }

  @Test(arguments: [1, 2, 3, 5, 8])
  func shardsPartitionTheSweep(n: Int) throws {
    let runs = Array(0..<23)
    let parts = try (1...n).map { try Shard(parsing: "\($0)/\(n)").select(runs) }
    #expect(parts.flatMap { $0 }.sorted() == runs)                    // the union is the sweep
    #expect(parts.map(\.count).reduce(0, +) == runs.count)            // no overlap
    #expect(parts.map(\.count).max()! - parts.map(\.count).min()! <= 1)  // balanced
  }

  @Test func malformedShards() {
    for bad in ["3/2", "0/4", "1/0", "a/b", "1", "1/2/3", "-1/2", ""] {
      #expect(throws: HarnessError.badShard(bad)) { _ = try Shard(parsing: bad) }
    }
  }

  @Test func overrides() throws {
    var c = ToyConfig()
    try c.apply(overrides: ["steps=25", "eta = 0.5", "etas=0.1,0.3", "warmups=0", "model=cnn"])
    #expect(c.steps == 25 && c.eta == 0.5 && c.etas == [0.1, 0.3] && c.warmups == [0] && c.model == "cnn")
    #expect(throws: HarnessError.unknownKey("stepz", valid: ["eta", "etas", "model", "steps", "warmups"])) {
      try c.apply(overrides: ["stepz=3"])
    }
    #expect(throws: HarnessError.badValue(key: "steps", value: "ten", expected: "an integer in 1…1000")) { try c.apply(overrides: ["steps=ten"]) }
    // Values outside a field's range name the key, the value and the range.
    #expect(throws: HarnessError.badValue(key: "steps", value: "0", expected: "an integer in 1…1000")) { try c.apply(overrides: ["steps=0"]) }
    #expect(throws: HarnessError.badValue(key: "eta", value: "0", expected: "a number in (0, 10]")) { try c.apply(overrides: ["eta=0"]) }
    #expect(throws: HarnessError.self) { try c.apply(overrides: ["eta=nan"]) }
    #expect(throws: HarnessError.self) { try c.apply(overrides: ["etas=0.1,-1"]) }
    #expect(throws: HarnessError.self) { try c.apply(overrides: ["etas=0.1,"]) }
    #expect(throws: HarnessError.self) { try c.apply(overrides: ["warmups=0,,5"]) }
    #expect(throws: HarnessError.self) { try c.apply(overrides: ["warmups=99999999999999999999"]) }
    #expect(throws: HarnessError.self) { try c.apply(overrides: ["etas=0.1,x"]) }
    #expect(throws: HarnessError.self) { try c.apply(overrides: ["model=vit"]) }
    #expect(throws: HarnessError.self) { try c.apply(overrides: ["steps"]) }
    #expect(HarnessError.unknownKey("k", valid: ["a", "b"]).description == "unknown key 'k'; valid keys: a, b")
  }
}

@Suite("Stability sweep keys")
struct StabilitySweepKeyTests {
  @Test func extendingTheGridKeepsStoredRunKeys() throws {
    let base = Fig2().settings(for: .tiny, seed: 0)
    var wider = base
    wider.learningRates.append(10)
    wider.seeds.append(1)
    let keys = { (s: StabilitySettings) in Set(try StabilitySweep.runs(s).map { try RunKey(label: StabilitySweep.label($0), configuration: $0) }) }
    let a = try keys(base), b = try keys(wider)
    #expect(a.isSubset(of: b) && b.count > a.count)
    // A setting that changes training changes every key.
    var longer = base
    longer.steps += 1
    #expect(try keys(longer).isDisjoint(with: a))
  }
}
