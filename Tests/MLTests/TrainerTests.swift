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
    #expect(record.steps.count == d.step + 1)
    // The rule: the last measurement strictly before the divergence step (step 0 if it
    // diverged at once).
    let before = record.sharpness.last { $0.step < d.step || $0.step == 0 }
    #expect(d.lastLambda1Step != nil && (d.lastLambda1Step! < d.step || d.lastLambda1Step == 0))
    #expect(d.lastLambda1 == before?.lambda1)
  }

  @Test func divergenceSnapshotsGiveTheDenseScheduleLambda() {
    // Measuring only at step 0 but keeping snapshots on the dense schedule records, for a run
    // that diverges, exactly the λ1 the dense schedule measured last before divergence, and no
    // other measurement.
    let relu = Network(build: { MLP(widths: [8, 16, 3], activation: .relu, registry: &$0) })
    var dense = config(eta: 8, warmup: 12)
    dense.sharpness = MeasurementSchedule(every: 2)
    var lazy = dense
    lazy.sharpness = MeasurementSchedule(every: Int.max, extra: [0])
    lazy.divergenceSnapshots = MeasurementSchedule(every: 2)
    let a = Trainer(network: relu, config: dense, train: train, test: test).run().record
    let b = Trainer(network: relu, config: lazy, train: train, test: test).run().record
    guard let da = a.divergence, let db = b.divergence else { Issue.record("η = 8 should diverge"); return }
    // The dense schedule may notice a non-finite curvature before the loss turns non-finite.
    #expect(db.step >= da.step && da.step > 4)
    #expect(db.lastLambda1Step == da.lastLambda1Step && db.lastLambda1Step! > 0)
    #expect(db.lastLambda1 == da.lastLambda1)
    #expect(b.sharpness.map(\.step) == [0, db.lastLambda1Step!])
    // A run that trains measures no snapshot.
    var calm = lazy
    calm.schedule = .constant(peak: 0.05)
    #expect(Trainer(network: network, config: calm, train: train, test: test).run().record.sharpness.map(\.step) == [0])
  }

  @Test func lanczosToleranceKeepsLambdaWithinItsResidual() {
    var c = config(eta: 0.05, steps: 6)
    c.sharpness = MeasurementSchedule(every: 5)
    var t = c
    t.lanczosTolerance = 1e-3
    let a = Trainer(network: network, config: c, train: train, test: test).run().record
    let b = Trainer(network: network, config: t, train: train, test: test).run().record
    #expect(a.steps == b.steps)
    for (x, y) in zip(a.sharpness, b.sharpness) {
      #expect(abs(x.lambda1 - y.lambda1) <= max(y.residual, 1e-5 * x.lambda1))
      #expect(y.residual <= 2e-3 * y.lambda1)
    }
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
