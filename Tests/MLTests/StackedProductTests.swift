import Testing
@testable import ML

/// Stacked pairs (`Tensor.stackedPair`) and the HVP's stacked products
/// (`Dual.stackedRowsProduct`, `Dual.stackedInnerTangent`): the layout is what the products
/// read, each product equals its separate products up to rounding, and a whole tanh network's
/// H·v, which goes through them, agrees with the same H·v in Float64.
@Suite("Stacked primal and tangent products")
struct StackedProductTests {
  @Test func aPairIsOneAllocationInOrder() {
    let (a, b) = Tensor<Float>.stackedPair(shape: [3, 4]) { first, second in
      for i in 0..<12 { first[i] = Float(i); second[i] = Float(100 + i) }
    }
    #expect(Tensor.areStacked(a, b))
    #expect(!Tensor.areStacked(b, a))
    #expect(a.scalars == (0..<12).map(Float.init) && b.scalars == (0..<12).map { Float(100 + $0) })
    #expect(!Tensor.areStacked(a, a.reshaped([4, 3])), "a tensor is not stacked on itself")
  }

  /// Writing one half copies that half only; the other keeps its values.
  @Test func copyOnWriteTakesOneHalf() {
    var (a, b) = Tensor<Float>.stackedPair(shape: [2, 2]) { first, second in
      for i in 0..<4 { first[i] = 1; second[i] = 2 }
    }
    let before = b
    b[0, 0] = 7  // `before` shares the half: copy-on-write
    #expect(before.scalars == [2, 2, 2, 2] && b.scalars == [7, 2, 2, 2] && a.scalars == [1, 1, 1, 1])
    #expect(!Tensor.areStacked(a, b))
    a[1, 1] = 5  // uniquely referenced: written in place, the pair's other half untouched
    #expect(a.scalars == [1, 1, 1, 5] && before.scalars == [2, 2, 2, 2])
  }

  /// tanh with a tangent lays out [y; ẏ]; its pullback [ġ; g]: the same values as the
  /// unfused formulas, bit for bit.
  @Test func tanhMakesPairsWithTheUnfusedValues() {
    let x: Tensor<Float> = randomTensor([5, 7], seed: 1), xt: Tensor<Float> = randomTensor([5, 7], seed: 2)
    let y = Dual(x, tangent: xt).applying(.tanh)
    #expect(y.stackedPrimalFirst == true)
    let plain = x.applying(.tanh)
    #expect(y.primal.scalars == plain.scalars)
    #expect(y.tangent!.scalars == ((plain * plain).affine(scale: -1, shift: 1) * xt).scalars)

    let g: Tensor<Float> = randomTensor([5, 7], seed: 3), gt: Tensor<Float> = randomTensor([5, 7], seed: 4)
    let back = Dual.tanhPullback(output: y, cotangent: Dual(g, tangent: gt))
    #expect(back.stackedPrimalFirst == false)
    let d = (plain * plain).affine(scale: -1, shift: 1)
    #expect(back.primal.scalars == (g * d).scalars)
    #expect(back.tangent!.scalars == (gt * d - g.affine(scale: 2) * plain * y.tangent!).scalars)
    // Without tangents nothing is paired.
    #expect(Dual(x).applying(.tanh).tangent == nil)
    #expect(Dual.tanhPullback(output: Dual(plain), cotangent: Dual(g)).tangent == nil)
  }

  /// [A; Ȧ]·B + (0; A·Ḃ) in one product of twice the rows, for both orders of the pair and a
  /// transposed B, against the separate products.
  @Test(arguments: [(true, false), (false, false), (true, true), (false, true)])
  func rowsProductMatchesSeparateProducts(_ primalFirst: Bool, _ transposeB: Bool) {
    let (m, k, n) = (6, 9, 5)
    let a0: Tensor<Float> = randomTensor([m, k], seed: 5), at0: Tensor<Float> = randomTensor([m, k], seed: 6)
    let (first, second) = Tensor<Float>.stackedPair(shape: [m, k]) { f, s in
      let (p, t) = primalFirst ? (a0, at0) : (at0, a0)
      p.withUnsafeBufferPointer { for i in 0..<$0.count { f[i] = $0[i] } }
      t.withUnsafeBufferPointer { for i in 0..<$0.count { s[i] = $0[i] } }
    }
    let a = primalFirst ? Dual(first, tangent: second) : Dual(second, tangent: first)
    let bShape = transposeB ? [n, k] : [k, n]
    let b = Dual<Float>(randomTensor(bShape, seed: 7), tangent: randomTensor(bShape, seed: 8))
    let stacked = Dual.stackedRowsProduct(a, false, b, transposeB)
    #expect(stacked != nil)
    guard let stacked else { return }
    let p = Tensor.matmul(a0, b.primal, transposeB: transposeB)
    let t = Tensor.matmul(at0, b.primal, transposeB: transposeB) + Tensor.matmul(a0, b.tangent!, transposeB: transposeB)
    expectClose(stacked.primal, p, rtol: 1e-5, atol: 1e-5, "primal")
    expectClose(stacked.tangent!, t, rtol: 1e-5, atol: 1e-5, "tangent")
    #expect(stacked.stackedPrimalFirst == primalFirst, "the output keeps the input's order")
    // Dual.matmul takes this path for a pair (outside a primal cache) and the usual one for
    // tensors that are not one.
    #expect(Dual.matmul(a, b, transposeB: transposeB).stackedPrimalFirst == primalFirst)
    #expect(Dual.matmul(Dual(a0, tangent: at0), b, transposeB: transposeB).stackedPrimalFirst == nil)
  }

