import Foundation
import ML
import Testing
@testable import Experiments

@Suite("repro hessian: every mode against dense eigendecompositions")
struct CurvatureMeasurementTests {
  static let spec = "mlp:4-6-3:tanh"

  /// A checkpoint and a batch for `spec` in a fresh directory.
  static func files(seed: UInt64 = 3, examples: Int = 7) throws -> (dir: String, checkpoint: String, batch: String, network: Network) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("repro-hessian-\(getpid())-\(seed)-\(UInt32.random(in: 0...UInt32.max))").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    let model = try CurvatureModel(parsing: spec)
    let params: [Tensor<Float>] = model.network.initialParameters(seed: seed, scale: 2)
    try model.network.saveCheckpoint(params, to: dir + "/w.safetensors")
    var rng = SplitMix64(seed: seed &+ 1)
    let x = (0..<(examples * 4)).map { _ in Float(rng.nextNormal()) }
    try Safetensors.write([("x", SafetensorsEntry(Tensor<Float>(shape: [examples, 4], scalars: x))),
                           ("y", SafetensorsEntry(integers: (0..<examples).map { $0 % 3 }, shape: [examples]))],
                          to: dir + "/b.safetensors")
    return (dir, dir + "/w.safetensors", dir + "/b.safetensors", model.network)
  }

  /// The explicit Hessian (columns H·eᵢ) of the Float64 network on the batch, and its eigenvalues.
  static func dense(_ f: (dir: String, checkpoint: String, batch: String, network: Network), preconditioner d: [Double]? = nil)
    throws -> (h: [Double], n: Int, eigenvalues: [Double])
  {
    let params: [Tensor<Double>] = try f.network.loadCheckpoint(from: f.checkpoint)
    let batch: Batch<Double> = try Batch.load(safetensors: f.batch, features: 4, classes: 3)
    var op = f.network.hessianOperator(parameters: params, buffers: [], batch: batch)
    if let d { op = op.preconditioned(by: d) }
    let n = op.dimension
    var h = [Double](repeating: 0, count: n * n)
    for j in 0..<n {
      var e = [Double](repeating: 0, count: n)
      e[j] = 1
      let col = op(e)
      for i in 0..<n { h[i * n + j] = col[i] }
    }
    return (h, n, try LAPACK.symmetricEigenvalues(h, n: n))
  }

  @Test(arguments: SpectrumEnd.allCases)
  func eigenvaluesAtEitherEnd(which: SpectrumEnd) throws {
    let f = try Self.files()
    let (_, _, dense) = try Self.dense(f)
    var r = CurvatureRequest(model: Self.spec, checkpoint: f.checkpoint, batch: f.batch)
    r.top = 3
    r.which = which
    r.double = true
    let report = try CurvatureMeasurement.run(r)
    let expected: [Double]
    switch which {
    case .largest: expected = Array(dense.reversed().prefix(3))
    case .smallest: expected = Array(dense.prefix(3))
    case .magnitude: expected = Array(dense.sorted { abs($0) > abs($1) }.prefix(3))
    }
    #expect(report.eigenvalues.allConverged)
    for (v, e) in zip(report.eigenvalues.values, expected) {
      #expect(abs(v.value - e) <= max(1e-4 * abs(e), 1e-9), "\(which): \(v.value) vs \(e)")
      #expect(v.residual <= 1e-4 * abs(v.value) && v.relativeResidual <= 1e-4)
    }
    #expect(report.parameters == f.network.parameterCount && report.examples == 7)
  }

  @Test func traceAndDensity() throws {
    let f = try Self.files()
    let (_, n, dense) = try Self.dense(f)
    var r = CurvatureRequest(model: Self.spec, checkpoint: f.checkpoint, batch: f.batch)
    r.double = true
    r.traceProbes = 300
    var d = CurvatureRequest.DensityRequest()
    d.probes = 5
    d.iterations = n
    r.density = d
    let report = try CurvatureMeasurement.run(r)
    let t = try #require(report.trace)
    let exact = dense.reduce(0, +)
    #expect(abs(t.value - exact) <= 3.5 * (t.standardError ?? 0), "trace \(t.value) ± \(t.standardError ?? .nan) vs \(exact)")
    let density = try #require(report.density)
    let step = density.grid[1] - density.grid[0]
    let integral = zip(density.density, density.density.dropFirst()).reduce(0) { $0 + ($1.0 + $1.1) / 2 * step }
    #expect(abs(integral - 1) < 2e-3, "∫φ = \(integral)")
    // n steps per probe: the quadrature nodes are the eigenvalues.
    for λ in [dense.first!, dense.last!] { #expect(density.nodes.contains { abs($0 - λ) <= 1e-6 * max(1, abs(λ)) }) }
    #expect(CurvatureMeasurement.densityFigure(report) != nil)
  }

  /// Chunks give the same operator (the loss is a mean over examples).
  @Test func chunksSumToTheWholeBatch() throws {
    let f = try Self.files(examples: 10)
    var whole = CurvatureRequest(model: Self.spec, checkpoint: f.checkpoint, batch: f.batch)
    whole.double = true
    whole.top = 2
    var chunked = whole
    chunked.chunk = 3
    let a = try CurvatureMeasurement.run(whole), b = try CurvatureMeasurement.run(chunked)
    for (x, y) in zip(a.eigenvalues.values, b.eigenvalues.values) { #expect(abs(x.value - y.value) <= 1e-9 * abs(x.value)) }
    #expect(b.chunk == 3)
  }

  /// Without a checkpoint, the model's own initialization: the same as that initialization saved.
  @Test func atInitializationEqualsTheSavedInitialization() throws {
    let f = try Self.files(seed: 3)
    var saved = CurvatureRequest(model: Self.spec, checkpoint: f.checkpoint, batch: f.batch)
    saved.double = true
    var atInit = CurvatureRequest(model: Self.spec, checkpoint: nil, batch: f.batch)
    atInit.initialization = (3, 2)
    atInit.double = true
    let a = try CurvatureMeasurement.run(saved), b = try CurvatureMeasurement.run(atInit)
    // The checkpoint holds the Float32 draw, the initialization is drawn in Float64.
    #expect(abs(a.eigenvalues.values[0].value - b.eigenvalues.values[0].value) <= 1e-5 * abs(a.eigenvalues.values[0].value))
    #expect(b.parameterSource == "initialization (seed 3, scale 2)")
  }

  @Test func adamPreconditionedSharpness() throws {
    let f = try Self.files()
    var rng = SplitMix64(seed: 9)
    let specs = f.network.parameterSpecs
    let v = specs.map { s in Tensor<Float>(shape: s.shape, scalars: (0..<s.shape.reduce(1, *)).map { _ in Float(rng.nextUniform()) * 0.01 }) }
    try Safetensors.write(zip(specs, v).map { ("\($0.name).exp_avg_sq", SafetensorsEntry($1)) },
                          metadata: ["step": "10", "beta2": "0.99", "eps": "1e-6"], to: f.dir + "/adam.safetensors")
    let c2 = 1 - pow(0.99, 10.0)
    let d = v.flatMap { $0.scalars.map { (Double($0) / c2).squareRoot() + 1e-6 } }
    let (_, _, dense) = try Self.dense(f, preconditioner: d)
    var r = CurvatureRequest(model: Self.spec, checkpoint: f.checkpoint, batch: f.batch)
    r.double = true
    r.adamState = f.dir + "/adam.safetensors"
    let report = try CurvatureMeasurement.run(r)
    #expect(abs(report.eigenvalues.values[0].value - dense.last!) <= 1e-4 * dense.last!)
    #expect(report.preconditioner?.step == 10 && report.preconditioner?.beta2 == 0.99)
    // A state without its step, or missing a tensor, is one clear error.
    try Safetensors.write(zip(specs, v).map { ("\($0.name).exp_avg_sq", SafetensorsEntry($1)) }, to: f.dir + "/nostep.safetensors")
    r.adamState = f.dir + "/nostep.safetensors"
    #expect { try CurvatureMeasurement.run(r) } throws: { "\($0)".contains("metadata 'step'") }
    try Safetensors.write(zip(specs, v).dropLast().map { ("\($0.name).exp_avg_sq", SafetensorsEntry($1)) }, metadata: ["step": "1"],
                          to: f.dir + "/short.safetensors")
    r.adamState = f.dir + "/short.safetensors"
    #expect { try CurvatureMeasurement.run(r) } throws: { "\($0)".contains("missing tensor '\(specs.last!.name).exp_avg_sq'") }
  }

  @Test func everyZooSpecBuildsAndReadsItsBatchLayout() throws {
    for id in CurvatureModel.zooIDs {
      let m = try CurvatureModel(parsing: "\(id):tiny")
      #expect(m.description == "\(id):tiny")
      switch m.layout {
      case .tokens(let t): #expect(ModelCatalog.isLanguageModel(id) && t == ModelZoo.lmSequence(.tiny) && m.classes == ModelZoo.vocabulary)
      case .image(let shape): #expect(shape == ModelZoo.imageShape(.tiny) && m.classes == 10)
      case .features: Issue.record("\(id): a zoo model reads images or tokens")
      }
    }
    #expect(try CurvatureModel(parsing: "wrn-nobn").description == "wrn-nobn:small")
    for bad in ["wrn", "wrn-nobn:huge", "mt-pre", "mlp:4-x-3:tanh", "wrn-nobn:tiny:extra", ""] {
      #expect(throws: CurvatureModel.SpecError.self, "\(bad)") { try CurvatureModel(parsing: bad) }
    }
    #expect { try CurvatureModel(parsing: "nope") } throws: { "\($0)".contains("resmlp-none") && "\($0)".contains("mlp:IN") }
  }

  @Test func badBatchesAreNamedErrors() throws {
    let f = try Self.files()
    // An image batch for a model of another size, and token ids out of the vocabulary.
    let wrong = f.dir + "/img.safetensors"
    try Safetensors.write([("x", SafetensorsEntry(Tensor<Float>(repeating: 0, shape: [2, 28, 28, 1]))),
                           ("y", SafetensorsEntry(integers: [0, 1], shape: [2]))], to: wrong)
    #expect { let _: Batch<Float> = try Batch.load(safetensors: wrong, example: .image([14, 14, 1]), classes: 10) } throws: {
      "\($0)".contains("'x' has shape [2, 28, 28, 1], expected [2, 14, 14, 1]")
    }
    let flat: Batch<Float> = try Batch.load(safetensors: wrong, example: .image([28, 28, 1]), classes: 10)
    #expect(flat.inputs.shape == [2, 28, 28, 1])
    let tokens = f.dir + "/tok.safetensors"
    try Safetensors.write([("x", SafetensorsEntry(integers: [1, 2, 3, 99], shape: [1, 4])),
                           ("y", SafetensorsEntry(integers: [2, 3, 4, 5], shape: [1, 4]))], to: tokens)
    #expect { let _: Batch<Float> = try Batch.load(safetensors: tokens, example: .tokens(4), classes: 96) } throws: {
      "\($0)".contains("token id 99")
    }
    let ok: Batch<Float> = try Batch.load(safetensors: tokens, example: .tokens(4), classes: 100)
    #expect(ok.inputs.shape == [1, 4] && ok.labels == [2, 3, 4, 5])
  }
}

