import ArgumentParser
import Experiments
import Foundation
import ML

/// Options shared by every experiment command (`repro fig2 …`, `repro all`, `repro render`).
struct ExperimentOptions: ParsableArguments {
  @Flag(help: "The small scale (the committed figures); same as --scale small.")
  var small = false

  @Option(help: "Scale: tiny, small or full (default: full unless --small).")
  var scale: String?

  @Option(help: "Root for results/, figures/, tables/ and REPRODUCE.md.")
  var out: String = "."

  @Option(help: "Runs side by side (each with --threads threads).")
  var jobs: Int = 2

  @Option(help: "Threads per run: BLAS threads, or shards of each batch for models without BatchNorm.")
  var threads: Int = 1

  @Option(help: "Run only shard i of n (1-based), e.g. 2/8, for job arrays; render merges all shards.")
  var shard: String?

  @Option(help: "Base seed of the sweep.")
  var seed: UInt64 = 0

  @Option(help: "Directory of the CIFAR-10 binary files (full scale).")
  var dataDir: String?

  @Option(name: .customLong("set"), help: "Override a setting, key=value (repeatable).")
  var overrides: [String] = []

  @Flag(help: "No progress output.")
  var quiet = false

  @Flag(help: "Replace existing outputs even with a figure drawn from fewer (or no) stored runs.")
  var force = false

  @Flag(help: "Runs trained now keep parameters, Adam state and measurement batch at every curvature measurement (results/…/<run>/checkpoints/) for repro hessian.")
  var saveCheckpoints = false

  func validate() throws {
    if small, let scale, scale != "small" { throw ValidationError("--small conflicts with --scale \(scale)") }
    if let scale, ExperimentScale(rawValue: scale) == nil {
      throw ValidationError("bad scale '\(scale)': expected tiny, small or full")
    }
    if let shard { _ = try Shard(parsing: shard) }
    guard (1...256).contains(jobs) else { throw ValidationError("--jobs must be in 1…256 (got \(jobs))") }
    guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1…256 (got \(threads))") }
    // Seeds become the sweep's integer seed lists (seed, seed + 1, …), which hold 32 bits.
    guard seed <= UInt64(UInt32.max) - 16 else { throw ValidationError("--seed must be in 0…\(UInt64(UInt32.max) - 16) (got \(seed))") }
    try Self.checkOutDirectory(out)
  }

  /// `--out` must name a directory (existing or to be made), never the empty string (which
  /// would write results/, figures/ and REPRODUCE.md into the filesystem root) or a file.
  static func checkOutDirectory(_ out: String) throws {
    guard !out.trimmingCharacters(in: .whitespaces).isEmpty else {
      throw ValidationError("--out must name a directory (got an empty string; use --out . for the current one)")
    }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: out, isDirectory: &isDirectory), !isDirectory.boolValue {
      throw ValidationError("--out \(out) is a file, not a directory")
    }
  }

  var resolvedScale: ExperimentScale {
    small ? .small : scale.flatMap(ExperimentScale.init(rawValue:)) ?? .full
  }

  func runOptions() throws -> RunOptions {
    var o = RunOptions()
    o.scale = resolvedScale
    o.outDirectory = out
    o.jobs = jobs
    o.blasThreads = threads
    o.shard = try shard.map(Shard.init(parsing:)) ?? .whole
    o.seed = seed
    o.dataDirectory = dataDir
    o.overrides = overrides
    o.quiet = quiet
    o.force = force
    o.saveCheckpoints = saveCheckpoints
    return o
  }
}

/// Prints a summary's closing lines: the claims and what was written.
func report(_ s: RunSummary) {
  print("\(s.experiment): \(s.runsPresent)/\(s.runsTotal) runs present (\(s.runsTrained) trained now), \(String(format: "%.1f", s.wallSeconds)) s")
  for c in s.claims {
    print("  \(c.id) \(c.holds ? "holds" : "does NOT hold"): \(c.measured)")
  }
  // Every output: figures (PNG and SVG), data, table, and the experiment's REPRODUCE.md section.
  for path in s.written {
    print("  wrote \(path)" + (path.hasSuffix("REPRODUCE.md") ? " (section \(s.experiment))" : ""))
  }
  // Standard output is block-buffered in a log file: without this the summaries would come
  // after every later experiment's progress lines (which go to standard error unbuffered).
  fflush(nil)
}

