import Foundation
import ML
import Plotting

/// Options shared by every experiment command.
public struct RunOptions: Sendable {
  public var scale: ExperimentScale = .small
  /// Root of `results/`, `figures/`, `tables/` and `REPRODUCE.md`.
  public var outDirectory: String = "."
  public var jobs: Int = 1
  public var blasThreads: Int = 2
  public var shard: Shard = .whole
  public var seed: UInt64 = 0
  public var dataDirectory: String?
  public var overrides: [String] = []
  public var quiet = false
  /// Replace committed outputs even with a figure drawn from fewer runs (`--force`).
  public var force = false
  /// Runs trained now keep their parameters (and optimizer state) at every curvature
  /// measurement, and their measurement batch, under `<run>/checkpoints/` (`--save-checkpoints`).
  public var saveCheckpoints = false
  /// `repro all`'s position across experiments, shown on every progress line (nil otherwise).
  public var overall: OverallProgress?

  public init() {}

  /// The name an experiment's outputs are written under: its id, or for a run with `--set`
  /// overrides `<id>-custom-<hash of the overrides>`, so that a subset never replaces the
  /// canonical figure, data, table or REPRODUCE section.
  public func outputName(_ id: String) -> String {
    guard !overrides.isEmpty else { return id }
    let h = RunKey.fnv1a(Data(overrides.joined(separator: "\n").utf8))
    return id + "-custom-" + String(format: "%08x", UInt32(truncatingIfNeeded: h ^ (h >> 32)))
  }

  /// The command that reproduces these outputs (scale, seed and every override).
  public func commandLine(_ id: String) -> String {
    var parts = ["swift run -c release repro", id]
    switch scale {
    case .small: parts.append("--small")
    case .tiny: parts.append("--scale tiny")
    case .full: break
    }
    if seed != 0 { parts.append("--seed \(seed)") }
    if let d = dataDirectory { parts.append("--data-dir \(d)") }
    parts += overrides.map { "--set '\($0)'" }
    return parts.joined(separator: " ")
  }
}

/// What a command did, for its closing lines.
public struct RunSummary: Sendable {
  public var experiment: String
  public var runsTotal: Int
  public var runsPresent: Int
  public var runsTrained: Int
  public var wallSeconds: Double
  public var claims: [ClaimOutcome]
  public var written: [String]
}

extension RunSummary {
  /// The closing summary of `repro all`: each experiment's claims with their verdicts, then
  /// every file written, each once.
  public static func closing(_ summaries: [RunSummary], seconds: Double) -> String {
    var lines = ["", "repro all: \(summaries.count) experiments, \(summaries.map(\.runsTrained).reduce(0, +)) runs trained now, \(OverallProgress.duration(seconds))"]
    let claims = summaries.flatMap(\.claims)
    lines.append("claims: \(claims.filter(\.holds).count) of \(claims.count) hold at this scale")
    for s in summaries {
      let each = s.claims.map { "\($0.id) \($0.holds ? "holds" : "does not hold")" }.joined(separator: ", ")
      lines.append("  \(s.experiment): \(each.isEmpty ? "no claims" : each)")
    }
    var seen = Set<String>()
    let files = summaries.flatMap(\.written).filter { seen.insert($0).inserted }
    lines.append("files written (\(files.count)):")
    lines += files.map { "  \($0)" }
    return lines.joined(separator: "\n")
  }
}

/// Runs an experiment's sweep (the runs of this shard missing from the store, `jobs` at a
/// time), then draws its figure, table, data and claims from every stored run.
public struct ExperimentRunner<E: Experiment> {
  public let experiment: E
  public let options: RunOptions

  public init(_ experiment: E, options: RunOptions) {
    self.experiment = experiment
    self.options = options
  }

  var store: ResultStore { ResultStore(root: options.outDirectory + "/results") }

  /// Settings for the scale with the `--set` overrides applied.
  public func resolvedSettings() throws -> E.Settings {
    var s = experiment.settings(for: options.scale, seed: options.seed)
    try s.apply(overrides: options.overrides)
    try experiment.validate(s)
    return s
  }

  /// A run's key: its label and the hash of (experiment, results version, run configuration).
  func key(_ run: E.Run) throws -> RunKey {
    return try RunKey(label: experiment.label(run),
                      configuration: KeyedRun(experiment: experiment.sweepID, version: experiment.resultsVersion, run: run))
  }

