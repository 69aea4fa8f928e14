import Foundation
import Testing
@testable import ML

/// A curved scalar of any tensor, so second derivatives of linear ops are exercised too.
func scalarized(_ y: Variable<Double>, seed: UInt64 = 99) -> Variable<Double> {
  let w: Tensor<Double> = randomTensor(y.shape, seed: seed)
  return (y * Variable(constant: w)).tanh().sum() + y.square().sum().affine(scale: 0.1)
}

/// A layer as a function of [input, parameters...] with random parameters (so γ, β and biases
/// are not at their special initial values).
struct LayerHarness {
  let network: Network
  let parameters: [Tensor<Double>]
  let buffers: [Tensor<Double>]

  init(seed: UInt64 = 1, std: Double = 0.5, _ build: (inout ParameterRegistry) -> any Layer) {
    network = Network(build: build)
    parameters = network.parameterSpecs.enumerated().map { i, spec in
      randomTensor(spec.shape, seed: seed &+ UInt64(i) &* 31, std: std)
    }
    buffers = network.initialBuffers()
  }

  /// scalarized(layer(vars[0])) with vars[1...] the parameters.
  func function(mode: ForwardMode = .curvature) -> ([Variable<Double>]) -> Variable<Double> {
    { vars in
      let ctx = ForwardContext(parameters: Array(vars.dropFirst()), buffers: buffers, mode: mode)
      return scalarized(network.model(vars[0], ctx))
    }
  }

  func output(_ x: Tensor<Double>, mode: ForwardMode = .curvature) -> Tensor<Double> {
    let ctx = ForwardContext(parameters: parameters.map { Variable(constant: $0) }, buffers: buffers, mode: mode)
    return network.model(Variable(constant: x), ctx).primal
  }
}

/// Naive NHWC convolution by its definition: the independent oracle for im2col + GEMM.
func referenceConv(_ x: Tensor<Double>, _ w: Tensor<Double>, stride: (Int, Int), pad: (Int, Int), out: (Int, Int)) -> Tensor<Double> {
  let (n, h, wd, c) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
  let (kh, kw, co) = (w.shape[0], w.shape[1], w.shape[3])
  var y = Tensor<Double>(zeros: [n, out.0, out.1, co])
  for b in 0..<n { for oy in 0..<out.0 { for ox in 0..<out.1 { for o in 0..<co {
    var s = 0.0
    for i in 0..<kh { for j in 0..<kw {
      let iy = oy * stride.0 - pad.0 + i, ix = ox * stride.1 - pad.1 + j
      if iy < 0 || iy >= h || ix < 0 || ix >= wd { continue }
      for ci in 0..<c { s += x[b, iy, ix, ci] * w[i, j, ci, o] }
    } }
    y[b, oy, ox, o] = s
  } } } }
  return y
}

@Suite("Layer derivatives")
struct LayerGradientTests {
  @Test func samePaddingMatchesTensorFlow() {
    #expect(WindowGeometry.samePadding(input: 28, kernel: 3, stride: 1) == (28, 1, 1))
    #expect(WindowGeometry.samePadding(input: 28, kernel: 3, stride: 2) == (14, 0, 1))
    #expect(WindowGeometry.samePadding(input: 5, kernel: 3, stride: 2) == (3, 1, 1))
    #expect(WindowGeometry.samePadding(input: 7, kernel: 3, stride: 2) == (4, 1, 1))
    #expect(WindowGeometry.samePadding(input: 4, kernel: 1, stride: 2) == (2, 0, 0))
  }

