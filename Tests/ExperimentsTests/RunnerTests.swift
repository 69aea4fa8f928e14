import Foundation
import Plotting
import Testing
@testable import Experiments

/// A toy experiment whose runs square numbers, counting executions and failing on demand, so
/// resume and sharding are tested without training anything.
final class ExecutionLog: @unchecked Sendable {
  let lock = NSLock()
  var executed: [Int] = []
  var failAt: Int?
  func record(_ x: Int) throws {
    lock.lock()
    defer { lock.unlock() }
    if x == failAt { throw Killed() }
    executed.append(x)
  }
  struct Killed: Error {}
}

struct ToySettings: Codable, Hashable, Sendable, Overridable {
  var count = 6
  static var fields: [ConfigField<ToySettings>] { [.int("count", \.count, in: 0...1000)] }
}

struct Toy: Experiment {
  let log: ExecutionLog
  /// With follow-ups: once every run is stored, one more run, 100 + the largest.
  var followUp = false
  /// With a second figure ("roots") drawn from the same data.
  var extraFigure = false
  /// An adaptive search of this many follow-ups, one per round: 100, 101, … each chosen only
  /// once the ones before it are stored (as fig6 walks an η grid).
  var chain = 0
  let id = "toy"
  let title = "Squares"
  let paperReference = "none"
  let resultsVersion = 1
  func estimatedSeconds(_ scale: ExperimentScale) -> Double? { 1 }
  func settings(for scale: ExperimentScale, seed: UInt64) -> ToySettings { ToySettings() }
  func runs(_ s: ToySettings) -> [Int] { Array(0..<s.count) }
  func label(_ r: Int) -> String { "x=\(r)" }
  func followUpRuns(_ s: ToySettings, results: [(run: Int, outcome: Int)]) -> [Int] {
    // Listed twice, as two rules picking one run would: trained and drawn once.
    if chain > 0 {
      let done = results.filter { $0.run >= 100 }.count
      return Array(100...(100 + min(done, chain - 1)))
    }
    return followUp ? [100 + (results.map(\.run).max() ?? 0), 100 + (results.map(\.run).max() ?? 0)] : []
  }
  func followUpRounds(_ s: ToySettings) -> Int { chain > 0 ? 10 : 1 }
  func execute(_ r: Int, settings: ToySettings, context: RunContext) throws -> Int {
    try log.record(r)
    return r * r
  }
  func summarize(_ o: Int) -> String { "\(o)" }
  func figureData(settings: ToySettings, results: [(run: Int, outcome: Int)]) -> [Int] { results.map(\.outcome).sorted() }
  func claims(_ d: [Int]) -> [ClaimOutcome] {
    [ClaimOutcome(id: "T1", statement: "squares are non-negative", check: "all ≥ 0", holds: d.allSatisfy { $0 >= 0 }, measured: "\(d.count) values")]
  }
  func figure(_ d: [Int], caption: String) -> Figure {
    var ax = Axes(title: "squares")
    ax.scatter(x: d.indices.map(Double.init), y: d.map(Double.init), color: Palette.blue, label: "x²")
    var f = Figure(caption: caption)
    f[0, 0] = ax
    return f
  }
  func additionalFigures(_ d: [Int], caption: String) -> [(suffix: String, figure: Figure)] {
    extraFigure ? [("roots", figure(d.map { Int(Double($0).squareRoot()) }, caption: caption))] : []
  }
  func table(_ d: [Int]) -> String { d.map(String.init).joined(separator: ", ") }
  func drift(_ d: [Int], golden: [Int]) -> [String] { d == golden ? [] : ["\(d) vs \(golden)"] }
}

@Suite("Experiment runner")
struct RunnerTests {
  func options(_ root: String) -> RunOptions {
    var o = RunOptions()
    o.scale = .tiny
    o.outDirectory = root
    o.quiet = true
    return o
  }

  func tempRoot() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("repro-runner-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
  }

