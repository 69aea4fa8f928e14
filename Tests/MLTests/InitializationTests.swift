import Foundation
import Testing
@testable import ML

@Suite("Data-driven initializations: MetaInit and GradInit")
struct InitializationTests {
  /// A tiny tanh MLP in Double (tanh: nonzero third derivatives, so MetaInit's third-order term matters).
  let network = Network(build: { MLP(widths: [3, 5, 3], activation: .tanh, registry: &$0) })
  func params(scale: Double = 1.5) -> [Tensor<Double>] { network.initialParameters(seed: 21, scale: scale) }
  /// Random inputs and labels, one batch per index (MetaInit's data; GradInit's S and S̃).
  func batch(_ k: Int) -> Batch<Double> {
    var rng = SplitMix64(seed: UInt64(100 + k))
    return Batch(inputs: randomTensor([6, 3], seed: UInt64(200 + k)), labels: (0..<6).map { _ in Int(rng.nextUniform() * 3) % 3 })
  }
  var products: FlatProducts<Double> { FlatProducts(network: network, shapes: params().map(\.shape)) }

  /// ⟨∇f(θ), d⟩ against the central difference of f along d.
  func expectDirectionalDerivative(_ f: ([Double]) -> Double, gradient: [Double], at theta: [Double], seed: UInt64,
                                   step t: Double = 1e-5, rtol: Double) {
    var rng = SplitMix64(seed: seed)
    let d = theta.map { _ in rng.nextNormal() }
    let fd = (f(zip(theta, d).map { $0 + t * $1 }) - f(zip(theta, d).map { $0 - t * $1 })) / (2 * t)
    let exact = zip(gradient, d).reduce(0) { $0 + $1.0 * $1.1 }
    expectClose(exact, fd, rtol: rtol, atol: 1e-9)
  }

  @Test func gradientQuotientGradientMatchesDifferencesOfTheQuotient() {
    // ∇GQ = H(v + Hu) + D³L[g, u, ·], the last term by a central difference of HVPs: against a
    // central difference of GQ itself along 3 directions (absolute ε, so that ε does not move
    // with θ; sign g does not change within the difference step).
    let m = MetaInit(relativeEpsilon: nil), f = products, b = batch(0), theta = FlatVector.flatten(params())
    let gq = { (x: [Double]) in m.gradientQuotient(network: network, parameters: f.tensors(x) as [Tensor<Double>], batch: b) }
    let r = m.quotientAndGradient(f, theta, b)
    expectClose(r.gq, gq(theta), rtol: 1e-12)
    for seed in [1, 2, 3] as [UInt64] { expectDirectionalDerivative(gq, gradient: r.gradient, at: theta, seed: seed, step: 1e-7, rtol: 1e-4) }
  }

  @Test func theThirdOrderTermIsNeeded() {
    // Without D³L[g, u, ·] the gradient is wrong by far more than the difference error: the
    // term is not negligible on a tanh network.
    let m = MetaInit(relativeEpsilon: nil), f = products, b = batch(0), theta = FlatVector.flatten(params())
    let full = m.quotientAndGradient(f, theta, b).gradient
    let truncated = m.quotientAndGradient(f, theta, b, thirdOrder: false).gradient
    let diff = zip(full, truncated).map { $0 - $1 }
    #expect(FlatProducts<Double>.norm(diff) > 0.05 * FlatProducts<Double>.norm(full))
  }

  /// A 6-layer tanh MLP 8-32-…-32-4 at init scale α and random batches of 32 (MetaInit's data).
  static func deep(scale: Double) -> (Network, [Tensor<Double>], (Int) -> Batch<Double>) {
    let net = Network(build: { MLP(widths: [8] + Array(repeating: 32, count: 6) + [4], activation: .tanh, registry: &$0) })
    let sample = { (k: Int) -> Batch<Double> in
      var rng = SplitMix64(seed: UInt64(100 + k))
      return Batch(inputs: randomTensor([32, 8], seed: UInt64(200 + k)), labels: (0..<32).map { _ in Int(rng.nextUniform() * 4) % 4 })
    }
    return (net, net.initialParameters(seed: 21, scale: scale), sample)
  }

