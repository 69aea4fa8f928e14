import Testing
@testable import ML

/// Every differentiable op: gradient against central differences, HVP against differences of
/// gradients, and symmetry, all in Double.
@Suite("Op derivatives")
struct OpGradientTests {
  let a: Tensor<Double> = randomTensor([3, 4], seed: 1)
  let b: Tensor<Double> = randomTensor([3, 4], seed: 2)
  let row: Tensor<Double> = randomTensor([4], seed: 3)
  let positive: Tensor<Double> = randomTensor([3, 4], seed: 4, std: 0.3, shift: 1.5)

  /// Reduces to a scalar through a fixed non-linear weighting so second derivatives of linear
  /// ops are tested in combination with a curved outer function.
  func scalarize(_ y: Variable<Double>) -> Variable<Double> {
    let w: Tensor<Double> = randomTensor(y.shape, seed: 99)
    return (y * Variable(constant: w)).tanh().sum() + y.square().sum().affine(scale: 0.1)
  }

  @Test func addSubMulDivWithBroadcasting() {
    checkGradient("add", at: [a, row]) { scalarize($0[0] + $0[1]) }
    checkHVP("add", at: [a, row]) { scalarize($0[0] + $0[1]) }
    checkGradient("sub", at: [a, row]) { scalarize($0[0] - $0[1]) }
    checkHVP("sub", at: [a, b]) { scalarize($0[1] - $0[0]) }
    checkGradient("mul", at: [a, row]) { scalarize($0[0] * $0[1]) }
    checkHVP("mul", at: [a, row]) { scalarize($0[0] * $0[1]) }
    checkGradient("div", at: [a, positive]) { scalarize($0[0] / $0[1]) }
    checkHVP("div", at: [a, positive]) { scalarize($0[0] / $0[1]) }
  }

  @Test func unaryOps() {
    checkGradient("tanh", at: [a]) { $0[0].tanh().square().sum() }
    checkHVP("tanh", at: [a]) { $0[0].tanh().square().sum() }
    checkGradient("exp", at: [a]) { scalarize($0[0].exp()) }
    checkHVP("exp", at: [a]) { scalarize($0[0].exp()) }
    checkGradient("log", at: [positive]) { scalarize($0[0].log()) }
    checkHVP("log", at: [positive]) { scalarize($0[0].log()) }
    checkGradient("sqrt", at: [positive]) { scalarize($0[0].sqrt()) }
    checkHVP("sqrt", at: [positive]) { scalarize($0[0].sqrt()) }
    checkGradient("rsqrt", at: [positive]) { scalarize($0[0].rsqrt()) }
    checkHVP("rsqrt", at: [positive]) { scalarize($0[0].rsqrt()) }
    checkGradient("sigmoid", at: [a]) { scalarize($0[0].sigmoid()) }
    checkHVP("sigmoid", at: [a]) { scalarize($0[0].sigmoid()) }
    checkGradient("gelu", at: [a]) { scalarize(gelu($0[0])) }
    checkHVP("gelu", at: [a]) { scalarize(gelu($0[0])) }
    // ReLU away from its kink (finite differences straddling 0 would be meaningless).
    checkGradient("relu", at: [a]) { scalarize($0[0].relu()) }
    checkHVP("relu", at: [a]) { scalarize($0[0].relu()) }
  }

  @Test func matmulAllTransposes() {
    let m: Tensor<Double> = randomTensor([4, 5], seed: 5)
    let mt: Tensor<Double> = randomTensor([5, 4], seed: 6)
    let at: Tensor<Double> = randomTensor([4, 3], seed: 7)
    checkGradient("A·B", at: [a, m]) { scalarize(Variable.matmul($0[0], $0[1])) }
    checkHVP("A·B", at: [a, m]) { scalarize(Variable.matmul($0[0], $0[1])) }
    checkGradient("A·Bᵀ", at: [a, mt]) { scalarize(Variable.matmul($0[0], $0[1], transposeB: true)) }
    checkHVP("A·Bᵀ", at: [a, mt]) { scalarize(Variable.matmul($0[0], $0[1], transposeB: true)) }
    checkGradient("Aᵀ·B", at: [at, m]) { scalarize(Variable.matmul($0[0], transposeA: true, $0[1])) }
    checkHVP("Aᵀ·B", at: [at, m]) { scalarize(Variable.matmul($0[0], transposeA: true, $0[1])) }
    checkGradient("Aᵀ·Bᵀ", at: [at, mt]) { scalarize(Variable.matmul($0[0], transposeA: true, $0[1], transposeB: true)) }
    checkHVP("Aᵀ·Bᵀ", at: [at, mt]) { scalarize(Variable.matmul($0[0], transposeA: true, $0[1], transposeB: true)) }
    // Batched, and a 3-D input against a shared matrix (folded GEMM).
    let x3: Tensor<Double> = randomTensor([2, 3, 4], seed: 8)
    let y3: Tensor<Double> = randomTensor([2, 4, 3], seed: 9)
    checkGradient("batched", at: [x3, y3]) { scalarize(Variable.matmul($0[0], $0[1])) }
    checkHVP("batched", at: [x3, y3]) { scalarize(Variable.matmul($0[0], $0[1])) }
    checkGradient("batched ·Bᵀ", at: [x3, x3]) { scalarize(Variable.matmul($0[0], $0[1], transposeB: true)) }
    checkHVP("batched ·Bᵀ", at: [x3, x3]) { scalarize(Variable.matmul($0[0], $0[1], transposeB: true)) }
    checkGradient("folded", at: [x3, m]) { scalarize(Variable.matmul($0[0], $0[1])) }
    checkHVP("folded", at: [x3, m]) { scalarize(Variable.matmul($0[0], $0[1])) }
    checkGradient("folded ·Bᵀ", at: [x3, mt]) { scalarize(Variable.matmul($0[0], $0[1], transposeB: true)) }
    checkHVP("folded ·Bᵀ", at: [x3, mt]) { scalarize(Variable.matmul($0[0], $0[1], transposeB: true)) }
  }