  @Test func followUpRunsTrainOnceThePrimaryRunsAreStored() throws {
    let root = tempRoot()
    let log = ExecutionLog()
    // A shard that leaves primary runs missing trains no follow-up.
    var half = options(root)
    half.shard = try Shard(parsing: "1/2")
    _ = try ExperimentRunner(Toy(log: log, followUp: true), options: half).run()
    #expect(!log.executed.contains { $0 >= 100 })
    // The complete sweep picks the follow-up from the stored outcomes, trains it after them,
    // and draws it with them; a second call trains nothing.
    let s = try ExperimentRunner(Toy(log: log, followUp: true), options: options(root)).run()
    #expect(log.executed.last == 105 && log.executed.count == 7)
    #expect(s.runsPresent == 7 && s.runsTotal == 7)
    let again = try ExperimentRunner(Toy(log: log, followUp: true), options: options(root)).run()
    #expect(again.runsTrained == 0 && log.executed.count == 7)
    #expect(try ExperimentRunner(Toy(log: log, followUp: true), options: options(root)).render().runsPresent == 7)
  }

  @Test func followUpRoundsEachSeeTheRoundsBeforeAndResumeAfterAKill() throws {
    let root = tempRoot()
    let log = ExecutionLog()
    log.failAt = 101  // killed in the second round
    #expect(throws: ExecutionLog.Killed.self) { _ = try ExperimentRunner(Toy(log: log, chain: 3), options: options(root)).run() }
    #expect(log.executed == [0, 1, 2, 3, 4, 5, 100])
    log.failAt = nil
    let s = try ExperimentRunner(Toy(log: log, chain: 3), options: options(root)).run()
    // Round 1 finds 100 stored and chooses 101; round 2 chooses 102; round 3 nothing new.
    #expect(log.executed == [0, 1, 2, 3, 4, 5, 100, 101, 102])
    #expect(s.runsPresent == 9 && s.runsTotal == 9 && s.runsTrained == 2)
    // render replays the rounds from the store alone.
    let r = try ExperimentRunner(Toy(log: log, chain: 3), options: options(root)).render()
    #expect(r.runsPresent == 9 && r.runsTotal == 9)
    #expect(try ExperimentRunner(Toy(log: log, chain: 3), options: options(root)).run().runsTrained == 0)
  }

  @Test func resumesAfterAKillMidSweep() throws {
    let root = tempRoot()
    let log = ExecutionLog()
    log.failAt = 3  // the "kill": run 3 aborts the sweep
    #expect(throws: ExecutionLog.Killed.self) { _ = try ExperimentRunner(Toy(log: log), options: options(root)).run() }
    #expect(log.executed == [0, 1, 2])
    log.failAt = nil
    let s = try ExperimentRunner(Toy(log: log), options: options(root)).run()
    // Only the runs that were not stored are trained again.
    #expect(log.executed == [0, 1, 2, 3, 4, 5])
    #expect(s.runsPresent == 6 && s.runsTrained == 3)
    // Outputs: figure, data, table, and a REPRODUCE.md section with the claims.
    for f in ["figures/toy.png", "figures/toy.svg", "figures/data/toy.json", "tables/toy.md", "REPRODUCE.md"] {
      #expect(FileManager.default.fileExists(atPath: root + "/" + f), "\(f)")
    }
    let reproduce = try String(contentsOfFile: root + "/REPRODUCE.md", encoding: .utf8)
    #expect(reproduce.contains("<!-- BEGIN toy -->") && reproduce.contains("squares are non-negative"))
    // Rendering again replaces the section instead of appending another.
    _ = try ExperimentRunner(Toy(log: log), options: options(root)).render()
    let again = try String(contentsOfFile: root + "/REPRODUCE.md", encoding: .utf8)
    #expect(again.components(separatedBy: "<!-- BEGIN toy -->").count == 2)
  }

