import Testing
@testable import ML

@Suite("Training loop")
struct TrainerTests {
  /// Two Gaussian blobs per class in 8 dimensions: learnable, deterministic.
  static func blobs(_ n: Int, seed: UInt64) -> Dataset<Float> {
    var rng = SplitMix64(seed: seed)
    var x = [Float](), y = [Int]()
    for i in 0..<n {
      let c = i % 3
      for d in 0..<8 { x.append(Float(rng.nextNormal() * 0.5 + (d % 3 == c ? 1.5 : 0))) }
      y.append(c)
    }
    return Dataset(inputs: Tensor(shape: [n, 8], scalars: x), labels: y, classes: 3)
  }

  let network = Network(build: { MLP(widths: [8, 16, 3], activation: .tanh, registry: &$0) })
  let train = blobs(192, seed: 1)
  let test = blobs(96, seed: 2)

  func config(eta: Double, warmup: Int = 0, steps: Int = 60) -> TrainingConfig {
    TrainingConfig(
      steps: steps, batchSize: 32,
      schedule: warmup > 0 ? .warmupConstant(peak: eta, warmupSteps: warmup) : .constant(peak: eta),
      optimizer: .heavyBall(0.9), seed: 5,
      sharpness: MeasurementSchedule(denseEvery: 1, denseUntil: 5, every: 20), lanczosIterations: 20,
      measurementExamples: 64, evalEvery: 20, targetAccuracy: 0.9)
  }

  @Test func trainsAndRecords() {
    let (record, _) = Trainer(network: network, config: config(eta: 0.05), train: train, test: test).run()
    #expect(!record.diverged)
    #expect(record.steps.count == 60)
    #expect(record.steps.last!.loss < record.steps.first!.loss * 0.5)
    #expect(record.sharpness.map(\.step) == [0, 1, 2, 3, 4, 20, 40])
    #expect(record.sharpness.allSatisfy { $0.lambda1 > 0 && $0.residual < 1e-2 * $0.lambda1 })
    expectClose(record.sharpness[0].threshold, (2 + 2 * 0.9) / 0.05, rtol: 1e-12, "(2+2β)/η")
    #expect(record.evals.map(\.step) == [20, 40, 60])
    #expect(record.evals.last!.testAccuracy > 0.9)
    #expect(record.stepsToTarget != nil)
  }

  @Test func sameSeedSameNumbers() {
    let a = Trainer(network: network, config: config(eta: 0.05, steps: 25), train: train, test: test).run()
    let b = Trainer(network: network, config: config(eta: 0.05, steps: 25), train: train, test: test).run()
    #expect(a.record.steps == b.record.steps)
    #expect(a.record.sharpness == b.record.sharpness)
    #expect(zip(a.parameters, b.parameters).allSatisfy { $0.scalars == $1.scalars })
  }

  @Test func divergenceIsRecordedWithLastScheduledSharpness() {
    // A ReLU net (a saturating tanh net does not blow up; it goes flat).
    let relu = Network(build: { MLP(widths: [8, 16, 3], activation: .relu, registry: &$0) })
    let (record, _) = Trainer(network: relu, config: config(eta: 60), train: train, test: test).run()
    guard let d = record.divergence else { Issue.record("η = 60 should diverge"); return }
    #expect(d.learningRate == 60)
    #expect(d.lastLambda1Step != nil && d.lastLambda1Step! <= d.step)
    #expect(d.lastLambda1 == record.sharpness.last?.lambda1)
    #expect(record.steps.count == d.step + 1)
  }

  @Test func clippingIsReported() {
    var c = config(eta: 0.05, steps: 10)
    c.clipNorm = 1e-3
    let (record, _) = Trainer(network: network, config: c, train: train).run()
    #expect(record.steps.allSatisfy { $0.clipped && $0.gradientNorm > 1e-3 })
  }

  @Test func samplerCoversEpochsWithoutRepeats() {
    var s = BatchSampler(datasetSize: 10, batchSize: 3, seed: 1)
    let epoch = (0..<3).flatMap { _ in s.next() }
    #expect(Set(epoch).count == 9)
    _ = s.next()
    #expect(s.epoch == 1)
  }
}