  public func run() throws -> RunSummary {
    let start = Date()
    let settings = try resolvedSettings()
    // Fail before any training when the output cannot be written.
    let runsDirectory = store.root.appendingPathComponent(experiment.sweepID).appendingPathComponent(options.scale.rawValue)
    do {
      try FileManager.default.createDirectory(at: runsDirectory, withIntermediateDirectories: true)
    } catch {
      throw HarnessError.unwritable(runsDirectory.path, reason: error.localizedDescription)
    }
    let all = experiment.runs(settings)
    var trained = try train(all, settings: settings)
    // Follow-up runs are chosen from the complete primary results. In a sharded sweep the shard
    // that finds them complete (the last to finish) trains every missing follow-up, whatever
    // its shard: a follow-up assigned to a shard that finished earlier would never be trained.
    // Claims keep two shards finishing together from training one run twice.
    let primary = try stored(all)
    var followUps: [E.Run] = []
    if primary.results.count == all.count {
      let chosen = try self.followUps(settings: settings, primary: primary.results, train: true)
      followUps = chosen.runs
      trained += chosen.trained
    }
    var summary = try render(settings: settings, all: all + followUps)
    summary.runsTrained = trained
    summary.wallSeconds = Date().timeIntervalSince(start)
    return summary
  }

  /// The follow-up runs chosen from the complete primary results, round after round
  /// (`Experiment.followUpRounds`): each round sees the stored results of the rounds before, and
  /// with `train` its missing runs are trained before the next round chooses.
  func followUps(settings: E.Settings, primary: [(run: E.Run, outcome: E.Outcome)], train: Bool) throws
    -> (runs: [E.Run], trained: Int)
  {
    var runs: [E.Run] = []
    var trained = 0
    var results = primary
    for round in 0..<max(1, experiment.followUpRounds(settings)) {
      let next = experiment.followUpRuns(settings, results: results)
      let before = try Set(runs.map(key))
      if round > 0, try Set(next.map(key)) == before { break }
      runs = next
      // Each round trains (and lists in the log) only the runs it added.
      if train { trained += try self.train(try next.filter { !before.contains(try key($0)) }, settings: settings, shard: .whole) }
      results = primary + (try stored(next).results)
    }
    return (runs, trained)
  }

  /// Trains this shard's runs of `all` that are not stored yet; returns how many it trained.
  func train(_ all: [E.Run], settings: E.Settings, shard: Shard? = nil) throws -> Int {
    if all.isEmpty { return 0 }
    let mine = (shard ?? options.shard).select(Array(all.enumerated()))
    let progress = ProgressReporter(total: mine.count, quiet: options.quiet, overall: options.overall)
    let scaleName = options.scale.rawValue
    var pending: [(index: Int, run: E.Run, key: RunKey)] = []
    var seen = Set<RunKey>()
    for (index, run) in mine {
      let k = try key(run)
      // A run listed twice (two follow-up rules picking one run) trains once.
      guard seen.insert(k).inserted else { continue }
      if let stored = store.load(StoredRun<E.Outcome>.self, experiment: experiment.sweepID, scale: scaleName, key: k,
                                 warn: { progress.note($0) }) {
        progress.finish(run: index, label: experiment.label(run) + " (stored)", seconds: stored.seconds,
                        summary: experiment.summarize(stored.outcome))
      } else {
        pending.append((index, run, k))
      }
    }
    try execute(pending, settings: settings, progress: progress)
    return pending.count
  }

