import Testing
@testable import ML

@Suite("Curvature: Lanczos and power iteration")
struct CurvatureTests {
  /// A diagonal operator with a known spectrum, rotated by a fixed orthogonal-ish mixing is not
  /// needed: Lanczos only sees matrix–vector products.
  func diagonal(_ d: [Double]) -> SymmetricOperator {
    SymmetricOperator(dimension: d.count) { v in zip(d, v).map { $0 * $1 } }
  }

  @Test func knownSpectrumTopK() throws {
    // Eigenvalues −30…−1 and 1…50: the largest algebraic (not largest magnitude) are 50, 49, 48.
    let spectrum = (1...50).map(Double.init) + (1...30).map { -Double($0) }
    let r = try lanczos(diagonal(spectrum), iterations: 80, topK: 3, seed: 1)
    #expect(r.eigenpairs.count == 3)
    for (pair, expected) in zip(r.eigenpairs, [50.0, 49, 48]) {
      expectClose(pair.value, expected, rtol: 1e-10, "eigenvalue")
      #expect(pair.residual < 1e-6)
    }
  }

  @Test func convergesWithFewIterationsOnWellSeparatedTop() throws {
    // A dominant top eigenvalue converges to many digits in 20 iterations, with a tiny residual.
    let spectrum = [100.0] + (0..<500).map { Double($0) / 50 }
    let r = try lanczos(diagonal(spectrum), iterations: 20, topK: 1, seed: 3)
    expectClose(r.top, 100, rtol: 1e-10)
    #expect(r.eigenpairs[0].residual < 1e-6)
  }

  @Test func toleranceStopsOnceTheTopRitzValuesConverge() throws {
    // A dominant top eigenvalue: with a tolerance Lanczos stops well before the 40 allowed
    // steps, its explicit residual honours the tolerance, and λ1 is within the residual.
    let spectrum = [100.0, 60] + (0..<500).map { Double($0) / 50 }
    let full = try lanczos(diagonal(spectrum), iterations: 40, topK: 2, seed: 3)
    let early = try lanczos(diagonal(spectrum), iterations: 40, topK: 2, seed: 3, tolerance: 1e-4)
    #expect(full.iterations == 40)
    #expect(early.iterations < 40 && early.iterations >= 4)
    for (e, f) in zip(early.eigenpairs, full.eigenpairs) {
      #expect(e.residual <= 1e-3 * abs(e.value))
      #expect(abs(e.value - f.value) <= e.residual)
    }
    // A clustered top cannot meet a tight tolerance: all iterations run.
    let clustered = (0..<400).map { 1 + Double($0) / 400 }
    let r = try lanczos(diagonal(clustered), iterations: 8, topK: 1, seed: 4, tolerance: 1e-9)
    #expect(r.iterations == 8)
  }

  @Test func residualFlagsUnconvergedEstimates() throws {
    // A clustered spectrum after 5 iterations: the estimate is below λ1 and the residual says so.
    let spectrum = (0..<400).map { 1 + Double($0) / 400 }
    let r = try lanczos(diagonal(spectrum), iterations: 5, topK: 1, seed: 4)
    #expect(r.top < 1.9975)
    #expect(r.eigenpairs[0].residual > 1e-4)
  }

  @Test func invariantSubspaceStopsEarly() throws {
    // Two distinct eigenvalues: the Krylov space closes after 2 steps.
    let spectrum = [Double](repeating: 3, count: 10) + [Double](repeating: -1, count: 10)
    let r = try lanczos(diagonal(spectrum), iterations: 10, topK: 1, seed: 5)
    #expect(r.iterations == 2)
    expectClose(r.top, 3, rtol: 1e-12)
    #expect(throws: CurvatureError.self) { try lanczos(diagonal(spectrum), iterations: 10, topK: 3, seed: 5) }
  }

  @Test func nonFiniteOperatorIsAnError() {
    let op = SymmetricOperator(dimension: 4) { v in v.map { _ in Double.nan } }
    #expect(throws: CurvatureError.nonFinite(iteration: 0)) { try lanczos(op, iterations: 3) }
  }

