import Foundation
import ML

/// One row of `repro bench`: medians in milliseconds.
public struct BenchmarkRow: Sendable, Codable {
  public var workload: String
  public var summary: String
  public var parameters: Int
  /// How the threads were used: "2 shards" (the batch split by examples, one BLAS thread
  /// each) or "BLAS" (the batch whole, multithreaded GEMMs; BatchNorm couples the examples).
  public var parallelism: String
  public var gradientMs: Double
  public var sgdMomentumStepMs: Double
  public var hvpMs: Double
  public var hvpOverGradient: Double
  public var lanczos20Ms: Double
  /// GEMM FLOPs of one gradient and the rate achieved, against the sgemm peak of the same run.
  public var gradientGFLOP: Double
  public var gradientGFLOPPerSecond: Double
  public var fractionOfPeak: Double
  /// With `--gemm-share`: the time inside BLAS matrix products per call (means over `repeats`
  /// calls; summed over the shards' threads where the batch is split), beside the medians above.
  public var gemmShare: GEMMShare?
}

/// How much of a gradient and of an HVP is matrix products (`GEMMCounter` timing).
public struct GEMMShare: Sendable, Codable {
  public var gradientGEMMMs: Double
  public var hvpGEMMMs: Double
  /// GEMM FLOPs of one HVP (H·v alone).
  public var hvpGFLOP: Double
}

public struct BenchmarkReport: Sendable, Codable {
  public var threads: Int
  public var repeats: Int
  public var sgemmPeakGFLOPPerSecond: Double
  public var rows: [BenchmarkRow]
  /// `BenchmarkClock` raw value: what the milliseconds measure.
  public var clock: String

  public init(threads: Int, repeats: Int, sgemmPeakGFLOPPerSecond: Double, rows: [BenchmarkRow],
              clock: BenchmarkClock = .wall) {
    self.clock = clock.rawValue
    self.threads = threads
    self.repeats = repeats
    self.sgemmPeakGFLOPPerSecond = sgemmPeakGFLOPPerSecond
    self.rows = rows
  }
}

/// What a benchmark's milliseconds measure.
public enum BenchmarkClock: String, Sendable, CaseIterable {
  /// Elapsed time: what a run costs on a quiet machine.
  case wall
  /// CPU time of the whole process (all threads). With one BLAS thread it is the work done,
  /// unaffected by the time the process waits descheduled on a shared, loaded machine.
  case cpu

  /// Nanoseconds on this clock.
  func now() -> UInt64 {
    switch self {
    case .wall: return DispatchTime.now().uptimeNanoseconds
    case .cpu:
      var ts = timespec()
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
      return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
  }
}

public enum Benchmark {
  /// Median time of `body` in milliseconds over `repeats` runs after a warm-up of at least
  /// `warmup` runs and `warmupSeconds` of wall time. The time floor matters: after a
  /// multithreaded BLAS call an OpenBLAS worker spins for ~0.1 s, so the previous measurement's
  /// last calls could otherwise steal a core from this one's first.
  public static func medianMs(repeats: Int, warmup: Int = 2, warmupSeconds: Double = 0.3, clock: BenchmarkClock = .wall,
                              _ body: () throws -> Void) rethrows -> Double {
    let times = try sortedMs(repeats: repeats, warmup: warmup, warmupSeconds: warmupSeconds, clock: clock, body)
    return times[times.count / 2]
  }

  /// The times of `repeats` runs after the warm-up of `medianMs`, fastest first.
  public static func sortedMs(repeats: Int, warmup: Int = 2, warmupSeconds: Double = 0.3, clock: BenchmarkClock = .wall,
                              _ body: () throws -> Void) rethrows -> [Double] {
    try warmUp(runs: warmup, seconds: warmupSeconds, body)
    var times: [Double] = []
    for _ in 0..<max(repeats, 1) {
      let t0 = clock.now()
      try body()
      times.append(Double(clock.now() - t0) / 1e6)
    }
    return times.sorted()
  }

  /// Runs `body` at least `runs` times and for at least `seconds` of wall time, untimed.
  static func warmUp(runs: Int = 2, seconds: Double = 0.3, _ body: () throws -> Void) rethrows {
    let start = DispatchTime.now().uptimeNanoseconds
    var done = 0
    while done < runs || Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 < seconds {
      try body()
      done += 1
    }
  }

  /// Median times of several computations measured in turn (one run of each per round), after
  /// each one's warm-up: a slow spell of a shared machine then lands on all of them alike, and
  /// their ratios (HVP/gradient) hold where back-to-back blocks of runs would skew them.
  public static func interleavedMedianMs(repeats: Int, clock: BenchmarkClock = .wall,
                                         _ bodies: [() -> Void]) -> [Double] {
    for body in bodies { warmUp(body) }
    var times = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<max(repeats, 1) {
      for (i, body) in bodies.enumerated() {
        let t0 = clock.now()
        body()
        times[i].append(Double(clock.now() - t0) / 1e6)
      }
    }
    return times.map { $0.sorted()[$0.count / 2] }
  }

  /// sgemm GFLOP/s at n = 2048 (the peak the workloads are compared with): the fastest of
  /// `repeats` products, since a shared machine's neighbours only ever slow a run down.
  public static func sgemmPeak(n: Int = 2048, repeats: Int = 7) -> Double {
    var rng = SplitMix64(seed: 9)
    let a = Tensor<Float>(shape: [n, n], scalars: (0..<(n * n)).map { _ in Float(rng.nextUniform()) })
    let ms = sortedMs(repeats: repeats, warmup: 1) { _ = Tensor.matmul(a, a) }[0]
    return 2 * Double(n) * Double(n) * Double(n) / (ms / 1e3) / 1e9
  }

