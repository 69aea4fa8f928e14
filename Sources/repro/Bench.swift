import ArgumentParser
import Experiments
import Foundation
import ML

/// `repro bench`: gradient, SGD-momentum step, HVP, HVP/gradient and 20 Lanczos iterations on
/// the reference workloads W1–W3 (and, with --families, one model per family). Its JAX and
/// PyTorch peers run beside it in scripts/bench-peers.sh.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time gradients, HVPs and Lanczos on the reference workloads (use a release build).")

  @Option(help: "Timed runs per measurement (the median is reported).")
  var repeats: Int = 20

  @Option(help: "Threads: BLAS threads, or shards of the batch for models without BatchNorm (see README).")
  var threads: Int = 2

  @Option(help: "Workloads to run (comma-separated ids, e.g. W1,W3,wrn-nobn).")
  var only: String?

  @Flag(help: "Also time one row per model family at its small size.")
  var families = false

  @Option(help: "What the milliseconds measure: wall (elapsed) or cpu (process CPU time; with --threads 1 the work done, steady on a loaded shared machine).")
  var clock: String = "wall"

  @Flag(help: "Never split a batch into shards: every workload uses the threads through BLAS only (to compare).")
  var noShards = false

  @Flag(help: "HVPs never multiply a primal and its tangent in one product of twice the size (to compare).")
  var noStacking = false

  @Flag(help: "Lanczos recomputes every product's primal in every H·v instead of replaying the first's (to compare).")
  var noPrimalCache = false

  @Flag(help: "Also report how much of each gradient and HVP is spent inside BLAS matrix products (profiling).")
  var gemmShare = false

  @Flag(help: "Print JSON.")
  var json = false

  func validate() throws {
    guard repeats >= 1 else { throw ValidationError("--repeats must be at least 1") }
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    guard BenchmarkClock(rawValue: clock) != nil else { throw ValidationError("--clock must be wall or cpu") }
  }

  func run() throws {
    Parallelism.setThreads(threads)
    Parallelism.splitsBatches = !noShards
    StackedProducts.isEnabled = !noStacking
    var workloads = families || only != nil ? Workload.all() : Workload.reference()
    if let only {
      let ids = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
      let known = Set(workloads.map(\.id))
      if let bad = ids.subtracting(known).sorted().first {
        throw ValidationError("unknown workload '\(bad)' (known: \(known.sorted().joined(separator: ", ")))")
      }
      workloads = workloads.filter { ids.contains($0.id) }
    }
    let clockKind = BenchmarkClock(rawValue: clock) ?? .wall
    let peak = Benchmark.sgemmPeak()
    var rows: [BenchmarkRow] = []
    for w in workloads {
      if !json { FileHandle.standardError.write("running \(w.id) …\n".data(using: .utf8)!) }
      rows.append(try Benchmark.run(w, repeats: repeats, peak: peak, clock: clockKind, cachingPrimals: !noPrimalCache, gemmShare: gemmShare))
    }
    let report = BenchmarkReport(threads: threads, repeats: repeats, sgemmPeakGFLOPPerSecond: peak, rows: rows, clock: clockKind)
    if json {
      let enc = JSONEncoder()
      enc.outputFormatting = [.prettyPrinted, .sortedKeys]
      print(String(decoding: try enc.encode(report), as: UTF8.self))
    } else {
      print(Benchmark.markdown(report))
    }
  }
}
