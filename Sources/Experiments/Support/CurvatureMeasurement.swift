import Foundation
import ML
import Plotting

/// What `repro hessian` measures on a checkpoint: eigenvalues at one end of the spectrum to a
/// stated tolerance, optionally the trace (Hutchinson) and the spectral density (stochastic
/// Lanczos quadrature), of the loss Hessian H on a batch, or of Adam's preconditioned
/// D^-1/2·H·D^-1/2 when an optimizer state is given.
public struct CurvatureRequest: Sendable {
  public var model: String
  /// The parameters' file; nil: the model's own initialization (`initialization`).
  public var checkpoint: String?
  public var batch: String
  /// Without a checkpoint: the zoo's initialization with this seed, every variable times `initScale`.
  public var initialization: (seed: UInt64, scale: Double) = (0, 1)
  public var loss: LossKind = .crossEntropy(labelSmoothing: 0)
  public var top = 1
  public var which: SpectrumEnd = .largest
  /// Every reported eigenvalue's residual ‖Hx − θx‖ ≤ tolerance·|θ| (10⁻⁴: 4 significant digits).
  public var tolerance = 1e-4
  public var iterations = 20
  public var maxIterations = 500
  public var traceProbes: Int?
  public var density: DensityRequest?
  public var adamState: String?
  public var chunk: Int?
  public var seed: UInt64 = 0
  public var double = false

  public struct DensityRequest: Sendable {
    public var probes = 10
    public var iterations = 80
    /// Gaussian broadening; nil: 1/200 of the span of the quadrature nodes.
    public var sigma: Double?
    public init() {}
  }

  public init(model: String, checkpoint: String?, batch: String) {
    self.model = model; self.checkpoint = checkpoint; self.batch = batch
  }
}

/// The measured values, as `repro hessian --json` prints them (README: its schema).
public struct CurvatureReport: Codable, Sendable {
  public var model: String
  /// The checkpoint file, or "initialization (seed S, scale α)".
  public var parameterSource: String
  public var parameters: Int
  public var examples: Int
  public var chunk: Int?
  public var loss: String
  public var precision: String
  /// BatchNorm models are measured with batch statistics over the whole batch (or each chunk).
  public var batchStatistics: Bool
  public var preconditioner: Preconditioner?
  public var eigenvalues: Eigenvalues
  public var trace: Trace?
  public var density: Density?

  public struct Preconditioner: Codable, Sendable {
    public var file: String
    public var step: Int
    public var beta2: Double
    public var eps: Double
  }

  public struct Eigenvalues: Codable, Sendable {
    public var which: SpectrumEnd
    public var tolerance: Double
    public var iterations: Int
    public var passes: Int
    public var seconds: Double
    public var values: [Value]
    public var allConverged: Bool { values.allSatisfy(\.converged) }
  }

  public struct Value: Codable, Sendable {
    public var value: Double
    public var residual: Double
    public var relativeResidual: Double
    public var converged: Bool
  }

  public struct Trace: Codable, Sendable {
    public var value: Double
    public var standardError: Double?
    public var probes: Int
    public var seconds: Double
  }

  public struct Density: Codable, Sendable {
    public var probes: Int
    public var iterations: Int
    public var sigma: Double
    public var grid: [Double]
    public var density: [Double]
    public var nodes: [Double]
    public var weights: [Double]
    public var seconds: Double
  }
}

public enum CurvatureMeasurement {
  /// Runs `r`; `progress` gets one line every few seconds of a long run.
  public static func run(_ r: CurvatureRequest, progress: @escaping @Sendable (String) -> Void = { _ in }) throws -> CurvatureReport {
    r.double ? try run(r, Double.self, progress) : try run(r, Float.self, progress)
  }

