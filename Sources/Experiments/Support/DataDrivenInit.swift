import Foundation
import ML

/// What a data-driven initialization did before training: its meta-objective per iteration,
/// the learned scales, and λ1 measured along the way (on the run's measurement set).
public struct InitializationRecord: Codable, Sendable {
  public var method: TrainingRecipe.InitMethod
  public var iterations: Int
  /// MetaInit: the gradient quotient of each step's random batch. GradInit: L(S̃; θ′) of each
  /// objective step, nil on a gradient-norm constraint step.
  public var metaLoss: [Double?]
  /// GradInit: ‖g‖ on each iteration's S (empty for MetaInit).
  public var gradientNorms: [Double]
  /// Final norm / initial norm of each parameter tensor (MetaInit) or the learned α (GradInit).
  public var scales: [Double]
  /// λ1 before the first iteration, every `measureEvery` iterations, and after the last; a
  /// record's `step` is the iteration, its threshold 2/η at the run's peak η.
  public var lambda1: [SharpnessRecord]
}

/// The data-driven initializations as a recipe's `initMethod` runs them, on the run's own
/// network, precision (Float32) and seed, with fixed settings stated here.
enum DataDrivenInit {
  /// MetaInit: 200 sign steps on batches of 64 random inputs (N(0, 1) images, uniform tokens
  /// for a language model) with uniform random labels, the authors' lr 0.1 and momentum 0.9,
  /// ε = 0.1·rms(g) (`MetaInit`), the third-order difference step 3·10⁻³ (Float32: the step
  /// that balances truncation against roundoff, about ε_mach^(1/3)).
  static let metaInit = MetaInit(steps: defaultIterations, differenceStep: 3e-3)
  /// Iterations of either method unless the recipe says (`initIterations`).
  static let defaultIterations = 200
  static let metaInitBatch = 64
  /// GradInit: 200 iterations (or the recipe's `initIterations`) on training batches of 64 (S and a fresh S̃), inner step η = the
  /// run's peak learning rate on the normalized gradient, γ = 1, the authors' other settings.
  static let gradInitBatch = 64
  /// λ1 every this many iterations (for a traced run; otherwise before and after).
  static let measureEvery = 20

  static func run(_ recipe: TrainingRecipe, network: Network, train: Dataset<Float>, trainer: Trainer<Float>,
                  cache: MetaInitCache = .shared) -> (parameters: [Tensor<Float>], record: InitializationRecord)?
  {
    let start: [Tensor<Float>] = network.initialParameters(seed: recipe.seed, scale: recipe.initScale)
    let measurement = train.prefix(trainer.config.measurementExamples)
    let buffers: [Tensor<Float>] = network.initialBuffers()
    let shapes = start.map(\.shape)
    var lambda1: [SharpnessRecord] = []
    let observe = { (k: Int, p: [Tensor<Float>]) in
      // A traced run follows λ1 through the method; any other measures it before and after only.
      guard (recipe.measurement.isTrace && k % measureEvery == 0) || k == 0 || k == iterations(recipe) else { return }
      if let m = trainer.measureSharpness(p, buffers, measurement, AnyOptimizer(recipe.optimizer), shapes, step: k,
                                          eta: recipe.learningRate) {
        lambda1.append(m)
      }
    }
    switch recipe.initMethod {
    case .standard:
      return nil
    case .metaInit:
      let sample = { (k: Int) in randomBatch(like: train, count: metaInitBatch, seed: recipe.seed &+ 1000 &+ UInt64(k)) }
      var m = metaInit
      m.steps = iterations(recipe)
      // Independent of η and warmup: computed once per network and seed (`MetaInitCache`).
      let key = MetaInitCache.Key(model: recipe.model, modelWidth: recipe.modelWidth, size: recipe.data.size, loss: recipe.loss,
                                  l2: recipe.l2, initScale: recipe.initScale, seed: recipe.seed, iterations: m.steps)
      let entry = cache.entry(key) {
        var observed: [Int: [Tensor<Float>]] = [:]
        let (p, r) = m.run(network: network, parameters: start, batch: sample, observe: { k, p in
          if k % measureEvery == 0 || k == m.steps { observed[k] = p }
        })
        return .init(parameters: p, report: r, observed: observed)
      }
      for k in entry.observed.keys.sorted() { observe(k, entry.observed[k]!) }
      let r = entry.report
      return (entry.parameters, InitializationRecord(method: .metaInit, iterations: m.steps, metaLoss: r.gradientQuotients,
                                                     gradientNorms: [], scales: r.scales, lambda1: lambda1))
    case .gradInit:
      var sampler = BatchSampler(datasetSize: train.count, batchSize: min(gradInitBatch, train.count), seed: recipe.seed &+ 2000)
      var drawn: [Batch<Float>] = []
      let sample = { (k: Int) -> Batch<Float> in
        while drawn.count <= k { drawn.append(train.batch(sampler.next())) }
        return drawn[k]
      }
      let g = GradInit(steps: iterations(recipe), innerLearningRate: recipe.learningRate)
      let (p, r) = g.run(network: network, parameters: start, batch: sample, observe: observe)
      return (p, InitializationRecord(method: .gradInit, iterations: g.steps, metaLoss: r.updatedLosses,
                                      gradientNorms: r.gradientNorms, scales: r.scales, lambda1: lambda1))
    }
  }

  static func iterations(_ r: TrainingRecipe) -> Int { r.initMethod == .standard ? 0 : r.initIterations ?? defaultIterations }

  /// `count` random examples shaped like `data`'s: N(0, 1) inputs for images, uniform token ids
  /// for text; uniform labels (MetaInit's data: it needs no real examples).
  static func randomBatch(like data: Dataset<Float>, count: Int, seed: UInt64) -> Batch<Float> {
    var rng = SplitMix64(seed: seed)
    let shape = [count] + data.exampleShape
    let n = shape.reduce(1, *)
    let text = data.labelsPerExample > 1
    let inputs = (0..<n).map { _ in text ? Float(Int(rng.nextUniform() * Double(data.classes)) % data.classes) : Float(rng.nextNormal()) }
    let labels = (0..<(count * data.labelsPerExample)).map { _ in Int(rng.nextUniform() * Double(data.classes)) % data.classes }
    return Batch(inputs: Tensor(shape: shape, scalars: inputs), labels: labels)
  }
}