  /// Under a primal cache the products' primals come from the cache: rows are not stacked.
  @Test func noRowStackingUnderAPrimalCache() {
    let a = Dual<Float>(randomTensor([4, 3], seed: 9), tangent: randomTensor([4, 3], seed: 10)).applying(.tanh)
    let b = Dual<Float>(randomTensor([3, 2], seed: 11), tangent: randomTensor([3, 2], seed: 12))
    #expect(a.stackedPrimalFirst == true)
    let cache = PrimalCache<Float>()
    cache.run { #expect(Dual.stackedRowsProduct(a, false, b, false) == nil) }
  }

  /// Ȧᵀ·G + Aᵀ·Ġ as one product of twice the inner dimension, only for pairs in opposite
  /// orders.
  @Test(arguments: [true, false])
  func innerTangentMatchesSeparateProducts(_ activationPrimalFirst: Bool) {
    let (m, k, n) = (8, 5, 6)
    func pair(_ p: Tensor<Float>, _ t: Tensor<Float>, primalFirst: Bool) -> Dual<Float> {
      let (f, s) = Tensor<Float>.stackedPair(shape: p.shape) { f, s in
        let (x, y) = primalFirst ? (p, t) : (t, p)
        x.withUnsafeBufferPointer { for i in 0..<$0.count { f[i] = $0[i] } }
        y.withUnsafeBufferPointer { for i in 0..<$0.count { s[i] = $0[i] } }
      }
      return primalFirst ? Dual(f, tangent: s) : Dual(s, tangent: f)
    }
    let ap: Tensor<Float> = randomTensor([m, k], seed: 13), at: Tensor<Float> = randomTensor([m, k], seed: 14)
    let gp: Tensor<Float> = randomTensor([m, n], seed: 15), gt: Tensor<Float> = randomTensor([m, n], seed: 16)
    let a = pair(ap, at, primalFirst: activationPrimalFirst)
    let g = pair(gp, gt, primalFirst: !activationPrimalFirst)
    let expected = Tensor.matmul(at, transposeA: true, gp) + Tensor.matmul(ap, transposeA: true, gt)
    let stacked = Dual.stackedInnerTangent(a, true, g, false)
    #expect(stacked != nil)
    if let stacked { expectClose(stacked, expected, rtol: 1e-5, atol: 1e-5, "Ȧᵀ·G + Aᵀ·Ġ") }
    let viaMatmul = Dual.matmulTangentOnly(a, transposeA: true, g).tangent!
    expectClose(viaMatmul, expected, rtol: 1e-5, atol: 1e-5, "through matmulTangentOnly")
    // Pairs in the same order would pair Ȧ with Ġ: not stacked.
    let sameOrder = pair(gp, gt, primalFirst: activationPrimalFirst)
    #expect(Dual.stackedInnerTangent(a, true, sameOrder, false) == nil)
    expectClose(Dual.matmulTangentOnly(a, transposeA: true, sameOrder).tangent!, expected, rtol: 1e-5, atol: 1e-5, "same order")
  }

  /// A tanh MLP's H·v in Float32, whose forward and backward go through the stacked products,
  /// agrees with the Float64 H·v of the same network (the Float64 one is checked against an
  /// explicit Hessian in `ModelHessianTests`), whole and through a primal cache.
  @Test func tanhNetworkHVPAgreesWithFloat64() {
    let network = Network(build: { MLP(widths: [12, 16, 16, 4], activation: .tanh, registry: &$0) })
    let p64: [Tensor<Double>] = network.initialParameters(seed: 21)
    let v64: [Tensor<Double>] = p64.enumerated().map { randomTensor($1.shape, seed: 30 + UInt64($0)) }
    let x: Tensor<Double> = randomTensor([10, 12], seed: 22)
    let labels = [0, 1, 2, 3, 0, 1, 2, 3, 1, 2]
    let exact = network.hessianVectorProduct(parameters: p64, buffers: [], batch: Batch(inputs: x, labels: labels),
                                             direction: v64, gradient: false).hvp
    let p32 = p64.map(Tensor<Float>.init), v32 = v64.map(Tensor<Float>.init)
    let batch32 = Batch(inputs: Tensor<Float>(x), labels: labels)
    let fresh = network.hessianVectorProduct(parameters: p32, buffers: [], batch: batch32, direction: v32, gradient: false).hvp
    let caches = PrimalCaches<Float>()
    for _ in 0..<2 {  // recording, then replaying
      let cached = network.hessianVectorProduct(parameters: p32, buffers: [], batch: batch32, direction: v32,
                                                gradient: false, primalCaches: caches).hvp
      for k in exact.indices { expectClose(Tensor<Double>(cached[k]), exact[k], rtol: 1e-4, atol: 1e-5, "cached block \(k)") }
    }
    for k in exact.indices { expectClose(Tensor<Double>(fresh[k]), exact[k], rtol: 1e-4, atol: 1e-5, "block \(k)") }
  }
}