  @Test func shapeOpsAndReductions() {
    let x3: Tensor<Double> = randomTensor([2, 3, 4], seed: 10)
    checkGradient("transpose", at: [x3]) { scalarize($0[0].transposed([2, 0, 1])) }
    checkHVP("transpose", at: [x3]) { scalarize($0[0].transposed([2, 0, 1])) }
    checkGradient("reshape", at: [x3]) { scalarize($0[0].reshaped([6, 4])) }
    checkGradient("sum axis", at: [x3]) { scalarize($0[0].sum(alongAxis: 1)) }
    checkHVP("sum axis", at: [x3]) { scalarize($0[0].sum(alongAxis: 1)) }
    checkGradient("mean axis", at: [x3]) { scalarize($0[0].mean(alongAxis: 2)) }
    checkGradient("broadcast", at: [row]) { scalarize($0[0].broadcast(to: [3, 4])) }
    checkHVP("broadcast", at: [row]) { scalarize($0[0].broadcast(to: [3, 4])) }
    checkGradient("softmax", at: [a]) { scalarize($0[0].softmax()) }
    checkHVP("softmax", at: [a]) { scalarize($0[0].softmax()) }
  }

  @Test func losses() {
    let labels = [1, 3, 0]
    checkGradient("cross-entropy", at: [a]) { softmaxCrossEntropy(logits: $0[0], labels: labels) }
    checkHVP("cross-entropy", at: [a]) { softmaxCrossEntropy(logits: $0[0], labels: labels) }
    checkGradient("cross-entropy ε=0.1", at: [a]) { softmaxCrossEntropy(logits: $0[0], labels: labels, labelSmoothing: 0.1) }
    checkHVP("cross-entropy ε=0.1", at: [a]) { softmaxCrossEntropy(logits: $0[0], labels: labels, labelSmoothing: 0.1) }
    checkGradient("mse", at: [a]) { meanSquaredError($0[0], targets: b) }
    checkHVP("mse", at: [a]) { meanSquaredError($0[0], targets: b) }
    checkGradient("l2", at: [a, row]) { l2Penalty($0, coefficient: 0.3)! }
    checkHVP("l2", at: [a, row]) { l2Penalty($0, coefficient: 0.3)! }
  }

  @Test func crossEntropyValue() {
    // Hand-computed: logits (0, ln 3) for label 1 → −log(3/4).
    let z = Tensor<Double>(shape: [1, 2], scalars: [0, Double.log(3)])
    let l = softmaxCrossEntropy(logits: Variable(constant: z), labels: [1]).primal.scalar
    expectClose(l, -Double.log(0.75), rtol: 1e-12)
  }
}

@Suite("Soft-target cross-entropy")
struct SoftTargetTests {
  @Test func mixupTargetsEqualMixedLosses() {
    let z: Tensor<Double> = randomTensor([3, 4], seed: 1)
    let y = [0, 2, 3], yp = [1, 1, 0], lambda = 0.3
    let q = smoothedTargets(labels: y, classes: 4, eps: 0.0) * lambda + smoothedTargets(labels: yp, classes: 4, eps: 0.0) * (1 - lambda)
    let soft = softmaxCrossEntropy(logits: Variable(constant: z), targets: q).primal.scalar
    let mixed = lambda * softmaxCrossEntropy(logits: Variable(constant: z), labels: y).primal.scalar
      + (1 - lambda) * softmaxCrossEntropy(logits: Variable(constant: z), labels: yp).primal.scalar
    expectClose(soft, mixed, rtol: 1e-12)
    checkGradient("soft CE", at: [z]) { softmaxCrossEntropy(logits: $0[0], targets: q) }
    checkHVP("soft CE", at: [z]) { softmaxCrossEntropy(logits: $0[0], targets: q) }
  }
}