  public static func run(_ w: Workload, repeats: Int, peak: Double, lanczosRepeats: Int = 3,
                         clock: BenchmarkClock = .wall, cachingPrimals: Bool = true, gemmShare: Bool = false) throws -> BenchmarkRow {
    let net = w.network
    let params: [Tensor<Float>] = net.initialParameters(seed: 0)
    var buffers: [Tensor<Float>] = net.initialBuffers()
    GEMMCounter.reset()
    _ = net.lossAndGradient(parameters: params, buffers: &buffers, batch: w.batch)
    let flops = Double(GEMMCounter.total)
    var p = params
    var opt = SGD<Float>(momentum: 0.9)
    var rng = SplitMix64(seed: 4)
    let v = params.map { t in Tensor<Float>(shape: t.shape, scalars: (0..<t.count).map { _ in Float(rng.nextNormal()) }) }
    let gradient = { _ = net.lossAndGradient(parameters: params, buffers: &buffers, batch: w.batch) }
    // H·v alone, as Lanczos uses it (and as jit-compiled jvp∘grad computes it).
    let hvpOnly = { _ = net.hessianVectorProduct(parameters: params, buffers: buffers, batch: w.batch, direction: v, gradient: false) }
    let medians = interleavedMedianMs(repeats: repeats, clock: clock, [
      gradient,
      {
        let (_, g, _) = net.lossAndGradient(parameters: p, buffers: &buffers, batch: w.batch)
        opt.step(parameters: &p, gradients: g, learningRate: 1e-4)
      },
      hvpOnly,
    ])
    func inGEMM(_ body: () -> Void) -> (ms: Double, gflop: Double) {
      GEMMCounter.reset()
      GEMMCounter.timing = true
      for _ in 0..<max(repeats, 1) { body() }
      GEMMCounter.timing = false
      return (GEMMCounter.gemmSeconds * 1e3 / Double(max(repeats, 1)), Double(GEMMCounter.total) / Double(max(repeats, 1)) / 1e9)
    }
    let share = gemmShare ? { () -> GEMMShare in
      let (g, h) = (inGEMM(gradient), inGEMM(hvpOnly))
      return GEMMShare(gradientGEMMMs: g.ms, hvpGEMMMs: h.ms, hvpGFLOP: h.gflop)
    }() : nil
    let (grad, step, hvp) = (medians[0], medians[1], medians[2])
    // Exactly 20 operator applications, as the peers do (no explicit residual).
    // A fresh operator each time: its first application records the primals the others replay.
    let lanczosMs = try medianMs(repeats: lanczosRepeats, warmup: 1, clock: clock) {
      let op = net.hessianOperator(parameters: params, buffers: buffers, batch: w.batch, cachingPrimals: cachingPrimals)
      _ = try lanczos(op, iterations: 20, seed: 1, explicitResiduals: false)
    }
    let rate = flops / (grad / 1e3) / 1e9
    let shards = net.dataParallelShards(examples: w.batch.count, mode: .training)
    let parallelism = shards > 1 ? "\(shards) shards" : Parallelism.threads > 1 ? "BLAS" : "1 thread"
    return BenchmarkRow(
      workload: w.id, summary: w.summary, parameters: net.parameterCount, parallelism: parallelism,
      gradientMs: grad, sgdMomentumStepMs: step,
      hvpMs: hvp, hvpOverGradient: hvp / grad, lanczos20Ms: lanczosMs, gradientGFLOP: flops / 1e9,
      gradientGFLOPPerSecond: rate, fractionOfPeak: rate / peak, gemmShare: share)
  }

  /// The report as a Markdown table.
  public static func markdown(_ r: BenchmarkReport) -> String {
    var lines = [
      "sgemm peak (n = 2048, \(r.threads) threads): \(String(format: "%.1f", r.sgemmPeakGFLOPPerSecond)) GFLOP/s; medians of \(r.repeats) runs after warm-up, \(r.clock == "cpu" ? "process CPU time" : "wall time")",
      "",
      "| workload | params | threads as | gradient ms | SGD-momentum step ms | HVP ms | HVP/grad | 20 Lanczos ms | gradient GFLOP/s (% peak) |",
      "|---|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r.rows {
      lines.append(String(
        format: "| %@ %@ | %d | %@ | %.2f | %.2f | %.2f | %.2f | %.0f | %.1f (%.0f%%) |",
        row.workload, row.summary, row.parameters, row.parallelism, row.gradientMs, row.sgdMomentumStepMs, row.hvpMs,
        row.hvpOverGradient, row.lanczos20Ms, row.gradientGFLOPPerSecond, 100 * row.fractionOfPeak))
    }
    let shares = r.rows.compactMap { row in row.gemmShare.map { (row, $0) } }
    if !shares.isEmpty {
      lines += ["", "Time inside BLAS matrix products per call (means; summed over the threads of batch shards), and the rest:", "",
                "| workload | gradient ms | in GEMM | rest | HVP ms | in GEMM | rest | HVP GFLOP | GEMM GFLOP/s in the HVP |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
      for (row, s) in shares {
        lines.append(String(
          format: "| %@ | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.3f | %.0f |", row.workload, row.gradientMs, s.gradientGEMMMs,
          row.gradientMs - s.gradientGEMMMs, row.hvpMs, s.hvpGEMMMs, row.hvpMs - s.hvpGEMMMs, s.hvpGFLOP, s.hvpGFLOP / (s.hvpGEMMMs / 1e3)))
      }
    }
    lines += ["", "JAX and PyTorch on the same workloads, side by side on this machine: bash scripts/bench-peers.sh"]
    return lines.joined(separator: "\n")
  }
}