  /// The stored outcomes of `runs` (missing ones skipped) and their summed training time.
  /// A corrupt entry is reported on standard error (it counts as missing, and a run re-trains it).
  func stored(_ runs: [E.Run]) throws -> (results: [(run: E.Run, outcome: E.Outcome)], seconds: Double) {
    var results: [(run: E.Run, outcome: E.Outcome)] = []
    var compute = 0.0
    let quiet = options.quiet
    for run in runs {
      if let stored = store.load(StoredRun<E.Outcome>.self, experiment: experiment.sweepID, scale: options.scale.rawValue, key: try key(run),
                                 warn: { if !quiet { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }) {
        results.append((run, stored.outcome))
        compute += stored.seconds
      }
    }
    return (results, compute)
  }

  /// Trains the pending runs, `jobs` at a time; each finished run is stored at once.
  func execute(_ pending: [(index: Int, run: E.Run, key: RunKey)], settings: E.Settings, progress: ProgressReporter) throws {
    guard !pending.isEmpty else { return }
    let jobs = max(1, min(options.jobs, pending.count))
    Parallelism.setThreads(options.blasThreads)
    let queue = WorkQueue(count: pending.count)
    let experiment = self.experiment, store = self.store, scale = options.scale, dataDirectory = options.dataDirectory
    let threads = options.blasThreads, saveCheckpoints = options.saveCheckpoints
    let work: @Sendable () -> Void = {
      while let i = queue.take() {
        let item = pending[i]
        let label = experiment.label(item.run)
        do {
          // Another process on this results directory may hold the run, or have stored it
          // since this one looked (checked after claiming, so it is never trained twice).
          guard let claim = try RunClaim.acquire(directory: store.directory(experiment: experiment.sweepID, scale: scale.rawValue, key: item.key))
          else {
            progress.note("\(label): being trained by another process; left to it")
            continue
          }
          defer { claim.release() }
          if store.load(StoredRun<E.Outcome>.self, experiment: experiment.sweepID, scale: scale.rawValue, key: item.key) != nil {
            progress.finish(run: item.index, label: label + " (stored by another process)", seconds: 0, summary: "")
            continue
          }
          let checkpoints = saveCheckpoints
            ? store.directory(experiment: experiment.sweepID, scale: scale.rawValue, key: item.key).appendingPathComponent("checkpoints").path : nil
          let context = RunContext(scale: scale, dataDirectory: dataDirectory, checkpointDirectory: checkpoints) { step, steps, loss in
            claim.touch()
            progress.step(run: item.index, label: label, step: step, steps: steps, loss: loss)
          }
          let t0 = Date()
          let outcome = try experiment.execute(item.run, settings: settings, context: context)
          let seconds = Date().timeIntervalSince(t0)
          try store.save(config: item.run, result: StoredRun(outcome: outcome, seconds: seconds, blasThreads: threads),
                         experiment: experiment.sweepID, scale: scale.rawValue, key: item.key)
          progress.finish(run: item.index, label: label, seconds: seconds, summary: experiment.summarize(outcome))
        } catch {
          queue.fail(error)
        }
      }
    }
    if jobs == 1 {
      work()
    } else {
      DispatchQueue.concurrentPerform(iterations: jobs) { _ in work() }
    }
    if let error = queue.error { throw error }
  }

  /// Draws the figure, table, data and claims from whatever runs are stored (all shards).
  public func render() throws -> RunSummary {
    let start = Date()
    let settings = try resolvedSettings()
    let all = experiment.runs(settings)
    let primary = try stored(all)
    let followUps = primary.results.count == all.count ? try self.followUps(settings: settings, primary: primary.results, train: false).runs : []
    if !options.quiet {
      let missingFollowUps = try followUps.count - stored(followUps).results.count
      let hint = "run `\(options.commandLine(experiment.id))` (any shard, or unsharded) to train them"
      if primary.results.count < all.count {
        FileHandle.standardError.write(Data("note: \(all.count - primary.results.count) of \(all.count) grid runs are not stored yet; \(hint)\n".utf8))
      } else if missingFollowUps > 0 {
        FileHandle.standardError.write(Data("note: \(missingFollowUps) follow-up runs are not stored yet; \(hint)\n".utf8))
      }
    }
    var summary = try render(settings: settings, all: all + followUps)
    summary.wallSeconds = Date().timeIntervalSince(start)
    return summary
  }

  func render(settings: E.Settings, all listed: [E.Run]) throws -> RunSummary {
    var seen = Set<RunKey>()
    let all = try listed.filter { seen.insert(try key($0)).inserted }
    let (results, compute) = try stored(all)
    let data = experiment.figureData(settings: settings, results: results)
    let claims = experiment.claims(data)
    let report = ExperimentReport(
      experiment: experiment.id, title: experiment.title, paperReference: experiment.paperReference,
      scale: options.scale, runsPresent: results.count, runsTotal: all.count, computeSeconds: compute,
      claims: claims, data: data, command: options.commandLine(experiment.id),
      overrides: options.overrides.isEmpty ? nil : options.overrides)
    let written = try OutputWriter(root: options.outDirectory)
      .write(report: report, experiment: experiment, name: options.outputName(experiment.id), force: options.force)
    return RunSummary(experiment: experiment.id, runsTotal: all.count, runsPresent: results.count, runsTrained: 0,
                      wallSeconds: 0, claims: claims, written: written)
  }
}

/// What a run key hashes: the experiment, its results version and the run's configuration.
struct KeyedRun<R: Encodable>: Encodable {
  let experiment: String
  let version: Int
  let run: R
}

/// Hands out run indices to the workers; the first error stops the hand-out.
final class WorkQueue: @unchecked Sendable {
  private let lock = NSLock()
  private var cursor = 0
  private let count: Int
  private(set) var error: Error?

  init(count: Int) { self.count = count }

  func take() -> Int? {
    lock.lock()
    defer { lock.unlock() }
    guard cursor < count, error == nil else { return nil }
    cursor += 1
    return cursor - 1
  }

  func fail(_ e: Error) {
    lock.lock()
    if error == nil { error = e }
    lock.unlock()
  }
}
