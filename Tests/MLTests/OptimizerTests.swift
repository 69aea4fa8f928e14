import Testing
@testable import ML

@Suite("Optimizers, schedules, clipping")
struct OptimizerTests {
  func tensors(_ values: [Double]) -> [Tensor<Double>] { [Tensor(shape: [values.count], scalars: values)] }

  @Test func sgdHandComputed() {
    var opt = SGD<Double>()
    var p = tensors([1, -2])
    opt.step(parameters: &p, gradients: tensors([0.5, 1]), learningRate: 0.1)
    expectClose(p[0], tensors([0.95, -2.1])[0], rtol: 1e-14)
    var wd = SGD<Double>(weightDecay: 0.1)
    var q = tensors([1])
    wd.step(parameters: &q, gradients: tensors([0]), learningRate: 0.5)
    expectClose(q[0].scalars[0], 0.95, rtol: 1e-14)  // 1 − 0.5·(0 + 0.1·1)
  }

  @Test func heavyBallHandComputed() {
    var opt = SGD<Double>(momentum: 0.9)
    var p = tensors([1])
    // v1 = 1, p = 1 − 0.1 = 0.9; v2 = 0.9·1 + 2 = 2.9, p = 0.9 − 0.29 = 0.61
    opt.step(parameters: &p, gradients: tensors([1]), learningRate: 0.1)
    opt.step(parameters: &p, gradients: tensors([2]), learningRate: 0.1)
    expectClose(p[0].scalars[0], 0.61, rtol: 1e-14)
  }

  @Test func nesterovHandComputed() {
    var opt = SGD<Double>(momentum: 0.5, nesterov: true)
    var p = tensors([1])
    // v1 = 1, step g + βv = 1.5 → 0.85; v2 = 0.5 + 2 = 2.5, step 2 + 1.25 = 3.25 → 0.525
    opt.step(parameters: &p, gradients: tensors([1]), learningRate: 0.1)
    opt.step(parameters: &p, gradients: tensors([2]), learningRate: 0.1)
    expectClose(p[0].scalars[0], 0.525, rtol: 1e-14)
  }

  @Test func adamHandComputed() {
    var opt = Adam<Double>(beta1: 0.9, beta2: 0.99, epsilon: 1e-8)
    var p = tensors([1])
    // Step 1: m̂ = g, v̂ = g² → update η·g/(|g| + ε) ≈ η.
    opt.step(parameters: &p, gradients: tensors([4]), learningRate: 0.01)
    expectClose(p[0].scalars[0], 1 - 0.01 * 4 / (4 + 1e-8), rtol: 1e-14)
    // Step 2 with g = 2: m = 0.9·0.4 + 0.2 = 0.56, v = 0.99·0.16 + 0.04 = 0.1984
    // m̂ = 0.56/0.19, v̂ = 0.1984/0.0199
    opt.step(parameters: &p, gradients: tensors([2]), learningRate: 0.01)
    let mhat = 0.56 / 0.19, vhat = 0.1984 / (1 - 0.99 * 0.99)
    expectClose(p[0].scalars[0], 1 - 0.01 * 4 / (4 + 1e-8) - 0.01 * mhat / (vhat.squareRoot() + 1e-8), rtol: 1e-12)
    let d = opt.preconditioner(shapes: [[1]])
    expectClose(d[0].scalars[0], vhat.squareRoot() + 1e-8, rtol: 1e-12)
  }