  @Test func committedOutputsAreNotReplacedByFewerRunsOrBySubsets() throws {
    let root = tempRoot()
    let log = ExecutionLog()
    _ = try ExperimentRunner(Toy(log: log), options: options(root)).run()
    let dataPath = root + "/figures/data/toy.json"
    let canonical = try Data(contentsOf: URL(fileURLWithPath: dataPath))
    // A render at another scale finds no runs: an error, and nothing is written.
    var full = options(root)
    full.scale = .full
    #expect(throws: HarnessError.self) { _ = try ExperimentRunner(Toy(log: log), options: full).render() }
    #expect(try Data(contentsOf: URL(fileURLWithPath: dataPath)) == canonical)
    // Fewer runs than the outputs hold (a store with a run deleted): refused unless forced.
    let runs = root + "/results/toy/tiny"
    try FileManager.default.removeItem(atPath: runs + "/" + (try FileManager.default.contentsOfDirectory(atPath: runs).sorted()[0]))
    do {
      _ = try ExperimentRunner(Toy(log: log), options: options(root)).render()
      Issue.record("a render from 5 of 6 runs replaced outputs drawn from 6")
    } catch let e as HarnessError {
      #expect(e.description.contains("holds 6 of 6 runs") && e.description.contains("5 of 6 runs"), "\(e)")
    }
    #expect(try Data(contentsOf: URL(fileURLWithPath: dataPath)) == canonical)
    _ = try ExperimentRunner(Toy(log: log), options: options(root)).run()
    let retrained = try Data(contentsOf: URL(fileURLWithPath: dataPath))
    // A run with --set overrides writes under its own name, recording the whole command.
    var subset = options(root)
    subset.overrides = ["count=3"]
    let name = subset.outputName("toy")
    #expect(name.hasPrefix("toy-custom-") && name != RunOptions().outputName("toy"))
    _ = try ExperimentRunner(Toy(log: log), options: subset).run()
    #expect(try Data(contentsOf: URL(fileURLWithPath: dataPath)) == retrained)
    let custom = try JSONDecoder().decode(ExperimentReport<[Int]>.self, from: Data(contentsOf: URL(fileURLWithPath: root + "/figures/data/\(name).json")))
    #expect(custom.runsPresent == 3 && custom.overrides == ["count=3"])
    #expect(custom.command == "swift run -c release repro toy --scale tiny --set 'count=3'")
    let reproduce = try String(contentsOfFile: root + "/REPRODUCE.md", encoding: .utf8)
    #expect(reproduce.contains("<!-- BEGIN toy -->") && reproduce.contains("<!-- BEGIN \(name) -->"))
    #expect(FileManager.default.fileExists(atPath: root + "/figures/\(name).png"))
    // --force replaces even with fewer runs.
    try FileManager.default.removeItem(atPath: root + "/results/toy/tiny")
    var forced = options(root)
    forced.force = true
    #expect(try ExperimentRunner(Toy(log: log), options: forced).render().runsPresent == 0)
  }

  @Test("shards in either order, then render: the same figure as one process, follow-ups included", arguments: [["1/2", "2/2"], ["2/2", "1/2"]])
  func shardedFollowUpsComplete(order: [String]) throws {
    let root = tempRoot(), single = tempRoot()
    let log = ExecutionLog()
    for shard in order {
      var o = options(root)
      o.shard = try Shard(parsing: shard)
      _ = try ExperimentRunner(Toy(log: log, followUp: true), options: o).run()
    }
    #expect(log.executed.filter { $0 == 105 }.count == 1)
    let sharded = try ExperimentRunner(Toy(log: log, followUp: true), options: options(root)).render()
    _ = try ExperimentRunner(Toy(log: ExecutionLog(), followUp: true), options: options(single)).run()
    let read = { (r: String) in try JSONDecoder().decode(ExperimentReport<[Int]>.self, from: Data(contentsOf: URL(fileURLWithPath: r + "/figures/data/toy.json"))).data }
    let a = try read(root), b = try read(single)
    #expect(sharded.runsPresent == 7 && a == b)
  }