  @Test(arguments: [(5, 1, Padding.same), (5, 2, .same), (6, 2, .same), (5, 1, .valid), (6, 2, .valid)])
  func conv2dValueGradientAndHVP(size: Int, stride: Int, padding: Padding) {
    let x: Tensor<Double> = randomTensor([2, size, size, 2], seed: 11)
    let w: Tensor<Double> = randomTensor([3, 3, 2, 3], seed: 12, std: 0.4)
    let g = WindowGeometry(input: x.shape, kernel: (3, 3), stride: (stride, stride), padding: padding)
    let y = conv2d(Variable(constant: x), Variable(constant: w), stride: (stride, stride), padding: padding).primal
    expectClose(y, referenceConv(x, w, stride: (stride, stride), pad: (g.padTop, g.padLeft), out: (g.outHeight, g.outWidth)),
                rtol: 1e-12, atol: 1e-12, "conv value")
    let f = { (v: [Variable<Double>]) in scalarized(conv2d(v[0], v[1], stride: (stride, stride), padding: padding)) }
    checkGradient("conv2d s\(stride) \(padding)", at: [x, w], f)
    checkHVP("conv2d s\(stride) \(padding)", at: [x, w], f)
  }

  @Test func conv2dPointwiseAndRectangular() {
    let x: Tensor<Double> = randomTensor([2, 4, 3, 3], seed: 13)
    let w1: Tensor<Double> = randomTensor([1, 1, 3, 2], seed: 14)
    let w2: Tensor<Double> = randomTensor([2, 3, 3, 2], seed: 15, std: 0.4)
    checkGradient("conv 1×1", at: [x, w1]) { scalarized(conv2d($0[0], $0[1])) }
    checkHVP("conv 1×1", at: [x, w1]) { scalarized(conv2d($0[0], $0[1])) }
    checkGradient("conv 2×3", at: [x, w2]) { scalarized(conv2d($0[0], $0[1], stride: (1, 2))) }
    checkHVP("conv 2×3", at: [x, w2]) { scalarized(conv2d($0[0], $0[1], stride: (1, 2))) }
  }

  /// A batch large enough for im2col/col2im to split across threads: values against the
  /// definition, and col2im as the exact adjoint, ⟨im2col(x), c⟩ = ⟨x, col2im(c)⟩.
  @Test func convLargeBatchParallelPath() {
    let x: Tensor<Double> = randomTensor([4, 32, 32, 8], seed: 16)
    let w: Tensor<Double> = randomTensor([3, 3, 8, 4], seed: 17)
    let g = WindowGeometry(input: x.shape, kernel: (3, 3), stride: (2, 2), padding: .same)
    let y = conv2d(Variable(constant: x), Variable(constant: w), stride: (2, 2)).primal
    expectClose(y, referenceConv(x, w, stride: (2, 2), pad: (g.padTop, g.padLeft), out: (g.outHeight, g.outWidth)),
                rtol: 1e-12, atol: 1e-12, "conv value")
    let g1 = WindowGeometry(input: x.shape, kernel: (3, 3), stride: (1, 1), padding: .same)
    #expect(g1.patchCount * g1.patchSize >= 1 << 18, "exercises the two-thread path")
    let cols = x.im2col(g1)
    let c: Tensor<Double> = randomTensor(cols.shape, seed: 18)
    expectClose(cols.dot(c), x.dot(c.col2im(g1)), rtol: 1e-12, "adjoint")
  }

  /// col2im (a gather over the windows that copied each pixel) is the exact adjoint of im2col
  /// for every channel remainder of its SIMD blocks (16, 8, 4, scalars), strides and paddings.
  @Test(arguments: [1, 5, 13, 29])
  func col2imIsTheAdjointOfIm2col(channels: Int) {
    let x: Tensor<Double> = randomTensor([2, 7, 6, channels], seed: 19)
    for (kernel, stride, padding) in [((3, 3), (1, 1), Padding.same), ((3, 3), (2, 2), .same), ((2, 3), (1, 2), .valid),
                                      ((3, 3), (2, 2), .valid), ((1, 1), (2, 2), .same)] {
      let g = WindowGeometry(input: x.shape, kernel: kernel, stride: stride, padding: padding)
      let cols = x.im2col(g)
      let c: Tensor<Double> = randomTensor(cols.shape, seed: 20)
      expectClose(cols.dot(c), x.dot(c.col2im(g)), rtol: 1e-12, "adjoint \(kernel) \(stride) \(padding)")
    }
  }

