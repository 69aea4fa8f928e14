import Testing
@testable import ML

@Suite("Initializers")
struct InitializerTests {
  func stats(_ spec: ParameterSpec, scale: Double = 1) -> (mean: Double, std: Double, maxAbs: Double) {
    var rng = SplitMix64(seed: 42)
    let t: Tensor<Double> = spec.initialValue(scale: scale, rng: &rng)
    let xs = t.scalars
    let mean = xs.reduce(0, +) / Double(xs.count)
    let variance = xs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(xs.count)
    return (mean, variance.squareRoot(), xs.map(abs).max() ?? 0)
  }

  @Test func varianceMatchesFanIn() {
    // 250 000 draws: the sample std is within 1 % of the target with overwhelming probability.
    let lecun = stats(ParameterSpec(name: "w", shape: [400, 625], initializer: .lecunNormal))
    expectClose(lecun.std, (1.0 / 400).squareRoot(), rtol: 0.01, "LeCun std")
    expectClose(lecun.mean, 0, atol: 1e-3, "LeCun mean")
    let he = stats(ParameterSpec(name: "w", shape: [400, 625], initializer: .heNormal))
    expectClose(he.std, (2.0 / 400).squareRoot(), rtol: 0.01, "He std")
    let glorot = stats(ParameterSpec(name: "w", shape: [400, 625], initializer: .glorotUniform))
    let limit = (6.0 / 1025).squareRoot()
    expectClose(glorot.std, limit / 3.0.squareRoot(), rtol: 0.01, "Glorot std")
    #expect(glorot.maxAbs <= limit)
    // Convolution kernels [kh, kw, cin, cout]: fan-in kh·kw·cin.
    let conv = stats(ParameterSpec(name: "k", shape: [3, 3, 16, 2000], initializer: .lecunNormal))
    expectClose(conv.std, (1.0 / 144).squareRoot(), rtol: 0.01, "conv fan-in")
  }

  @Test func globalScaleMultipliesEveryVariable() {
    let base = stats(ParameterSpec(name: "w", shape: [100, 100], initializer: .lecunNormal))
    let scaled = stats(ParameterSpec(name: "w", shape: [100, 100], initializer: .lecunNormal), scale: 1.5)
    expectClose(scaled.std, 1.5 * base.std, rtol: 1e-12)
    let ones = stats(ParameterSpec(name: "g", shape: [10], initializer: .ones), scale: 1.5)
    #expect(ones.mean == 1.5 && ones.std == 0)
    let zeros = stats(ParameterSpec(name: "b", shape: [10], initializer: .zeros), scale: 1.5)
    #expect(zeros.maxAbs == 0)
  }

  @Test func networkInitIsSeeded() {
    let net = Network(build: { MLP(widths: [5, 4, 3], activation: .relu, registry: &$0) })
    let a: [Tensor<Float>] = net.initialParameters(seed: 1), b: [Tensor<Float>] = net.initialParameters(seed: 1)
    let c: [Tensor<Float>] = net.initialParameters(seed: 2)
    #expect(zip(a, b).allSatisfy { $0.scalars == $1.scalars })
    #expect(a[0].scalars != c[0].scalars)
    #expect(net.parameterSpecs.map(\.name) == ["layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias"])
  }
}
