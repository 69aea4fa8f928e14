import ArgumentParser
import Foundation
import ML

/// `repro hessian`: the top eigenvalues of the mean cross-entropy Hessian of any checkpoint on
/// any batch, with their Ritz residuals.
struct Hessian: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Top Hessian eigenvalues of a checkpoint's loss on a batch.",
    discussion: """
      The checkpoint is a safetensors file with the model's parameter names (for an MLP: \
      layers.{i}.weight [in, out] and layers.{i}.bias [out], float32). The batch is a \
      safetensors file holding x (float32, [N, features]) and y (int64, [N]).
      """)

  @Option(help: "The model, e.g. mlp:784-512-512-10:tanh.")
  var model: String

  @Option(help: "Parameters (safetensors).")
  var checkpoint: String

  @Option(help: "Measurement batch (safetensors with x and y).")
  var batch: String

  @Option(help: "How many of the largest eigenvalues to report.")
  var top: Int = 1

  @Option(help: "Lanczos iterations.")
  var iterations: Int = 30

  @Option(help: "Seed of the Lanczos start vector.")
  var seed: UInt64 = 0

  @Option(help: "Threads (BLAS, or shards of the measurement batch for models without BatchNorm).")
  var threads: Int = 2

  @Flag(help: "Compute Hessian-vector products in float64 instead of float32.")
  var double = false

  @Flag(help: "Print JSON.")
  var json = false

  func validate() throws {
    guard (1...1000).contains(top) else { throw ValidationError("--top must be in 1…1000 (got \(top))") }
    guard (top...10_000).contains(iterations) else { throw ValidationError("--iterations must be in --top…10000 (got \(iterations))") }
    guard (1...256).contains(threads) else { throw ValidationError("--threads must be in 1…256 (got \(threads))") }
  }

  func run() throws {
    // Errors (a bad model spec, a missing or corrupt file, a wrong shape, an unknown parameter
    // name) carry one-line descriptions; ArgumentParser prints them and exits non-zero.
    Parallelism.setThreads(threads)
    let spec = try ModelSpec(parsing: model)
    if double { try measure(spec, Double.self) } else { try measure(spec, Float.self) }
  }

  func measure<S: TensorScalar>(_ spec: ModelSpec, _: S.Type) throws {
    let network = spec.network()
    let params: [Tensor<S>] = try network.loadCheckpoint(from: checkpoint)
    let data: Batch<S> = try Batch.load(safetensors: batch, features: spec.inputFeatures, classes: spec.outputClasses)
    let start = Date()
    let op = network.hessianOperator(parameters: params, buffers: network.initialBuffers(), batch: data)
    let result = try lanczos(op, iterations: min(iterations, op.dimension), topK: min(top, op.dimension), seed: seed)
    let seconds = Date().timeIntervalSince(start)
    if json {
      let pairs = result.eigenpairs.map { "{\"value\": \(jsonNumber($0.value)), \"residual\": \(jsonNumber($0.residual))}" }
      print("""
        {"model": "\(spec.description)", "examples": \(data.count), "parameters": \(op.dimension), \
        "precision": "\(double ? "float64" : "float32")", "iterations": \(result.iterations), \
        "eigenvalues": [\(pairs.joined(separator: ", "))], "seconds": \(jsonNumber(seconds))}
        """)
    } else {
      print("\(spec.description): \(op.dimension) parameters, \(data.count) examples, \(result.iterations) Lanczos iterations (\(double ? "float64" : "float32") HVPs), \(String(format: "%.2f", seconds)) s")
      for (k, pair) in result.eigenpairs.enumerated() {
        print(String(format: "λ%-2d = %.8g   residual %.2e", k + 1, pair.value, pair.residual))
      }
    }
  }

}

func jsonNumber(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

