import Testing
@testable import ML

/// Which cotangent primals an HVP-only pass skips (`CotangentUse`, `Tape.Node.primalNeeded`).
/// That the skipping leaves H·v unchanged is checked for every op and model by `checkHVP`
/// (HVP-only against the full pass, with skipped primals NaN-filled in these debug builds);
/// here, that the skipping happens where it should and nowhere else.
@Suite("Cotangent liveness")
struct CotangentLivenessTests {
  func leaf(_ tape: Tape<Double>, _ shape: [Int], seed: UInt64) -> Variable<Double> {
    tape.variable(randomTensor(shape, seed: seed), tangent: randomTensor(shape, seed: seed + 50))
  }

  /// conv → +bias → ReLU → conv → tanh on a constant image. Only W1 and b1 lie behind the first
  /// ReLU, and they want no gradient: nobody reads the primal cotangent of the ReLU's output,
  /// so the second convolution may skip its input cotangent. Behind the second convolution's
  /// output the primal is read: the tangent of W̄2 = hᵀ·Ȳ2 + ḣᵀ·Ȳ2 needs Ȳ2.
  @Test func reluConvolutionsSkipOnlyTheFirstLayersPrimals() {
    let tape = Tape<Double>(tangentOnlyLeaves: true)
    let x = Variable<Double>(constant: randomTensor([2, 6, 6, 1], seed: 1))
    let w1 = leaf(tape, [3, 3, 1, 8], seed: 2), b1 = leaf(tape, [8], seed: 3)
    let w2 = leaf(tape, [3, 3, 8, 8], seed: 4)
    let z1 = conv2d(x, w1), a1 = z1 + b1, h = a1.relu()
    let y2 = conv2d(h, w2), out = y2.tanh()
    let skipped = [w1, b1, z1, a1, h].map(\.needsPrimalCotangent)
    #expect(skipped == [false, false, false, false, false])
    #expect(y2.needsPrimalCotangent)
    #expect(out.needsPrimalCotangent)
  }

  /// The same network with the parameters' gradients wanted reads every primal.
  @Test func gradientPassesReadEveryPrimal() {
    let tape = Tape<Double>()
    let x = Variable<Double>(constant: randomTensor([2, 6, 6, 1], seed: 1))
    let w1 = leaf(tape, [3, 3, 1, 8], seed: 2), b1 = leaf(tape, [8], seed: 3)
    let h = (conv2d(x, w1) + b1).relu()
    #expect([w1, b1, h].map(\.needsPrimalCotangent) == [true, true, true])
  }

  /// Non-linear ops read the primal cotangent whenever an input carries a tangent: a tanh MLP
  /// skips the first layer's pre-activation primal only.
  @Test func nonlinearOpsReadThePrimal() {
    let tape = Tape<Double>(tangentOnlyLeaves: true)
    let x = Variable<Double>(constant: randomTensor([4, 5], seed: 1))
    let w = leaf(tape, [5, 3], seed: 2), b = leaf(tape, [3], seed: 3)
    let z = Variable.matmul(x, w) + b, t = z.tanh()
    #expect(!z.needsPrimalCotangent)
    #expect(t.needsPrimalCotangent)
    // A product with a constant reads nothing more; with another tangent-carrying input it does.
    let c = Variable<Double>(constant: randomTensor([4, 3], seed: 4))
    let byConstant = z * c, squared = z * z
    #expect(!byConstant.needsPrimalCotangent)
    #expect(squared.needsPrimalCotangent)
  }

  /// In these unoptimized builds a skipped primal is NaN, so a pullback that read one by
  /// mistake would poison the HVPs that `checkHVP` compares.
  @Test func uninitializedTensorsAreNaNInTests() {
    let t = Tensor<Double>(uninitializedShape: [3, 2])
    let allNaN = t.scalars.allSatisfy(\.isNaN)
    #expect(allNaN)
  }
}