  @Test func powerIterationAgreesWithLanczos() throws {
    let spectrum = [10.0, 4, 3, 2, -1, 0.5] + (0..<40).map { Double($0) / 20 }
    let (pair, _) = try powerIteration(diagonal(spectrum), maxIterations: 2000, tolerance: 1e-10, seed: 2)
    let r = try lanczos(diagonal(spectrum), iterations: 30, seed: 2)
    expectClose(pair.value, r.top, rtol: 1e-8)
    expectClose(r.top, 10, rtol: 1e-10)
  }

  @Test func lapackDenseEigenvalues() throws {
    // [[2, 1], [1, 2]] has eigenvalues 1 and 3.
    let w = try LAPACK.symmetricEigenvalues([2, 1, 1, 2], n: 2)
    expectClose(w[0], 1, rtol: 1e-12)
    expectClose(w[1], 3, rtol: 1e-12)
  }
}

@Suite("Hessian of a model")
struct ModelHessianTests {
  /// A tiny tanh MLP in Double with its cross-entropy loss.
  let network = Network(build: { registry in
    MLP(widths: [3, 4, 3], activation: .tanh, registry: &registry)
  }, l2: 0.01)
  var params: [Tensor<Double>] { network.initialParameters(seed: 11, scale: 1.5) }
  let batch = Batch<Double>(inputs: randomTensor([5, 3], seed: 12), labels: [0, 2, 1, 1, 0])

  func loss(_ p: [Tensor<Double>]) -> ([Variable<Double>]) -> Variable<Double> {
    { vars in
      let ctx = ForwardContext(parameters: vars, buffers: [], mode: .curvature)
      return network.objective(vars, batch: batch, context: ctx)
    }
  }

  /// The explicit Hessian from central differences of exact gradients (independent of the HVP).
  func explicitHessian() -> (h: [Double], n: Int) {
    let p = params, shapes = p.map(\.shape)
    let x0 = FlatVector.flatten(p), n = x0.count, eps = 1e-5
    var h = [Double](repeating: 0, count: n * n)
    for j in 0..<n {
      var xp = x0, xm = x0
      xp[j] += eps; xm[j] -= eps
      let gp = FlatVector.flatten(valueAndGradient(at: FlatVector.unflatten(xp, shapes: shapes) as [Tensor<Double>], of: loss(p)).gradient)
      let gm = FlatVector.flatten(valueAndGradient(at: FlatVector.unflatten(xm, shapes: shapes) as [Tensor<Double>], of: loss(p)).gradient)
      for i in 0..<n { h[i * n + j] = (gp[i] - gm[i]) / (2 * eps) }
    }
    // Symmetrize the O(ε²) asymmetry of the difference quotients.
    for i in 0..<n { for j in 0..<i { let s = (h[i * n + j] + h[j * n + i]) / 2; h[i * n + j] = s; h[j * n + i] = s } }
    return (h, n)
  }

  @Test func hvpMatchesExplicitHessian() {
    let (h, n) = explicitHessian()
    let p = params
    let op = network.hessianOperator(parameters: p, buffers: [], batch: batch)
    for seed in [1, 2, 3] as [UInt64] {
      var rng = SplitMix64(seed: seed)
      let v = (0..<n).map { _ in rng.nextNormal() }
      let hv = op(v)
      let dense = SymmetricOperator.dense(h, n: n)(v)
      expectClose(Tensor(shape: [n], scalars: hv), Tensor(shape: [n], scalars: dense), rtol: 1e-6, atol: 1e-7, "Hv")
    }
  }