  static func run<S: TensorScalar>(_ r: CurvatureRequest, _: S.Type, _ progress: @escaping @Sendable (String) -> Void) throws -> CurvatureReport {
    let model = try CurvatureModel(parsing: r.model, loss: r.loss)
    let network = model.network
    let params: [Tensor<S>] = try r.checkpoint.map { try network.loadCheckpoint(from: $0) }
      ?? network.initialParameters(seed: r.initialization.seed, scale: r.initialization.scale)
    let batch: Batch<S> = try Batch.load(safetensors: r.batch, example: model.layout, classes: model.classes)
    var op = network.hessianOperator(parameters: params, buffers: network.initialBuffers(), batch: batch,
                                     ghostBatch: network.usesBatchStatistics ? r.chunk : nil, chunkExamples: r.chunk)
    var preconditioner: CurvatureReport.Preconditioner?
    if let path = r.adamState {
      let (state, d): (AdamState, [Tensor<S>]) = try AdamState.preconditioner(from: path, network: network)
      op = op.preconditioned(by: FlatVector.flatten(d))
      preconditioner = .init(file: path, step: state.step, beta2: state.beta2, eps: state.epsilon)
    }
    let counted = ProductCounter(op, progress: progress)
    var start = Date()
    counted.phase = "eigenvalues"
    let k = min(r.top, op.dimension)
    let (result, converged, passes) = try eigenpairsToTolerance(
      counted.op, k: k, which: r.which, tolerance: r.tolerance, iterations: min(r.iterations, op.dimension),
      maxIterations: r.maxIterations, seed: r.seed)
    let values = zip(result.eigenpairs, converged).map {
      CurvatureReport.Value(value: $0.value, residual: $0.residual, relativeResidual: $0.residual / max(abs($0.value), .leastNormalMagnitude),
                            converged: $1)
    }
    let eigen = CurvatureReport.Eigenvalues(which: r.which, tolerance: r.tolerance, iterations: result.iterations, passes: passes,
                                            seconds: Date().timeIntervalSince(start), values: values)
    var trace: CurvatureReport.Trace?
    if let probes = r.traceProbes {
      start = Date()
      counted.phase = "trace"
      let t = try hutchinsonTrace(counted.op, probes: probes, seed: r.seed &+ 1)
      trace = .init(value: t.value, standardError: t.standardError, probes: t.probes, seconds: Date().timeIntervalSince(start))
    }
    var density: CurvatureReport.Density?
    if let d = r.density {
      start = Date()
      counted.phase = "density"
      let q = try stochasticLanczosQuadrature(counted.op, probes: d.probes, iterations: d.iterations, seed: r.seed &+ 2)
      let lo = q.nodes.min() ?? 0, hi = q.nodes.max() ?? 1
      let span = max(hi - lo, 1e-12 * max(abs(hi), 1))
      let sigma = d.sigma ?? span / 200
      let grid = (0...1000).map { lo - 5 * sigma + (span + 10 * sigma) * Double($0) / 1000 }
      density = .init(probes: d.probes, iterations: d.iterations, sigma: sigma, grid: grid, density: q.density(at: grid, sigma: sigma),
                      nodes: q.nodes, weights: q.weights, seconds: Date().timeIntervalSince(start))
    }
    let lossName: String
    switch r.loss {
    case .crossEntropy(let s): lossName = s > 0 ? "cross-entropy (label smoothing \(s))" : "cross-entropy"
    case .meanSquaredError: lossName = "squared error"
    }
    let source = r.checkpoint ?? "initialization (seed \(r.initialization.seed), scale \(StabilityClaims.fmt(r.initialization.scale)))"
    return CurvatureReport(model: model.description, parameterSource: source, parameters: op.dimension, examples: batch.count, chunk: r.chunk, loss: lossName,
                           precision: r.double ? "float64" : "float32", batchStatistics: network.usesBatchStatistics,
                           preconditioner: preconditioner, eigenvalues: eigen, trace: trace, density: density)
  }

  /// The spectral density on a log axis, as in Ghorbani et al. (2019) and PyHessian.
  public static func densityFigure(_ report: CurvatureReport) -> Figure? {
    guard let d = report.density else { return nil }
    var fig = Figure(rows: 1, cols: 1, width: 560, title: "Hessian spectral density: \(report.model)",
                     caption: "stochastic Lanczos quadrature, \(d.probes) probes × \(d.iterations) steps, Gaussian σ = \(StabilityClaims.fmt(d.sigma))")
    let floor = max((d.density.max() ?? 1) * 1e-12, .leastNormalMagnitude)
    var a = Axes(title: report.preconditioner == nil ? "H" : "D^-1/2 H D^-1/2 (Adam)", x: Axis(label: "eigenvalue"),
                 y: Axis(scale: .log, label: "density (log)"))
    a.plot(x: d.grid, y: d.density.map { max($0, floor) }, color: Palette.color(0))
    if let top = report.eigenvalues.values.first, report.eigenvalues.which == .largest {
      a.reference(.vertical(top.value), label: "λ1 = \(StabilityClaims.fmt(top.value))")
      a.legend = .best
    }
    fig[0, 0] = a
    return fig
  }
}

/// An operator that counts its applications and reports, at most every few seconds, how many it
/// has made in the current phase.
final class ProductCounter: @unchecked Sendable {
  private let lock = NSLock()
  private var count = 0, lastReport = Date(), started = Date()
  var phase = "" {
    didSet { lock.lock(); count = 0; started = Date(); lock.unlock() }
  }
  private(set) var op: SymmetricOperator

  init(_ inner: SymmetricOperator, progress: @escaping @Sendable (String) -> Void) {
    op = inner
    op = SymmetricOperator(dimension: inner.dimension) { [unowned self] v in
      let y = inner(v)
      self.lock.lock()
      self.count += 1
      let now = Date()
      let line: String? = now.timeIntervalSince(self.lastReport) >= 5
        ? "\(self.phase): \(self.count) Hessian-vector products, \(String(format: "%.0f", now.timeIntervalSince(self.started))) s" : nil
      if line != nil { self.lastReport = now }
      self.lock.unlock()
      if let line { progress(line) }
      return y
    }
  }
}
