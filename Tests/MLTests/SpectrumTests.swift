import Foundation
import Testing
@testable import ML

/// A seeded dense symmetric matrix Q·diag(λ)·Qᵀ with a known spectrum (Q from Gram–Schmidt on
/// Gaussian columns), row-major.
func denseMatrix(spectrum λ: [Double], seed: UInt64) -> [Double] {
  let n = λ.count
  var rng = SplitMix64(seed: seed)
  var q: [[Double]] = []
  while q.count < n {
    var v = (0..<n).map { _ in rng.nextNormal() }
    for u in q { let d = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }; for i in 0..<n { v[i] -= d * u[i] } }
    let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
    if norm > 1e-8 { q.append(v.map { $0 / norm }) }
  }
  var a = [Double](repeating: 0, count: n * n)
  for i in 0..<n { for j in 0..<n { var s = 0.0; for k in 0..<n { s += q[k][i] * λ[k] * q[k][j] }; a[i * n + j] = s } }
  return a
}

@Suite("Curvature: both ends, convergence, trace, spectral density")
struct SpectrumTests {
  static let spectrum = (0..<60).map { Double($0) / 6 - 2 } + [25, -9]  // −2…7.8, plus 25 and −9

  @Test(arguments: SpectrumEnd.allCases)
  func eachEndMatchesTheDenseEigensolver(which: SpectrumEnd) throws {
    let n = Self.spectrum.count
    let a = denseMatrix(spectrum: Self.spectrum, seed: 3)
    let dense = try LAPACK.symmetricEigenvalues(a, n: n)  // ascending
    let expected: [Double]
    switch which {
    case .largest: expected = Array(dense.reversed().prefix(3))
    case .smallest: expected = Array(dense.prefix(3))
    case .magnitude: expected = Array(dense.sorted { abs($0) > abs($1) }.prefix(3))
    }
    let r = try lanczos(.dense(a, n: n), iterations: n, topK: 3, which: which, seed: 1)
    for (pair, e) in zip(r.eigenpairs, expected) {
      expectClose(pair.value, e, rtol: 1e-9, atol: 1e-9, "\(which)")
      #expect(pair.residual < 1e-8)
    }
    // Largest magnitude: 25 then −9 then 7.8 (the ends of both signs).
    if which == .magnitude { #expect(r.eigenpairs.map(\.value).map { $0.rounded() } == [25, -9, 8]) }
  }

  /// A clustered top (the 784-512-512-10 case in miniature): the default run returns all
  /// three requested values to 4 significant digits, where a fixed short run does not.
  @Test func clusteredTopConvergesToFourDigits() throws {
    let spectrum = [10.0, 9.99, 9.98, 9.97] + (0..<300).map { 9.9 * Double($0) / 300 }
    let op = SymmetricOperator(dimension: spectrum.count) { v in zip(spectrum, v).map { $0 * $1 } }
    let short = try lanczos(op, iterations: 12, topK: 3, seed: 2)
    #expect(short.eigenpairs.contains { $0.residual > 1e-4 * abs($0.value) })
    let (r, converged, passes) = try eigenpairsToTolerance(op, k: 3, tolerance: 1e-4, iterations: 12, maxIterations: 300, seed: 2)
    #expect(converged == [true, true, true] && passes >= 2)
    for (pair, e) in zip(r.eigenpairs, [10.0, 9.99, 9.98]) {
      #expect(abs(pair.value - e) <= 1e-4 * e, "\(pair.value) vs \(e)")
      #expect(pair.residual <= 1e-4 * abs(pair.value))
    }
    // What cannot converge within the limit is flagged.
    let (_, tooFew, _) = try eigenpairsToTolerance(op, k: 3, tolerance: 1e-10, iterations: 4, maxIterations: 8, seed: 2)
    #expect(tooFew.contains(false))
  }

  @Test func hutchinsonTraceIsWithinItsStandardError() throws {
    let n = Self.spectrum.count
    let a = denseMatrix(spectrum: Self.spectrum, seed: 5)
    let exact = Self.spectrum.reduce(0, +)
    let t = try hutchinsonTrace(.dense(a, n: n), probes: 400, seed: 7)
    let se = try #require(t.standardError)
    #expect(t.probes == 400 && t.samples.count == 400)
    #expect(abs(t.value - exact) <= 3 * se, "trace \(t.value) ± \(se), exact \(exact)")
    // The standard error is the sample's: about sqrt(2·Σ_{i≠j} a_ij² / m).
    var off = 0.0
    for i in 0..<n { for j in 0..<n where i != j { off += a[i * n + j] * a[i * n + j] } }
    expectClose(se, (2 * off / 400).squareRoot(), rtol: 0.2)
    // A diagonal operator is exact with Rademacher probes.
    let d = try hutchinsonTrace(SymmetricOperator(dimension: 4) { v in zip([1.0, 2, 3, 4], v).map { $0 * $1 } }, probes: 3, seed: 1)
    expectClose(d.value, 10, rtol: 1e-14)
    #expect(d.standardError == 0)
  }

  @Test func quadratureDensityIntegratesToOneAndMatchesTheEigenvalues() throws {
    let n = Self.spectrum.count
    let a = denseMatrix(spectrum: Self.spectrum, seed: 6)
    let sld = try stochasticLanczosQuadrature(.dense(a, n: n), probes: 30, iterations: 30, seed: 4)
    expectClose(sld.weights.reduce(0, +), 1, rtol: 1e-12)
    // The broadened density integrates to 1 (trapezoid on a grid wide enough for the tails).
    let grid = stride(from: -12.0, through: 30, by: 0.01).map { $0 }
    let phi = sld.density(at: grid, sigma: 0.3)
    let integral = zip(phi, phi.dropFirst()).reduce(0) { $0 + ($1.0 + $1.1) / 2 * 0.01 }
    expectClose(integral, 1, rtol: 1e-3)
    // Its cumulative distribution follows the eigenvalues' (Kolmogorov distance ≤ 0.1 with 30
    // probes), and n·Σwθ estimates the trace.
    let sorted = Self.spectrum.sorted()
    for t in stride(from: -3.0, through: 9, by: 0.5) {
      let empirical = Double(sorted.filter { $0 <= t }.count) / Double(n)
      #expect(abs(sld.cumulative(t) - empirical) <= 0.1, "CDF at \(t): \(sld.cumulative(t)) vs \(empirical)")
    }
    expectClose(sld.trace, Self.spectrum.reduce(0, +), rtol: 0.15)
    // The extreme nodes converge to the extreme eigenvalues (Lanczos finds the ends first).
    expectClose(sld.nodes.max()!, 25, rtol: 1e-6)
    expectClose(sld.nodes.min()!, -9, rtol: 1e-6)
  }

  /// On a real model's Hessian (the tiny tanh MLP of `ModelHessianTests`, against its explicit
  /// Hessian): the smallest eigenvalue, the trace and the density.
  @Test func modelHessianEveryMode() throws {
    let m = ModelHessianTests()
    let (h, n) = m.explicitHessian()
    let dense = try LAPACK.symmetricEigenvalues(h, n: n)
    let op = m.network.hessianOperator(parameters: m.params, buffers: [], batch: m.batch)
    let low = try lanczos(op, iterations: n, topK: 2, which: .smallest, seed: 3)
    expectClose(low.eigenpairs[0].value, dense[0], rtol: 1e-6, atol: 1e-7, "λmin")
    expectClose(low.eigenpairs[1].value, dense[1], rtol: 1e-6, atol: 1e-7, "λmin+1")
    let t = try hutchinsonTrace(op, probes: 200, seed: 2)
    #expect(abs(t.value - dense.reduce(0, +)) <= 3.5 * (t.standardError ?? 0), "trace \(t.value) vs \(dense.reduce(0, +))")
    let sld = try stochasticLanczosQuadrature(op, probes: 10, iterations: n, seed: 1)
    // With n steps the quadrature is exact per probe: the nodes are the eigenvalues.
    for λ in dense { #expect(sld.nodes.contains { abs($0 - λ) <= 1e-6 * max(1, abs(λ)) }) }
    expectClose(sld.weights.reduce(0, +), 1, rtol: 1e-12)
  }
}

/// Every mode on a tiny member of each family, against the eigendecomposition of its explicit
/// Hessian (n products with the unit vectors, Float64).
@Suite("Curvature modes on every family's explicit Hessian")
struct FamilySpectrumTests {
  static let images: Tensor<Double> = randomTensor([3, 6, 6, 1], seed: 81)
  static let imageBatch = Batch(inputs: images, labels: [2, 0, 1])

  static func member(_ name: String) -> (Network, Batch<Double>) {
    switch name {
    case "resmlp":
      return (Network { ResidualMLP(.init(inputs: 36, width: 3, hiddenWidth: 4, blocks: 2, classes: 3, normalization: .none), registry: &$0) }, imageBatch)
    case "resmlp-bn":
      return (Network { ResidualMLP(.init(inputs: 36, width: 3, hiddenWidth: 4, blocks: 2, classes: 3, normalization: .batchNorm), registry: &$0) }, imageBatch)
    case "cnn":
      return (Network { SmallCNN(inputChannels: 1, classes: 3, channels: (2, 2, 3), registry: &$0) }, imageBatch)
    case "wrn":
      return (Network { WideResNet(.init(depth: 10, widen: 1, baseWidth: 1, inputChannels: 1, classes: 3, normalization: .none), registry: &$0) }, imageBatch)
    case "resnet":
      return (Network { ResNet(ModelFamilyTests.tinyResNet(.preActivation, .basic, .batchNorm), registry: &$0) }, imageBatch)
    case "densenet":
      return (Network { DenseNet(.init(inputChannels: 1, classes: 3, growthRate: 2, blocks: [1, 1], normalization: .none), registry: &$0) }, imageBatch)
    default:
      let config = TransformerLM.Configuration(vocabulary: 5, context: 4, width: 4, layers: 1, heads: 2, mlpWidth: 6)
      let x: Tensor<Double> = Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, 0, 2, 4, 1])
      return (Network { TransformerLM(config, registry: &$0) }, Batch(inputs: x, labels: [2, 3, 4, 0, 2, 4, 1, 3]))
    }
  }