  @Test func lanczosMatchesDenseEigensolver() throws {
    let (h, n) = explicitHessian()
    let dense = try LAPACK.symmetricEigenvalues(h, n: n)
    let op = network.hessianOperator(parameters: params, buffers: [], batch: batch)
    let r = try lanczos(op, iterations: n, topK: 3, seed: 9)
    for (k, pair) in r.eigenpairs.enumerated() {
      expectClose(pair.value, dense[n - 1 - k], rtol: 1e-6, atol: 1e-7, "λ\(k + 1)")
    }
    #expect(r.eigenpairs[0].residual < 1e-6)
  }

  @Test func preconditionedOperatorIsSimilarityScaled() throws {
    // With D = c·I, D^-1/2 H D^-1/2 = H/c.
    let p = params
    let d = p.map { Tensor<Double>(repeating: 4, shape: $0.shape) }
    let plain = try lanczos(network.hessianOperator(parameters: p, buffers: [], batch: batch), iterations: 20, seed: 1)
    let pre = try lanczos(network.preconditionedHessianOperator(parameters: p, buffers: [], batch: batch, preconditioner: d), iterations: 20, seed: 1)
    expectClose(pre.top, plain.top / 4, rtol: 1e-9)
  }

  @Test func infinitePreconditionerProjectsACoordinateOut() throws {
    // D = ∞ (a coordinate Adam has no second moment for) removes its row and column: the
    // operator's spectrum is that of the explicit Hessian without them, scaled by D elsewhere.
    let (h, n) = explicitHessian()
    let p = params, removed = [0, n / 2]
    var flat = [Double](repeating: 2, count: n)
    for i in removed { flat[i] = .infinity }
    let d = FlatVector.unflatten(flat, shapes: p.map(\.shape)) as [Tensor<Double>]
    let kept = (0..<n).filter { !removed.contains($0) }
    var sub = [Double](repeating: 0, count: kept.count * kept.count)
    for (a, i) in kept.enumerated() { for (b, j) in kept.enumerated() { sub[a * kept.count + b] = h[i * n + j] / 2 } }
    let dense = try LAPACK.symmetricEigenvalues(sub, n: kept.count)
    let op = network.preconditionedHessianOperator(parameters: p, buffers: [], batch: batch, preconditioner: d)
    var rng = SplitMix64(seed: 4)
    let v = (0..<n).map { _ in rng.nextNormal() }
    let y = op(v)
    for i in removed { #expect(y[i] == 0) }
    let r = try lanczos(op, iterations: n, seed: 5)
    expectClose(r.top, dense.last!, rtol: 1e-6, atol: 1e-7)
  }
}

@Suite("Lanczos to a stated tolerance")
struct LanczosToleranceTests {
  func diagonal(_ d: [Double]) -> SymmetricOperator {
    SymmetricOperator(dimension: d.count) { v in zip(d, v).map { $0 * $1 } }
  }

  @Test func reRunsUntilTheExplicitResidualMeetsTheBound() throws {
    // A tight top cluster: 4 steps cannot resolve λ1 = 100 from 99.5, 99, …; the second pass
    // (up to 120 steps) must, and the stated residual is the explicit one.
    let spectrum = (0..<200).map { 100 - 0.5 * Double($0) }
    let tolerance = 1e-4
    let short = try lanczos(diagonal(spectrum), iterations: 4, seed: 2)
    #expect(short.eigenpairs[0].residual > tolerance * short.top)
    let (r, converged) = try lanczosToTolerance(diagonal(spectrum), iterations: 4, maxIterations: 120, tolerance: tolerance, seed: 2)
    #expect(converged)
    #expect(r.eigenpairs[0].residual <= tolerance * abs(r.top))
    #expect(abs(r.top - 100) <= r.eigenpairs[0].residual + 1e-9)
  }

  @Test func flagsWhatItCannotConverge() throws {
    let spectrum = (0..<200).map { 100 - 0.01 * Double($0) }
    let (r, converged) = try lanczosToTolerance(diagonal(spectrum), iterations: 3, maxIterations: 6, tolerance: 1e-8, seed: 2)
    #expect(!converged && r.eigenpairs[0].residual > 1e-8 * abs(r.top))
    #expect(r.iterations == 6)
  }
}