  @Test func conv2DLayerParameters() {
    var registry = ParameterRegistry()
    _ = Conv2D(3, 8, kernel: (3, 5), name: "c", registry: &registry)
    #expect(registry.specs.map(\.name) == ["c.weight", "c.bias"])
    #expect(registry.specs[0].shape == [3, 5, 3, 8] && registry.specs[0].fanIn == 45)
    #expect(registry.specs[1].shape == [8] && registry.specs[1].initializer == .zeros)
  }

  @Test func maxPool() {
    let x: Tensor<Double> = randomTensor([2, 4, 5, 2], seed: 21)
    let y = x.reshaped([2, 4, 5, 2])
    let pooled = Variable(constant: y).maxPool2D(kernel: (2, 2)).primal
    #expect(pooled.shape == [2, 2, 2, 2])
    expectClose(Tensor(shape: [], scalars: [pooled[1, 1, 0, 1]]),
                Tensor(shape: [], scalars: [max(x[1, 2, 0, 1], x[1, 2, 1, 1], x[1, 3, 0, 1], x[1, 3, 1, 1])]))
    checkGradient("maxpool 2×2", at: [x]) { scalarized($0[0].maxPool2D(kernel: (2, 2))) }
    checkHVP("maxpool 2×2", at: [x]) { scalarized($0[0].maxPool2D(kernel: (2, 2))) }
    let f = { (v: [Variable<Double>]) in scalarized(v[0].maxPool2D(kernel: (3, 3), stride: (2, 2), padding: .same)) }
    checkGradient("maxpool 3×3 s2 same", at: [x], f)
    checkHVP("maxpool 3×3 s2 same", at: [x], f)
  }

  @Test func avgPool() {
    let x: Tensor<Double> = randomTensor([2, 5, 4, 2], seed: 22)
    let pooled = Variable(constant: x).avgPool2D(kernel: (3, 3), stride: (2, 2), padding: .same).primal
    // SAME: 5 rows pad (1, 1), 4 columns pad (0, 1); the window of output (0, 0) covers rows
    // 0–1 and columns 0–2: 6 cells, padding excluded from the count.
    var expected = 0.0
    for i in 0..<2 { for j in 0..<3 { expected += x[0, i, j, 1] } }
    expected /= 6
    expectClose(pooled[0, 0, 0, 1], expected, rtol: 1e-12)
    checkGradient("avgpool 2×2", at: [x]) { scalarized($0[0].avgPool2D(kernel: (2, 2))) }
    checkHVP("avgpool 2×2", at: [x]) { scalarized($0[0].avgPool2D(kernel: (2, 2))) }
    let f = { (v: [Variable<Double>]) in scalarized(v[0].avgPool2D(kernel: (3, 3), stride: (2, 2), padding: .same)) }
    checkGradient("avgpool 3×3 s2 same", at: [x], f)
    checkHVP("avgpool 3×3 s2 same", at: [x], f)
  }

  @Test func globalAvgPool() {
    let x: Tensor<Double> = randomTensor([2, 3, 4, 3], seed: 23)
    let y = Variable(constant: x).globalAvgPool2D().primal
    #expect(y.shape == [2, 3])
    var s = 0.0
    for i in 0..<3 { for j in 0..<4 { s += x[1, i, j, 2] } }
    expectClose(y[1, 2], s / 12, rtol: 1e-12)
    checkGradient("global avg pool", at: [x]) { scalarized($0[0].globalAvgPool2D()) }
    checkHVP("global avg pool", at: [x]) { scalarized($0[0].globalAvgPool2D()) }
  }