/// `repro <experiment> [options]`: any experiment of the registry by its id (`repro fig2
/// --small`). It is the tool's default subcommand, so adding an experiment to
/// `ExperimentRegistry.all` is all it takes to get its command, its `repro list` line and its
/// time estimate.
struct RunExperiment: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "run",
    abstract: "Run one experiment: repro <experiment> [--small] … (or repro run <experiment> …).",
    discussion: "Experiments:\n" + ExperimentRegistry.all.map { "  \($0.id)  \($0.title) (\($0.paperReference))" }.joined(separator: "\n"))
  @Argument(help: "Experiment id: \(ExperimentRegistry.all.map(\.id).joined(separator: ", ")).") var experiment: String
  @OptionGroup var options: ExperimentOptions

  func run() throws {
    report(try ExperimentRegistry.named(experiment).run(try options.runOptions()))
  }
}

struct All: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Run every experiment in turn.")
  @OptionGroup var options: ExperimentOptions

  func run() throws {
    var o = try options.runOptions()
    let experiments = ExperimentRegistry.all
    let overall = OverallProgress(experiments.map { .init(id: $0.id, estimate: $0.estimatedSeconds(o.scale)) })
    o.overall = overall
    let start = Date()
    var summaries: [RunSummary] = []
    for (k, e) in experiments.enumerated() {
      overall.begin(k)
      let estimate = e.estimatedSeconds(o.scale).map { "estimated \(OverallProgress.duration($0)) on 2 cores" } ?? "unmeasured"
      // A header before its runs (standard error, with the progress lines), and the overall ETA.
      FileHandle.standardError.write(Data("\(overall.prefix()) \(e.id): \(e.title) (\(e.paperReference)), \(estimate)\n".utf8))
      let s = try e.run(o)
      overall.end(k, seconds: s.wallSeconds)
      report(s)
      summaries.append(s)
    }
    print(RunSummary.closing(summaries, seconds: Date().timeIntervalSince(start)))
    fflush(nil)
  }
}

struct Render: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Re-draw an experiment's figure, table and claims from stored results (no training).")
  @Argument(help: "Experiment id (see repro list).") var experiment: String
  @OptionGroup var options: ExperimentOptions

  func run() throws {
    report(try ExperimentRegistry.named(experiment).render(try options.runOptions()))
  }
}

struct List: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "List the experiments with their paper references.")
  @Flag(help: "Also list each experiment's --set keys.") var verbose = false

  func run() throws {
    for e in ExperimentRegistry.all {
      let times = ExperimentScale.allCases.map { s in
        "\(s.rawValue) \(e.estimatedSeconds(s).map { $0 < 90 ? "\(Int($0)) s" : "\(Int(($0 / 60).rounded())) min" } ?? "unmeasured")"
      }.joined(separator: ", ")
      print("\(e.id)\t\(e.paperReference)\t\(e.title)\t[\(times)]")
      if verbose { print("\tkeys: \(e.validKeys.joined(separator: ", "))") }
    }
  }
}

struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run every experiment at tiny scale and compare its figure data with the golden data (RECORD=1 re-records).")
  @Option(help: "Directory of the golden data.") var golden: String = "Tests/Golden"
  @Option(help: "Only these experiments (comma-separated).") var only: String?
  @Option(help: "Threads (golden data are recorded with 1).") var threads: Int = 1

  struct Drift: Error, CustomStringConvertible {
    let count: Int
    var description: String { "\(count) experiment(s) drifted from their golden data" }
  }

  func run() throws {
    let record = ProcessInfo.processInfo.environment["RECORD"] == "1"
    var o = RunOptions()
    o.blasThreads = threads
    o.jobs = 1
    o.quiet = true
    let ids = only.map { $0.split(separator: ",").map(String.init) } ?? ExperimentRegistry.all.map(\.id)
    var drifted = 0
    for id in ids {
      let r = try ExperimentRegistry.named(id).check(o, goldenDirectory: golden, record: record)
      let verdict = r.drift.isEmpty ? (r.recorded ? "recorded" : "matches golden") : "DRIFT"
      print("\(id): \(verdict) (\(String(format: "%.1f", r.seconds)) s)")
      for d in r.drift.prefix(20) { print("  \(d)") }
      for c in r.claims { print("  \(c.id) \(c.holds ? "holds" : "does not hold") at tiny scale: \(c.measured)") }
      if !r.drift.isEmpty { drifted += 1 }
    }
    if drifted > 0 { throw Drift(count: drifted) }
  }
}