  @Test func metaInitLowersTheGradientQuotientOfABadlyScaledNetwork() {
    // Weights 2× too large: 60 sign steps lower GQ on 16 held-out random batches (measured
    // 12.0 → 0.47) by scaling the deeper layers down; only weight matrices are rescaled.
    let (net, p, sample) = Self.deep(scale: 2)
    let m = MetaInit(steps: 60)
    let held = (1000..<1016).map(sample)
    func meanGQ(_ x: [Tensor<Double>]) -> Double { held.map { m.gradientQuotient(network: net, parameters: x, batch: $0) }.reduce(0, +) / 16 }
    let (q, report) = m.run(network: net, parameters: p, batch: sample)
    #expect(meanGQ(q) < 0.5 * meanGQ(p), "GQ \(meanGQ(p)) → \(meanGQ(q))")
    #expect(report.gradientQuotients.count == 60 && report.losses.count == 60)
    for (k, t) in p.enumerated() where t.shape.count < 2 { #expect(report.scales[k] == 1) }
    // The network's overall gain fell (measured scales 1.11, 0.47, 0.29, 0.28, 0.35, 0.24, 0.21).
    #expect(report.scales.enumerated().filter { p[$0.offset].shape.count >= 2 }.map(\.element).reduce(1, *) < 0.1)
  }

  @Test func metaInitScalesATooSmallNetworkUp() {
    // Weights at half scale: the first layer is scaled up (measured 3.3×), GQ does not rise.
    let (net, p, sample) = Self.deep(scale: 0.5)
    let m = MetaInit(steps: 60)
    let held = (1000..<1016).map(sample)
    func meanGQ(_ x: [Tensor<Double>]) -> Double { held.map { m.gradientQuotient(network: net, parameters: x, batch: $0) }.reduce(0, +) / 16 }
    let (q, report) = m.run(network: net, parameters: p, batch: sample)
    #expect(report.scales[0] > 1.5)
    #expect(meanGQ(q) <= meanGQ(p))
  }

  @Test func gradInitGradientMatchesDifferencesOfTheOneStepLoss() {
    // J(θ) = L(S̃; θ − η g/‖g‖)/η: its gradient through g(θ) (one HVP) against a central
    // difference; the first-order variant (g held fixed) is measurably off.
    let gi = GradInit(innerLearningRate: 0.3), f = products, s = batch(0), sTilde = batch(1), theta = FlatVector.flatten(params())
    let j = { (x: [Double]) in gi.objectiveAndGradient(f, x, s, sTilde).j }
    let r = gi.objectiveAndGradient(f, theta, s, sTilde)
    for seed in [4, 5, 6] as [UInt64] { expectDirectionalDerivative(j, gradient: r.gradient, at: theta, seed: seed, rtol: 1e-6) }
    var first = gi
    first.secondOrder = false
    let approx = first.objectiveAndGradient(f, theta, s, sTilde).gradient
    let diff = zip(approx, r.gradient).map { $0 - $1 }
    #expect(FlatProducts<Double>.norm(diff) > 0.01 * FlatProducts<Double>.norm(r.gradient))
  }

  @Test func gradInitLowersTheOneStepLossOfABadlyScaledNetwork() {
    // Weights 3× too large, no binding constraint (γ huge): 60 iterations lower J on held batches.
    let p = params(scale: 3)
    let gi = GradInit(steps: 60, innerLearningRate: 0.3, gradientNormBound: 1e9, learningRate: 2e-2)
    let f = products
    let held = [(batch(60), batch(61)), (batch(62), batch(63))]
    func meanJ(_ x: [Tensor<Double>]) -> Double { held.map { gi.objectiveAndGradient(f, FlatVector.flatten(x), $0.0, $0.1).j }.reduce(0, +) / 2 }
    let (q, report) = gi.run(network: network, parameters: p, batch: batch)
    #expect(meanJ(q) < 0.9 * meanJ(p), "J \(meanJ(p)) → \(meanJ(q))")
    #expect(report.constraintSteps.allSatisfy { !$0 } && report.updatedLosses.allSatisfy { $0 != nil })
    // θ = α ⊙ θ₀ exactly, biases (zero at init) untouched.
    for (k, (a, b)) in zip(q, p).enumerated() {
      let alpha = report.scales[k]
      #expect(zip(a.scalars, b.scalars).allSatisfy { abs($0 - alpha * $1) <= 1e-12 * max(1, abs($1)) })
    }
  }

  @Test func gradInitConstraintStepsLowerTheGradientNormAndRespectTheFloor() {
    // γ far below ‖g‖: every step is a constraint step, and ‖g‖ falls; no α below its floor.
    let gi = GradInit(steps: 30, gradientNormBound: 1e-6, learningRate: 5e-2, minimumScale: 0.5)
    let (_, report) = gi.run(network: network, parameters: params(scale: 3), batch: { _ in batch(0) })
    #expect(report.constraintSteps.allSatisfy { $0 } && report.updatedLosses.allSatisfy { $0 == nil })
    #expect(report.gradientNorms.last! < 0.8 * report.gradientNorms.first!)
    let floors = network.parameterSpecs.map { $0.name.hasSuffix("bias") ? 0 : 0.5 }
    #expect(zip(report.scales, floors).allSatisfy { $0 >= $1 })
  }

  @Test func bothRunOnEveryFamilyWithoutNormalization() {
    // Two iterations each on every tiny zoo member without normalization, in Float32: finite
    // meta-losses and parameters of the same shapes.
    for (name, net) in zooMembers(.tiny) where name.hasSuffix(" none") {
      let p: [Tensor<Float>] = net.initialParameters(seed: 3)
      let sample = { (k: Int) in zooBatch(name, .tiny, batch: 2) }
      let (m, mr) = MetaInit(steps: 2).run(network: net, parameters: p, batch: sample)
      #expect(mr.gradientQuotients.allSatisfy(\.isFinite) && m.map(\.shape) == p.map(\.shape), "\(name) MetaInit")
      let (g, gr) = GradInit(steps: 2).run(network: net, parameters: p, batch: sample)
      #expect(gr.gradientNorms.allSatisfy(\.isFinite) && g.map(\.shape) == p.map(\.shape), "\(name) GradInit")
      #expect(g.allSatisfy { $0.scalars.allSatisfy(\.isFinite) }, "\(name) GradInit parameters")
    }
  }
}