  @Test(arguments: [ForwardMode.training, .curvature, .evaluation])
  func batchNorm(mode: ForwardMode) {
    let h = LayerHarness { BatchNorm(3, name: "bn", registry: &$0) }
    #expect(h.network.parameterSpecs.map(\.name) == ["bn.scale", "bn.bias"])
    #expect(h.network.bufferSpecs.map(\.name) == ["bn.running_mean", "bn.running_var"])
    let x: Tensor<Double> = randomTensor([4, 2, 2, 3], seed: 31, shift: 0.5)
    checkGradient("batchnorm \(mode)", at: [x] + h.parameters, h.function(mode: mode))
    checkHVP("batchnorm \(mode)", at: [x] + h.parameters, h.function(mode: mode))
  }

  /// The fused primitive against the same maths composed from basic ops: values, batch
  /// statistics, gradients and HVPs, with every input tracked, with a constant input (no x̄,
  /// no ẋ: only γ, β carry tangents), on a rank-2 input, and with whole SIMD blocks and a
  /// scalar tail (C = 12: channel period 48).
  @Test(arguments: [[4, 3, 2, 3], [6, 5], [2, 5, 5, 12]])
  func batchNormFusedMatchesComposed(shape: [Int]) {
    let c = shape.last!
    let x: Tensor<Double> = randomTensor(shape, seed: 33, std: 1.5, shift: 0.7)
    let gamma: Tensor<Double> = randomTensor([c], seed: 34, shift: 1), beta: Tensor<Double> = randomTensor([c], seed: 35)
    func fused(_ v: [Variable<Double>]) -> Variable<Double> {
      scalarized(v[0].batchNormalized(scale: v[1], bias: v[2], epsilon: 1e-5).output)
    }
    func composed(_ v: [Variable<Double>]) -> Variable<Double> {
      scalarized(BatchNorm.composed(v[0], scale: v[1], bias: v[2], epsilon: 1e-5).output)
    }
    let a = Variable(constant: x).batchNormalized(scale: Variable(constant: gamma), bias: Variable(constant: beta), epsilon: 1e-5)
    let b = BatchNorm.composed(Variable(constant: x), scale: Variable(constant: gamma), bias: Variable(constant: beta), epsilon: 1e-5)
    expectClose(a.output.primal, b.output.primal, rtol: 1e-12, atol: 1e-13, "fused output")
    expectClose(a.mean, b.mean, rtol: 1e-12, atol: 1e-14, "fused batch mean")
    expectClose(a.variance, b.variance, rtol: 1e-12, atol: 1e-14, "fused batch variance")
    let point = [x, gamma, beta]
    let direction: [Tensor<Double>] = point.enumerated().map { randomTensor($1.shape, seed: 310 + UInt64($0)) }
    let f = hessianVectorProduct(at: point, direction: direction, of: fused)
    let r = hessianVectorProduct(at: point, direction: direction, of: composed)
    expectClose(f.value, r.value, rtol: 1e-12, "fused value")
    for k in point.indices {
      expectClose(f.gradient[k], r.gradient[k], rtol: 1e-10, atol: 1e-12, "fused gradient \(k)")
      expectClose(f.hvp[k], r.hvp[k], rtol: 1e-10, atol: 1e-12, "fused HVP \(k)")
    }
    checkGradient("fused batchnorm \(shape)", at: point, fused)
    checkHVP("fused batchnorm \(shape)", at: point, fused)
    // x constant: only γ and β are differentiated, so ẋ is nil and x̄ is not computed.
    let constantInput = { (v: [Variable<Double>]) -> Variable<Double> in
      fused([Variable(constant: x)] + v)
    }
    let constantReference = { (v: [Variable<Double>]) -> Variable<Double> in
      composed([Variable(constant: x)] + v)
    }
    let f2 = hessianVectorProduct(at: [gamma, beta], direction: Array(direction.dropFirst()), of: constantInput)
    let r2 = hessianVectorProduct(at: [gamma, beta], direction: Array(direction.dropFirst()), of: constantReference)
    for k in 0..<2 {
      expectClose(f2.gradient[k], r2.gradient[k], rtol: 1e-10, atol: 1e-12, "constant-input gradient \(k)")
      expectClose(f2.hvp[k], r2.hvp[k], rtol: 1e-10, atol: 1e-12, "constant-input HVP \(k)")
    }
    checkHVP("fused batchnorm, constant input", at: [gamma, beta], constantInput)
    // Only x carries a tangent (γ̇ = β̇ = 0), as for a BN whose parameters are frozen.
    let xOnly = [direction[0], Tensor(zeros: [c]), Tensor(zeros: [c])]
    let f3 = hessianVectorProduct(at: point, direction: xOnly, of: fused)
    let r3 = hessianVectorProduct(at: point, direction: xOnly, of: composed)
    for k in point.indices {
      expectClose(f3.hvp[k], r3.hvp[k], rtol: 1e-10, atol: 1e-12, "x-only HVP \(k)")
    }
  }