@Suite("--save-checkpoints: any measured point re-measured by repro hessian")
struct RunCheckpointTests {
  static let haveData = FileManager.default.fileExists(atPath: "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")

  /// A tiny run with SGD and one with Adam keep their checkpoints; `repro hessian`'s measurement
  /// of each saved point agrees with the λ1 (and preconditioned λ1) the run stored, within the
  /// residual bounds both state.
  @Test(.enabled(if: haveData, "dataset-fashion-mnist not installed"), arguments: [false, true])
  func savedPointsMeasureAsDuringTraining(adam: Bool) throws {
    var s = StabilitySweep.settings(for: .tiny, seed: 0)
    s.steps = 12
    s.midStep = 6
    s.midSteps = [6]
    var r = StabilitySweep.recipe(s, row: "resmlp-none", learningRate: 0.03, warmup: 0, seed: 0, trace: false)
    if adam { r.optimizer = .adam(beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0); r.learningRate = 1e-3 }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("repro-ckpt-\(getpid())-\(adam)").path
    try? FileManager.default.removeItem(atPath: dir)
    let outcome = try RecipeTrainer.train(r, dataDirectory: nil, progress: nil, metaInitCache: MetaInitCache(), checkpointDirectory: dir)
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).sorted()
    #expect(files.contains("batch.safetensors") && files.contains("step-0.safetensors") && files.contains("step-6.safetensors"))
    #expect(files.contains("step-6-adam.safetensors") == adam && !files.contains("step-0-adam.safetensors"))
    let stored = try #require(outcome.measurement(at: 6))
    var q = CurvatureRequest(model: "resmlp-none:tiny", checkpoint: dir + "/step-6.safetensors", batch: dir + "/batch.safetensors")
    q.tolerance = 1e-5
    let report = try CurvatureMeasurement.run(q)
    let tol = 2e-3 * stored.lambda1
    #expect(abs(report.eigenvalues.values[0].value - stored.lambda1) <= tol, "\(report.eigenvalues.values[0].value) vs \(stored.lambda1)")
    if adam {
      q.adamState = dir + "/step-6-adam.safetensors"
      let pre = try CurvatureMeasurement.run(q)
      let p = try #require(stored.preconditionedLambda1)
      #expect(abs(pre.eigenvalues.values[0].value - p) <= 2e-3 * p, "\(pre.eigenvalues.values[0].value) vs \(p)")
    }
    let (_, metadata) = try Safetensors.read(path: dir + "/step-6.safetensors")
    #expect(metadata["model"] == "resmlp-none:tiny" && metadata["step"] == "6")
  }
}
