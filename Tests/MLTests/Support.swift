import Testing
@testable import ML

/// The one tolerance check of the test suite: shapes first, then |a − e| ≤ atol + rtol·|e| per
/// entry, with the worst offender in the failure message.
func expectClose<S: TensorScalar>(
  _ actual: Tensor<S>, _ expected: Tensor<S>, rtol: Double = 1e-6, atol: Double = 1e-9,
  _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation
) {
  #expect(actual.shape == expected.shape, "\(what): shape \(actual.shape) vs \(expected.shape)",
          sourceLocation: sourceLocation)
  guard actual.shape == expected.shape else { return }
  let a = actual.scalars, e = expected.scalars
  var worst = 0.0, worstIndex = -1
  for i in a.indices {
    let excess = abs(Double(a[i]) - Double(e[i])) - (atol + rtol * abs(Double(e[i])))
    if excess > worst { worst = excess; worstIndex = i }
  }
  #expect(worstIndex < 0,
          "\(what): entry \(worstIndex) is \(worstIndex >= 0 ? Double(a[worstIndex]) : 0), expected \(worstIndex >= 0 ? Double(e[worstIndex]) : 0) (rtol \(rtol), atol \(atol))",
          sourceLocation: sourceLocation)
}

func expectClose(_ a: Double, _ e: Double, rtol: Double = 1e-6, atol: Double = 1e-9, _ what: String = "",
                 sourceLocation: SourceLocation = #_sourceLocation) {
  #expect(abs(a - e) <= atol + rtol * abs(e), "\(what): \(a) vs \(e)", sourceLocation: sourceLocation)
}

/// A seeded random tensor with entries in N(0, std²).
func randomTensor<S: TensorScalar>(_ shape: [Int], seed: UInt64, std: Double = 1, shift: Double = 0) -> Tensor<S> {
  var rng = SplitMix64(seed: seed)
  return Tensor(shape: shape, scalars: (0..<shape.reduce(1, *)).map { _ in S(shift + std * rng.nextNormal()) })
}

/// Central finite differences of a scalar function of several tensors: the independent oracle
/// for every gradient.
func finiteDifferenceGradient(
  at x: [Tensor<Double>], h: Double = 1e-5, _ f: ([Tensor<Double>]) -> Double
) -> [Tensor<Double>] {
  x.indices.map { k in
    Tensor(shape: x[k].shape) { out in
      for i in 0..<x[k].count {
        var plus = x, minus = x
        plus[k].withUnsafeMutableBufferPointer { $0[i] += h }
        minus[k].withUnsafeMutableBufferPointer { $0[i] -= h }
        out[i] = (f(plus) - f(minus)) / (2 * h)
      }
    }
  }
}

/// Checks `valueAndGradient` of `f` against central differences in Double.
func checkGradient(
  _ what: String, at x: [Tensor<Double>], rtol: Double = 1e-6, atol: Double = 1e-8,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ f: @escaping ([Variable<Double>]) -> Variable<Double>
) {
  let (value, grad) = valueAndGradient(at: x, of: f)
  let plain = { (t: [Tensor<Double>]) -> Double in f(t.map { Variable(constant: $0) }).primal.scalar }
  expectClose(Double(value), plain(x), rtol: 1e-12, atol: 1e-12, "\(what) value")
  let fd = finiteDifferenceGradient(at: x, plain)
  for k in x.indices {
    expectClose(grad[k], fd[k], rtol: rtol, atol: atol, "\(what) ∂/∂x\(k)", sourceLocation: sourceLocation)
  }
}

/// Checks `hessianVectorProduct` of `f` along random directions against central differences of
/// the gradient, and the symmetry vᵀHw = wᵀHv. The differences' error is O(h²) (third
/// derivatives); strongly curved models need a smaller step `h`.
func checkHVP(
  _ what: String, at x: [Tensor<Double>], seed: UInt64 = 7, rtol: Double = 1e-5, atol: Double = 1e-7,
  h: Double = 1e-5,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ f: @escaping ([Variable<Double>]) -> Variable<Double>
) {
  let v: [Tensor<Double>] = x.enumerated().map { randomTensor($1.shape, seed: seed &+ UInt64($0)) }
  let w: [Tensor<Double>] = x.enumerated().map { randomTensor($1.shape, seed: seed &+ 100 &+ UInt64($0)) }
  let (_, _, hv) = hessianVectorProduct(at: x, direction: v, of: f)
  // The HVP-only pass (parameters' primal gradients skipped) gives the same H·v.
  let (_, noGradient, hvOnly) = hessianVectorProduct(at: x, direction: v, gradient: false, of: f)
  #expect(noGradient.isEmpty, sourceLocation: sourceLocation)
  for k in x.indices {
    expectClose(hvOnly[k], hv[k], rtol: 1e-12, atol: 1e-14, "\(what) HVP-only block \(k)", sourceLocation: sourceLocation)
  }
  let plus = zip(x, v).map { $0 + $1 * h }, minus = zip(x, v).map { $0 - $1 * h }
  let gp = valueAndGradient(at: plus, of: f).gradient, gm = valueAndGradient(at: minus, of: f).gradient
  for k in x.indices {
    let fd = (gp[k] - gm[k]) * (1 / (2 * h))
    expectClose(hv[k], fd, rtol: rtol, atol: atol, "\(what) Hv block \(k)", sourceLocation: sourceLocation)
  }
  let (_, _, hw) = hessianVectorProduct(at: x, direction: w, of: f)
  let vHw = zip(v, hw).reduce(0.0) { $0 + $1.0.dot($1.1) }
  let wHv = zip(w, hv).reduce(0.0) { $0 + $1.0.dot($1.1) }
  expectClose(vHw, wHv, rtol: 1e-9, atol: 1e-10, "\(what) symmetry vᵀHw = wᵀHv", sourceLocation: sourceLocation)
}