  /// Float: the fused kernels (the specializations the models run) agree with the composed
  /// ops to Float rounding.
  @Test func batchNormFusedFloat() {
    let x: Tensor<Float> = randomTensor([8, 7, 7, 5], seed: 36, std: 2, shift: 3)
    let gamma: Tensor<Float> = randomTensor([5], seed: 37, shift: 1), beta: Tensor<Float> = randomTensor([5], seed: 38)
    let loss = { (y: Variable<Float>) -> Variable<Float> in
      (y * Variable(constant: randomTensor(y.shape, seed: 39))).tanh().sum()
    }
    let point = [x, gamma, beta]
    let direction: [Tensor<Float>] = point.enumerated().map { randomTensor($1.shape, seed: 320 + UInt64($0)) }
    let f = hessianVectorProduct(at: point, direction: direction) { v in
      loss(v[0].batchNormalized(scale: v[1], bias: v[2], epsilon: 1e-5).output)
    }
    let r = hessianVectorProduct(at: point, direction: direction) { v in
      loss(BatchNorm.composed(v[0], scale: v[1], bias: v[2], epsilon: 1e-5).output)
    }
    expectClose(Double(f.value), Double(r.value), rtol: 1e-5, "Float value")
    for k in point.indices {
      let scale = Double(r.gradient[k].scalars.map { abs($0) }.max() ?? 1)
      let hscale = Double(r.hvp[k].scalars.map { abs($0) }.max() ?? 1)
      expectClose(f.gradient[k], r.gradient[k], rtol: 1e-4, atol: 1e-4 * scale, "Float gradient \(k)")
      expectClose(f.hvp[k], r.hvp[k], rtol: 1e-4, atol: 1e-4 * hscale, "Float HVP \(k)")
    }
  }

  @Test func batchNormStatistics() {
    let h = LayerHarness { BatchNorm(2, name: "bn", registry: &$0) }
    let x: Tensor<Double> = randomTensor([6, 2], seed: 32, std: 2, shift: 1)
    let mean = x.sum(toShape: [2]) * (1.0 / 6)
    let variance = ((x - mean) * (x - mean)).sum(toShape: [2]) * (1.0 / 6)
    // Training: normalized output per channel, running stats updated by EMA with m = 0.9.
    let ctx = ForwardContext(parameters: [Variable(constant: Tensor<Double>(repeating: 1, shape: [2])),
                                          Variable(constant: Tensor<Double>(zeros: [2]))],
                             buffers: h.buffers, mode: .training)
    let y = h.network.model(Variable(constant: x), ctx).primal
    expectClose(y.sum(toShape: [2]), Tensor(zeros: [2]), atol: 1e-12, "normalized mean")
    expectClose(ctx.buffers[0], mean * 0.1, rtol: 1e-12, "running mean")
    expectClose(ctx.buffers[1], variance * 0.1 + Tensor(repeating: 0.9, shape: [2]), rtol: 1e-12, "running var")
    // Curvature: batch statistics, buffers untouched.
    let curv = ForwardContext(parameters: ctx.parameters, buffers: h.buffers, mode: .curvature)
    expectClose(h.network.model(Variable(constant: x), curv).primal, y, rtol: 1e-12, "curvature output")
    expectClose(curv.buffers[0], h.buffers[0], "curvature leaves running mean")
    // Evaluation: running statistics.
    let eval = ForwardContext(parameters: ctx.parameters, buffers: ctx.buffers, mode: .evaluation)
    let ye = h.network.model(Variable(constant: x), eval).primal
    let expected = (x - ctx.buffers[0]) / (ctx.buffers[1] + Tensor(repeating: 1e-5, shape: [2])).applying(.sqrt)
    expectClose(ye, expected, rtol: 1e-12, "evaluation output")
  }