  @Test func adamPreconditionerIsInfiniteWhereNoGradientWasSeen() {
    // The second coordinate never gets a gradient (an embedding row of an unseen token): its D
    // is +∞ (projected out of the preconditioned Hessian), not ε.
    var opt = Adam<Double>(beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
    var p = [Tensor<Double>(shape: [2], scalars: [1, 1])]
    #expect(opt.preconditioner(shapes: [[2]])[0].scalars == [1, 1])
    opt.step(parameters: &p, gradients: [Tensor(shape: [2], scalars: [3, 0])], learningRate: 0.01)
    let d = opt.preconditioner(shapes: [[2]])[0].scalars
    expectClose(d[0], 3 + 1e-8, rtol: 1e-12)
    #expect(d[1] == .infinity)
    #expect(p[0].scalars[1] == 1)
  }

  @Test func schedules() {
    let c = LearningRateSchedule.constant(peak: 0.3)
    #expect(c(0) == 0.3 && c(1000) == 0.3)
    let wc = LearningRateSchedule.warmupCosine(peak: 1, warmupSteps: 10, totalSteps: 110)
    expectClose(wc(0), 0.1, rtol: 1e-14)
    expectClose(wc(4), 0.5, rtol: 1e-14)
    expectClose(wc(9), 1, rtol: 1e-14)
    expectClose(wc(10), 1, rtol: 1e-14)
    expectClose(wc(60), 0.5, rtol: 1e-12)  // halfway through the decay
    expectClose(wc(110), 0, atol: 1e-15)
    #expect(wc(109) < 0.001 && wc(109) > 0)
    let wk = LearningRateSchedule.warmupConstant(peak: 2, warmupSteps: 4)
    #expect(wk(1) == 1 && wk(3) == 2 && wk(500) == 2)
  }

  @Test func clipping() {
    var g = [Tensor<Double>(shape: [2], scalars: [3, 0]), Tensor(shape: [1], scalars: [4])]
    let (norm, clipped) = clipByGlobalNorm(&g, maxNorm: 1)
    expectClose(norm, 5, rtol: 1e-14)
    #expect(clipped)
    expectClose(globalNorm(g), 1, rtol: 1e-14)
    expectClose(g[1].scalars[0], 0.8, rtol: 1e-14)
    var small = [Tensor<Double>(shape: [1], scalars: [0.5])]
    let r = clipByGlobalNorm(&small, maxNorm: 1)
    #expect(!r.clipped && small[0].scalars[0] == 0.5 && r.norm == 0.5)
  }

  @Test func thresholds() {
    expectClose(OptimizerKind.plainSGD.stabilityThreshold(learningRate: 0.1), 20, rtol: 1e-14)
    expectClose(OptimizerKind.heavyBall(0.9).stabilityThreshold(learningRate: 0.1), 38, rtol: 1e-14)
    expectClose(OptimizerKind.defaultAdam.stabilityThreshold(learningRate: 1), 38, rtol: 1e-12)
  }
}

/// The stability bounds the paper's 2/η argument rests on, checked on a quadratic
/// f(x) = ½·Σ λᵢ xᵢ² with λ1 = 10: gradient descent diverges exactly when η > 2/λ1, heavy-ball
/// exactly when η > (2 + 2β)/λ1.
@Suite("Stability bounds on a quadratic")
struct QuadraticStabilityTests {
  let curvatures: Tensor<Double> = Tensor(shape: [3], scalars: [10, 3, 0.5])

  func finalNorm(eta: Double, momentum: Double, nesterov: Bool = false, steps: Int = 400) -> Double {
    var opt = SGD<Double>(momentum: momentum, nesterov: nesterov)
    var x = [Tensor<Double>(shape: [3], scalars: [1, 1, 1])]
    for _ in 0..<steps {
      let (_, g) = valueAndGradient(at: x) { v in (v[0].square() * Variable(constant: curvatures)).sum().affine(scale: 0.5) }
      opt.step(parameters: &x, gradients: g, learningRate: eta)
    }
    return x[0].norm()
  }

  @Test(arguments: [0.0, 0.5, 0.9])
  func divergesExactlyAboveThreshold(beta: Double) {
    let threshold = (2 + 2 * beta) / 10  // η* = (2 + 2β)/λ1
    #expect(finalNorm(eta: threshold * 0.98, momentum: beta) < 1, "below (2+2β)/λ1 must converge")
    #expect(finalNorm(eta: threshold * 1.02, momentum: beta) > 1e3, "above (2+2β)/λ1 must diverge")
  }

  @Test(arguments: [0.5, 0.9])
  func nesterovDivergesExactlyAboveItsThreshold(beta: Double) {
    // The optimizer's own threshold on λ1 = 10, turned into the critical η.
    let threshold = OptimizerKind.nesterov(beta).stabilityThreshold(learningRate: 1) / 10
    expectClose(threshold, (2 + 2 * beta) / ((1 + 2 * beta) * 10), rtol: 1e-14)
    #expect(finalNorm(eta: threshold * 0.98, momentum: beta, nesterov: true, steps: 2000) < 1, "below must converge")
    #expect(finalNorm(eta: threshold * 1.02, momentum: beta, nesterov: true, steps: 2000) > 1e3, "above must diverge")
  }
}