  @Test func aRunClaimedByALiveProcessIsLeftToIt() throws {
    let root = tempRoot()
    let log = ExecutionLog()
    let runner = ExperimentRunner(Toy(log: log), options: options(root))
    let dir = runner.store.directory(experiment: "toy", scale: "tiny", key: try runner.key(2))
    let held = try #require(try RunClaim.acquire(directory: dir))
    // A second claim on the same run fails while the first is fresh, succeeds once it is stale.
    #expect(try RunClaim.acquire(directory: dir) == nil)
    #expect(try RunClaim.acquire(directory: dir, now: Date().addingTimeInterval(RunClaim.staleAfter + 1)) != nil)
    try RunClaim.acquire(directory: dir)?.release()  // (nil: the takeover above holds it)
    #expect(try RunClaim.acquire(directory: dir) == nil)
    let s = try runner.run()
    #expect(log.executed == [0, 1, 3, 4, 5] && s.runsPresent == 5)
    held.release()
    _ = try runner.run()
    #expect(log.executed == [0, 1, 3, 4, 5, 2])
    // No claim is left behind by a finished run.
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("claim").path))
  }

  @Test func shardsRunDisjointPartsAndRenderMerges() throws {
    let root = tempRoot()
    let log = ExecutionLog()
    var o = options(root)
    o.shard = try Shard(parsing: "1/2")
    let first = try ExperimentRunner(Toy(log: log), options: o).run()
    #expect(log.executed == [0, 2, 4] && first.runsPresent == 3)
    o.shard = try Shard(parsing: "2/2")
    let second = try ExperimentRunner(Toy(log: log), options: o).run()
    #expect(log.executed.sorted() == [0, 1, 2, 3, 4, 5] && second.runsPresent == 6)
    let data = try JSONDecoder().decode(ExperimentReport<[Int]>.self, from: Data(contentsOf: URL(fileURLWithPath: root + "/figures/data/toy.json")))
    #expect(data.data == [0, 1, 4, 9, 16, 25] && data.claims.first?.holds == true)
  }

  @Test func experimentsSharingASweepTrainEachRunOnce() throws {
    struct Other: Experiment {
      let toy: Toy
      let id = "toy-other"
      var sweepID: String { "toy" }
      let title = "Squares again", paperReference = "none", resultsVersion = 1
      func estimatedSeconds(_ scale: ExperimentScale) -> Double? { nil }
      func settings(for scale: ExperimentScale, seed: UInt64) -> ToySettings { toy.settings(for: scale, seed: seed) }
      func runs(_ s: ToySettings) -> [Int] { toy.runs(s) }
      func label(_ r: Int) -> String { toy.label(r) }
      func execute(_ r: Int, settings: ToySettings, context: RunContext) throws -> Int { try toy.execute(r, settings: settings, context: context) }
      func summarize(_ o: Int) -> String { toy.summarize(o) }
      func figureData(settings: ToySettings, results: [(run: Int, outcome: Int)]) -> [Int] { toy.figureData(settings: settings, results: results) }
      func claims(_ d: [Int]) -> [ClaimOutcome] { [] }
      func figure(_ d: [Int], caption: String) -> Figure { toy.figure(d, caption: caption) }
      func table(_ d: [Int]) -> String { toy.table(d) }
      func drift(_ d: [Int], golden: [Int]) -> [String] { [] }
    }
    let root = tempRoot()
    let log = ExecutionLog()
    _ = try ExperimentRunner(Toy(log: log), options: options(root)).run()
    let s = try ExperimentRunner(Other(toy: Toy(log: log)), options: options(root)).run()
    #expect(log.executed == [0, 1, 2, 3, 4, 5] && s.runsPresent == 6 && s.runsTrained == 0)
    #expect(FileManager.default.fileExists(atPath: root + "/figures/toy-other.png"))
  }

  @Test func additionalFiguresAreWrittenAndListed() throws {
    let root = tempRoot()
    let s = try ExperimentRunner(Toy(log: ExecutionLog(), extraFigure: true), options: options(root)).run()
    for f in ["figures/toy.png", "figures/toy.svg", "figures/toy-roots.png", "figures/toy-roots.svg"] {
      #expect(FileManager.default.fileExists(atPath: root + "/" + f), "\(f)")
      #expect(s.written.contains(root + "/" + f), "\(f) reported as written")
    }
    let reproduce = try String(contentsOfFile: root + "/REPRODUCE.md", encoding: .utf8)
    #expect(reproduce.contains("![toy](figures/toy.png)") && reproduce.contains("![toy-roots](figures/toy-roots.png)"))
    // An experiment without additional figures writes only its own.
    let plain = tempRoot()
    _ = try ExperimentRunner(Toy(log: ExecutionLog()), options: options(plain)).run()
    let files = try FileManager.default.contentsOfDirectory(atPath: plain + "/figures").filter { $0.hasSuffix(".png") }
    #expect(files == ["toy.png"])
  }

  @Test func parallelJobsTrainEachRunOnce() throws {
    let log = ExecutionLog()
    var o = options(tempRoot())
    o.jobs = 2
    _ = try ExperimentRunner(Toy(log: log), options: o).run()
    #expect(log.executed.sorted() == [0, 1, 2, 3, 4, 5])
  }

  @Test func corruptStoredRunIsRedone() throws {
    let root = tempRoot()
    let log = ExecutionLog()
    _ = try ExperimentRunner(Toy(log: log), options: options(root)).run()
    let runner = ExperimentRunner(Toy(log: log), options: options(root))
    let dir = runner.store.directory(experiment: "toy", scale: "tiny", key: try runner.key(4))
    try Data("{\"outcome\": ".utf8).write(to: dir.appendingPathComponent("result.json"))
    _ = try runner.run()
    #expect(log.executed.filter { $0 == 4 }.count == 2)
  }

  @Test func unwritableOutputFailsBeforeTraining() {
    let log = ExecutionLog()
    var o = options("/proc/repro-unwritable")
    o.jobs = 1
    #expect(throws: HarnessError.self) { _ = try ExperimentRunner(Toy(log: log), options: o).run() }
    #expect(log.executed.isEmpty)
  }

  @Test func overridesChangeKeysAndUnknownKeysFail() throws {
    let log = ExecutionLog()
    var o = options(tempRoot())
    o.overrides = ["count=2"]
    let s = try ExperimentRunner(Toy(log: log), options: o).run()
    #expect(s.runsTotal == 2)
    o.overrides = ["cnt=2"]
    #expect(throws: HarnessError.unknownKey("cnt", valid: ["count"])) { _ = try ExperimentRunner(Toy(log: log), options: o).run() }
  }

  @Test func goldenCheckRecordsThenMatchesThenDetectsDrift() throws {
    let golden = tempRoot()
    let first = try GoldenCheck.check(Toy(log: ExecutionLog()), options: options(tempRoot()), goldenDirectory: golden, record: false)
    #expect(first.recorded && !first.drift.isEmpty)  // a missing golden file fails once, recorded
    let second = try GoldenCheck.check(Toy(log: ExecutionLog()), options: options(tempRoot()), goldenDirectory: golden, record: false)
    #expect(second.drift.isEmpty && !second.recorded)
    // Tamper with the golden data: drift is reported.
    let path = golden + "/toy.json"
    var report = try JSONDecoder().decode(ExperimentReport<[Int]>.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    report.data[1] = 2
    try JSONEncoder().encode(report).write(to: URL(fileURLWithPath: path))
    let third = try GoldenCheck.check(Toy(log: ExecutionLog()), options: options(tempRoot()), goldenDirectory: golden, record: false)
    #expect(third.drift.count == 1)
  }
}