  @Test func layerNorm() {
    let h = LayerHarness { LayerNorm(4, name: "ln", registry: &$0) }
    let x: Tensor<Double> = randomTensor([2, 3, 4], seed: 41, shift: 0.3)
    checkGradient("layernorm", at: [x] + h.parameters, h.function())
    checkHVP("layernorm", at: [x] + h.parameters, h.function())
    // With γ = 1, β = 0 every row has mean 0 and variance σ²/(σ² + ε) ≈ 1.
    let ctx = ForwardContext(parameters: [Variable(constant: Tensor<Double>(repeating: 1, shape: [4])),
                                          Variable(constant: Tensor<Double>(zeros: [4]))],
                             buffers: [], mode: .evaluation)
    let y = h.network.model(Variable(constant: x), ctx).primal
    expectClose(y.sum(alongAxis: 2), Tensor(zeros: [2, 3, 1]), atol: 1e-12, "row means")
    // The fused primitive against the same maths composed from basic ops.
    let composed = { (v: [Variable<Double>]) -> Variable<Double> in
      let centered = v[0] - v[0].mean(alongAxis: 2)
      let inv = centered.square().mean(alongAxis: 2).affine(scale: 1, shift: 1e-5).rsqrt()
      return scalarized(centered * inv * v[1] + v[2])
    }
    let point = [x] + h.parameters
    let direction: [Tensor<Double>] = point.enumerated().map { randomTensor($1.shape, seed: 300 + UInt64($0)) }
    let fused = hessianVectorProduct(at: point, direction: direction, of: h.function())
    let reference = hessianVectorProduct(at: point, direction: direction, of: composed)
    expectClose(fused.value, reference.value, rtol: 1e-12, "fused value")
    for k in point.indices {
      expectClose(fused.gradient[k], reference.gradient[k], rtol: 1e-10, atol: 1e-12, "fused gradient \(k)")
      expectClose(fused.hvp[k], reference.hvp[k], rtol: 1e-10, atol: 1e-12, "fused HVP \(k)")
    }
  }

  @Test func embedding() {
    let ids = Tensor<Double>(shape: [2, 3], scalars: [0, 4, 2, 4, 4, 1])
    let table: Tensor<Double> = randomTensor([5, 3], seed: 51)
    let layer = { (t: Variable<Double>) -> Variable<Double> in
      let ctx = ForwardContext(parameters: [t], buffers: [], mode: .curvature)
      var r = ParameterRegistry()
      return Embedding(vocabulary: 5, dimension: 3, name: "e", registry: &r)(Variable(constant: ids), ctx)
    }
    let y = layer(Variable(constant: table)).primal
    #expect(y.shape == [2, 3, 3])
    expectClose(Tensor(shape: [3], scalars: (0..<3).map { y[1, 0, $0] }),
                Tensor(shape: [3], scalars: (0..<3).map { table[4, $0] }), "row lookup")
    // Id 4 appears three times: its gradient row accumulates three cotangents.
    checkGradient("embedding", at: [table]) { scalarized(layer($0[0])) }
    checkHVP("embedding", at: [table]) { scalarized(layer($0[0])) }
  }

