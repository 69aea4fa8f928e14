import ArgumentParser
import Experiments
import Foundation
import ML

/// `repro hessian`: the curvature of any checkpoint of the zoo on any batch: eigenvalues at
/// either end to a stated tolerance, the trace and the spectral density, of the Hessian or of
/// Adam's preconditioned Hessian.
struct Hessian: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Hessian eigenvalues (converged), trace and spectral density of a checkpoint's loss on a batch.",
    discussion: """
      MODEL: \(CurvatureModel.grammar).

      The checkpoint is a safetensors file with the model's parameter names and shapes (README: \
      "Model specs"); every missing, extra or wrongly shaped tensor is named in the error. The \
      batch holds x and y: x float32 [N, features] for mlp:…, NHWC float32 [N, H, W, C] (or \
      [N, H·W·C]) for the image models, int64 token ids [N, T] for the language models; y int64 \
      labels [N] (language models: next tokens [N, T]).

      Eigenvalues: Lanczos (exact forward-over-reverse products, Float64 vectors, full \
      reorthogonalization) until every requested value's explicit residual ‖Hx − θx‖ is at most \
      --tolerance·|θ| (a value within r of an eigenvalue: 1e-4 gives 4 significant digits), \
      doubling the steps from --iterations up to --max-iterations; a value that did not get \
      there is flagged. --adam-state measures D^-1/2·H·D^-1/2, D = √(v/(1 − β2^step)) + ε, from a \
      safetensors file with NAME.exp_avg_sq for every parameter NAME and metadata step, beta2, \
      eps. BatchNorm models use the statistics of the whole batch (or of each --chunk).
      """)

  @Option(help: "The model (see above), e.g. wrn-nobn:tiny, lm-pre:small, mlp:784-512-512-10:tanh.")
  var model: String

  @Option(help: "Parameters (safetensors).")
  var checkpoint: String?

  @Option(help: "Instead of a checkpoint: the model's default initialization with this seed (the curvature at initialization, Fig 2's left panels).")
  var initSeed: UInt64?

  @Option(help: "With --init-seed: multiply every initial variable by this (the paper's 1.5× init).")
  var initScale: Double = 1

  @Option(help: "Measurement batch (safetensors with x and y).")
  var batch: String?

  @Flag(help: "Print the model's parameter names and shapes (what the checkpoint must hold) and the batch layout, then exit.")
  var listParameters = false

  @Option(help: "How many eigenvalues to report.")
  var top: Int = 1

  @Option(help: "Which end: largest (algebraic, λ1), smallest (most negative curvature) or magnitude.")
  var which: String = "largest"

  @Option(help: "Relative residual every reported eigenvalue must reach.")
  var tolerance: Double = 1e-4

  @Option(help: "Lanczos steps of the first pass (doubled while a residual misses the tolerance).")
  var iterations: Int = 20

  @Option(help: "Most Lanczos steps.")
  var maxIterations: Int = 500

  @Flag(help: "Also estimate the trace (Hutchinson, Rademacher probes).")
  var trace = false

  @Option(help: "Probes of the trace estimate.")
  var probes: Int = 100

  @Option(help: "Also estimate the spectral density (stochastic Lanczos quadrature): writes PATH.json, PATH.png and PATH.svg.")
  var density: String?

  @Option(help: "Probes of the spectral density.")
  var densityProbes: Int = 10

  @Option(help: "Lanczos steps per probe of the spectral density.")
  var densityIterations: Int = 80

  @Option(help: "Gaussian broadening σ of the density (default: 1/200 of the span of the quadrature nodes).")
  var sigma: Double?

  @Option(help: "Adam state (safetensors): measure the preconditioned Hessian.")
  var adamState: String?

  @Option(help: "Loss: cross-entropy or squared.")
  var loss: String = "cross-entropy"

  @Option(help: "Label smoothing of the cross-entropy.")
  var labelSmoothing: Double = 0

  @Option(help: "Process the batch this many examples at a time (memory of one chunk; for BatchNorm models, chunks are ghost batches).")
  var chunk: Int?

  @Option(help: "Seed of the Lanczos start vectors and probes.")
  var seed: UInt64 = 0

  @Option(help: "Threads (BLAS, or shards of the batch for models without BatchNorm).")
  var threads: Int = 2

  @Flag(help: "Compute Hessian-vector products in float64 instead of float32.")
  var double = false

  @Flag(help: "Print JSON (README: the schema).")
  var json = false

  @Flag(help: "No progress lines on standard error.")
  var quiet = false

  func validate() throws {
    if !listParameters && ((checkpoint == nil) == (initSeed == nil) || batch == nil) {
      throw ValidationError("give --batch and exactly one of --checkpoint and --init-seed (or --list-parameters)")
    }
    guard initScale > 0 && initScale.isFinite else { throw ValidationError("--init-scale must be positive (got \(initScale))") }
    guard (1...1000).contains(top) else { throw ValidationError("--top must be in 1…1000 (got \(top))") }
    guard SpectrumEnd(rawValue: which) != nil else { throw ValidationError("--which must be largest, smallest or magnitude (got '\(which)')") }
    guard tolerance > 0 && tolerance < 1 else { throw ValidationError("--tolerance must be in (0, 1) (got \(tolerance))") }
    guard (1...100_000).contains(iterations), (iterations...100_000).contains(maxIterations) else {
      throw ValidationError("--iterations must be in 1…100000 and --max-iterations in --iterations…100000")
    }
    guard (1...100_000).contains(probes), (1...10_000).contains(densityProbes), (2...10_000).contains(densityIterations) else {
      throw ValidationError("--probes must be in 1…100000, --density-probes in 1…10000, --density-iterations in 2…10000")
    }
    if let s = sigma, !(s > 0 && s.isFinite) { throw ValidationError("--sigma must be positive (got \(s))") }
    guard ["cross-entropy", "squared"].contains(loss) else { throw ValidationError("--loss must be cross-entropy or squared (got '\(loss)')") }
    guard labelSmoothing >= 0 && labelSmoothing < 1 else { throw ValidationError("--label-smoothing must be in [0, 1) (got \(labelSmoothing))") }
    if let c = chunk, c < 1 { throw ValidationError("--chunk must be at least 1 (got \(c))") }
    guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1…256 (got \(threads))") }
  }

  func run() throws {
    // Errors (a bad model spec, a missing or corrupt file, a wrong shape, an unknown parameter
    // name) carry one-line descriptions; ArgumentParser prints them and exits non-zero.
    Parallelism.setThreads(threads)
    if listParameters {
      let m = try CurvatureModel(parsing: model)
      print("\(m.description): \(m.network.parameterCount) parameters")
      for spec in m.network.parameterSpecs { print("  \(spec.name) \(spec.shape) float32") }
      switch m.layout {
      case .features(let f): print("batch: x float32 [N, \(f)], y int64 [N] in 0..<\(m.classes)")
      case .image(let s): print("batch: x float32 [N, \(s.map(String.init).joined(separator: ", "))] (NHWC), y int64 [N] in 0..<\(m.classes)")
      case .tokens(let t): print("batch: x int64 [N, \(t)] token ids in 0..<\(m.classes), y int64 [N, \(t)] next tokens")
      }
      return
    }
    var r = CurvatureRequest(model: model, checkpoint: checkpoint, batch: batch ?? "")
    if let s = initSeed { r.initialization = (s, initScale) }
    r.loss = loss == "squared" ? .meanSquaredError : .crossEntropy(labelSmoothing: labelSmoothing)
    r.top = top
    r.which = SpectrumEnd(rawValue: which) ?? .largest
    r.tolerance = tolerance
    r.iterations = iterations
    r.maxIterations = maxIterations
    r.traceProbes = trace ? probes : nil
    if density != nil {
      var d = CurvatureRequest.DensityRequest()
      d.probes = densityProbes
      d.iterations = densityIterations
      d.sigma = sigma
      r.density = d
    }
    r.adamState = adamState
    r.chunk = chunk
    r.seed = seed
    r.double = double
    let quiet = self.quiet
    let report = try CurvatureMeasurement.run(r) { line in
      if !quiet { FileHandle.standardError.write(Data(("hessian: " + line + "\n").utf8)) }
    }
    var written: [String] = []
    if let base = density, let fig = CurvatureMeasurement.densityFigure(report), let d = report.density {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try encoder.encode(d).write(to: URL(fileURLWithPath: base + ".json"))
      written = [base + ".json"] + (try fig.write(basePath: base))
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
      return
    }
    print(Self.text(report, written: written))
  }

  static func text(_ r: CurvatureReport, written: [String]) -> String {
    var lines: [String] = []
    let op = r.preconditioner == nil ? "H" : "D^-1/2·H·D^-1/2"
    lines.append("\(r.model) at \(r.parameterSource): \(r.parameters) parameters, \(r.examples) examples\(r.chunk.map { " in chunks of \($0)" } ?? ""), loss \(r.loss), \(r.precision) products"
                 + (r.batchStatistics ? ", BatchNorm with batch statistics" : ""))
    if let p = r.preconditioner {
      lines.append("preconditioned by Adam's state \(p.file): step \(p.step), β2 \(p.beta2), ε \(p.eps)")
    }
    let e = r.eigenvalues
    lines.append("\(e.values.count) \(e.which.rawValue) eigenvalue\(e.values.count == 1 ? "" : "s") of \(op) to a relative residual of \(e.tolerance): "
                 + "\(e.iterations) Lanczos steps in \(e.passes) pass\(e.passes == 1 ? "" : "es"), \(String(format: "%.2f", e.seconds)) s")
    for (k, v) in e.values.enumerated() {
      lines.append(String(format: "  λ%-3d = %-16.10g residual %.2e (%.1e relative)  %@", k + 1, v.value, v.residual, v.relativeResidual,
                          v.converged ? "converged" : "NOT CONVERGED: raise --max-iterations"))
    }
    if let t = r.trace {
      lines.append(String(format: "trace of %@ (Hutchinson, %d Rademacher probes): %.8g ± %.2g (standard error), %.2f s", op, t.probes, t.value,
                          t.standardError ?? .nan, t.seconds))
    }
    if let d = r.density {
      lines.append(String(format: "spectral density of %@ (stochastic Lanczos quadrature, %d probes × %d steps, Gaussian σ = %.3g), %.2f s", op,
                          d.probes, d.iterations, d.sigma, d.seconds))
      if !written.isEmpty { lines.append("  wrote " + written.joined(separator: ", ")) }
    }
    return lines.joined(separator: "\n")
  }
}