  @Test(arguments: ["resmlp", "resmlp-bn", "cnn", "wrn", "resnet", "densenet", "lm"])
  func everyMode(family: String) throws {
    let (network, batch) = Self.member(family)
    let params = randomParameters(network, seed: 5, std: 0.7)
    let op = network.hessianOperator(parameters: params, buffers: network.initialBuffers(), batch: batch)
    let n = op.dimension
    var h = [Double](repeating: 0, count: n * n)
    for j in 0..<n {
      var e = [Double](repeating: 0, count: n)
      e[j] = 1
      let col = op(e)
      for i in 0..<n { h[i * n + j] = col[i] }
    }
    for i in 0..<n { for j in 0..<i { let s = (h[i * n + j] + h[j * n + i]) / 2; h[i * n + j] = s; h[j * n + i] = s } }
    let dense = try LAPACK.symmetricEigenvalues(h, n: n)
    let scale = max(abs(dense.first!), abs(dense.last!))
    for which in SpectrumEnd.allCases {
      let (r, converged, _) = try eigenpairsToTolerance(op, k: 2, which: which, tolerance: 1e-6, iterations: 20, maxIterations: n, seed: 3)
      let expected = which == .largest ? [dense[n - 1], dense[n - 2]] : which == .smallest ? [dense[0], dense[1]]
        : Array(dense.sorted { abs($0) > abs($1) }.prefix(2))
      for (pair, e) in zip(r.eigenpairs, expected) {
        #expect(abs(pair.value - e) <= 1e-6 * scale, "\(family) \(which): \(pair.value) vs \(e)")
      }
      #expect(converged.allSatisfy { $0 } || r.iterations == n, "\(family) \(which)")
    }
    let t = try hutchinsonTrace(op, probes: 200, seed: 4)
    #expect(abs(t.value - dense.reduce(0, +)) <= 3.5 * (t.standardError ?? 0) + 1e-9 * scale, "\(family) trace")
    let sld = try stochasticLanczosQuadrature(op, probes: 8, iterations: n, seed: 6)
    expectClose(sld.weights.reduce(0, +), 1, rtol: 1e-10)
    // Full-length runs: every node is an eigenvalue, and the measure follows the eigenvalue
    // histogram (Kolmogorov distance ≤ 0.25 with 8 probes).
    for node in sld.nodes { #expect(dense.contains { abs($0 - node) <= 1e-6 * scale }, "\(family) node \(node)") }
    // Compared between eigenvalues (midpoints of gaps wider than the tolerance), so a cluster such
    // as the many zero eigenvalues of a ReLU network is counted whole on both sides.
    let gaps = (1..<n).filter { dense[$0] - dense[$0 - 1] > 1e-4 * scale }
    for q in [0.25, 0.5, 0.75] {
      guard let i = gaps.min(by: { abs(Double($0) - q * Double(n)) < abs(Double($1) - q * Double(n)) }) else { continue }
      let t = (dense[i - 1] + dense[i]) / 2
      let empirical = Double(i) / Double(n)
      #expect(abs(sld.cumulative(t) - empirical) <= 0.25, "\(family) CDF near the \(q) quantile")
    }
  }
}