  @Test func dropout() {
    let x = Tensor<Double>(repeating: 1, shape: [20000])
    func run(_ rate: Double, seed: UInt64, mode: ForwardMode = .training) -> Tensor<Double> {
      let ctx = ForwardContext<Double>(parameters: [], buffers: [], mode: mode, rng: SplitMix64(seed: seed))
      return Dropout(rate: rate)(Variable(constant: x), ctx).primal
    }
    expectClose(run(0.3, seed: 5), run(0.3, seed: 5), rtol: 0, atol: 0, "same seed, same mask")
    #expect(run(0.3, seed: 5).scalars != run(0.3, seed: 6).scalars)
    expectClose(run(0, seed: 5), x, rtol: 0, atol: 0, "rate 0 is the identity")
    expectClose(run(0.3, seed: 5, mode: .curvature), x, rtol: 0, atol: 0, "off in curvature mode")
    expectClose(run(0.3, seed: 5, mode: .evaluation), x, rtol: 0, atol: 0, "off in evaluation mode")
    let y = run(0.3, seed: 5)
    expectClose(y.sum().scalar / 20000, 1, rtol: 0.03, "expectation preserved")
    let dropped = Double(y.scalars.filter { $0 == 0 }.count) / 20000
    expectClose(dropped, 0.3, rtol: 0.05, "drop fraction")
    // Derivatives through a fixed mask are exact.
    let f = { (v: [Variable<Double>]) -> Variable<Double> in
      let ctx = ForwardContext<Double>(parameters: [], buffers: [], mode: .training, rng: SplitMix64(seed: 3))
      return scalarized(Dropout(rate: 0.5)(v[0], ctx))
    }
    let small: Tensor<Double> = randomTensor([3, 4], seed: 52)
    checkGradient("dropout", at: [small], f)
    checkHVP("dropout", at: [small], f)
  }

  @Test func residualAddsTheBranch() {
    let x: Tensor<Double> = randomTensor([2, 3], seed: 53)
    checkGradient("residual", at: [x]) { scalarized(residual($0[0]) { $0.tanh() }) }
    checkHVP("residual", at: [x]) { scalarized(residual($0[0]) { $0.tanh() }) }
  }

  @Test func causalSoftmax() {
    let x: Tensor<Double> = randomTensor([2, 3, 4, 4], seed: 62)
    let mask = Tensor<Double>(shape: [4, 4]) { m in
      for i in 0..<4 { for j in 0..<4 { m[i * 4 + j] = j > i ? -1e9 : 0 } }
    }
    let fused = Variable(constant: x).softmax(causal: true).primal
    expectClose(fused, Variable(constant: x + mask).softmax().primal, rtol: 1e-12, atol: 1e-15, "causal = masked softmax")
    #expect(fused[1, 2, 0, 3] == 0)
    checkGradient("causal softmax", at: [x]) { scalarized($0[0].softmax(causal: true)) }
    checkHVP("causal softmax", at: [x]) { scalarized($0[0].softmax(causal: true)) }
  }

  @Test func causalSelfAttention() {
    let h = LayerHarness { CausalSelfAttention(width: 4, heads: 2, name: "attn", registry: &$0) }
    #expect(h.network.parameterSpecs.map(\.name) == ["attn.query.weight", "attn.query.bias", "attn.key.weight",
      "attn.key.bias", "attn.value.weight", "attn.value.bias", "attn.output.weight", "attn.output.bias"])
    let x: Tensor<Double> = randomTensor([2, 3, 4], seed: 61)
    checkGradient("attention", at: [x] + h.parameters, h.function())
    checkHVP("attention", at: [x] + h.parameters, h.function())
    // Causality: changing the last token changes no earlier output.
    var x2 = x
    for j in 0..<4 { x2[1, 2, j] += 1 }
    let y1 = h.output(x), y2 = h.output(x2)
    for t in 0..<2 { for j in 0..<4 {
      #expect(y1[1, t, j] == y2[1, t, j], "position \(t) saw the future")
      #expect(y1[0, t, j] == y2[0, t, j])
    } }
    #expect(y1[1, 2, 0] != y2[1, 2, 0])
  }
}

@Suite("Model derivatives")
struct ModelGradientTests {
  func check(_ what: String, _ network: Network, _ batch: Batch<Double>, seed: UInt64 = 1, std: Double = 0.5) {
    let params: [Tensor<Double>] = network.parameterSpecs.enumerated().map { i, spec in
      randomTensor(spec.shape, seed: seed &+ UInt64(i) &* 31, std: std)
    }
    let buffers: [Tensor<Double>] = network.initialBuffers()
    let f = { (vars: [Variable<Double>]) -> Variable<Double> in
      network.objective(vars, batch: batch, context: ForwardContext(parameters: vars, buffers: buffers, mode: .curvature))
    }
    checkGradient(what, at: params, f)
    // Post-LN with random γ is strongly curved: a smaller difference step keeps the O(h²) error down.
    checkHVP(what, at: params, h: 3e-7, f)
    // The Network entry points agree with the bare transforms.
    let (_, _, hv) = network.hessianVectorProduct(parameters: params, buffers: buffers, batch: batch, direction: params)
    let (_, _, hv2) = hessianVectorProduct(at: params, direction: params, of: f)
    for (a, b) in zip(hv, hv2) { expectClose(a, b, rtol: 1e-12, atol: 1e-14, "\(what) network HVP") }
  }

  @Test func smallCNN() {
    let network = Network { SmallCNN(classes: 3, channels: (2, 3, 4), registry: &$0) }
    #expect(network.parameterSpecs.map(\.name) == ["conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                                   "conv3.weight", "conv3.bias", "dense.weight", "dense.bias"])
    let x: Tensor<Double> = randomTensor([2, 6, 6, 1], seed: 71)
    check("SmallCNN", network, Batch(inputs: x, labels: [2, 0]))
    let full = Network { SmallCNN(registry: &$0) }
    let logits = full.evaluate(parameters: full.initialParameters(seed: 1), buffers: [],
                               batch: Batch(inputs: Tensor<Double>(zeros: [1, 28, 28, 1]), labels: [0])).logits
    #expect(logits.shape == [1, 10])
  }

  @Test(arguments: TransformerLM.LayerNormPlacement.allCases)
  func tinyTransformer(placement: TransformerLM.LayerNormPlacement) {
    let config = TransformerLM.Configuration(vocabulary: 5, context: 4, width: 4, layers: 2, heads: 2, mlpWidth: 6,
                                             layerNorm: placement)
    let network = Network { TransformerLM(config, registry: &$0) }
    let ids = Tensor<Double>(shape: [2, 3], scalars: [0, 3, 1, 4, 4, 2])
    check("transformer \(placement)", network, Batch(inputs: ids, labels: [3, 1, 2, 4, 2, 0]), std: 0.4)
    // Causality end to end: the last token does not change earlier logits.
    let params: [Tensor<Double>] = network.initialParameters(seed: 3, scale: 10)
    let ids2 = Tensor<Double>(shape: [2, 3], scalars: [0, 3, 2, 4, 4, 2])
    let a = network.evaluate(parameters: params, buffers: [], batch: Batch(inputs: ids, labels: [0, 0, 0, 0, 0, 0])).logits
    let b = network.evaluate(parameters: params, buffers: [], batch: Batch(inputs: ids2, labels: [0, 0, 0, 0, 0, 0])).logits
    for row in [0, 1, 3, 4, 5] { for v in 0..<5 { #expect(a[row, v] == b[row, v], "row \(row)") } }
    #expect((0..<5).contains { a[2, $0] != b[2, $0] })
  }

  @Test func transformerParameterNames() {
    let network = Network { TransformerLM(.w3, registry: &$0) }
    let names = network.parameterSpecs.map(\.name)
    #expect(names.first == "token_embedding.weight")
    #expect(names.contains("blocks.1.attention.value.bias") && names.contains("blocks.0.mlp.fc1.weight"))
    #expect(names.suffix(4) == ["final_norm.scale", "final_norm.bias", "head.weight", "head.bias"])
  }
}
