import Testing
@testable import ML

/// The direct convolution kernels (`Tensor+DirectConvolution.swift`) against im2col + GEMM:
/// y = im2col(x)·W, W̄ = im2col(x)ᵀ·Ȳ and x̄ = col2im(Ȳ·Wᵀ), fresh and accumulated, over window shapes that
/// exercise padding on every side, strides, 6-pixel blocks with tails, 16- and 8-wide channel
/// blocks and K not a multiple of 4. 1e-10 in Float64 (only the order of the sums differs).
@Suite struct DirectConvolutionTests {
  struct Case: Sendable, CustomStringConvertible {
    var batch: Int, height: Int, width: Int, cin: Int, cout: Int
    var kernel: (Int, Int), stride: (Int, Int), padding: Padding
    var description: String {
      "[\(batch),\(height),\(width),\(cin)] → \(cout) k\(kernel) s\(stride) \(padding)"
    }
  }

  static let cases: [Case] = {
    var all: [Case] = []
    let windows: [((Int, Int), (Int, Int))] = [((3, 3), (1, 1)), ((3, 3), (2, 2)), ((1, 1), (2, 2)), ((2, 3), (1, 2))]
    let paddings: [Padding] = [.same, .valid, .explicit(top: 2, bottom: 0, left: 1, right: 3)]
    for (batch, height, width) in [(1, 7, 5), (3, 9, 8)] {
      for cin in [1, 3, 8, 16] {
        for cout in [8, 16, 24, 32] {
          for (kernel, stride) in windows {
            for padding in paddings {
              all.append(Case(batch: batch, height: height, width: width, cin: cin, cout: cout,
                              kernel: kernel, stride: stride, padding: padding))
            }
          }
        }
      }
    }
    return all
  }()

  static func check<S: TensorScalar>(_ c: Case, _: S.Type, tolerance: Double) {
    let g = WindowGeometry(input: [c.batch, c.height, c.width, c.cin], kernel: c.kernel, stride: c.stride,
                           padding: c.padding)
    let x: Tensor<S> = randomTensor(g.inputShape, seed: 41)
    let w: Tensor<S> = randomTensor([g.patchSize, c.cout], seed: 42)
    let gy: Tensor<S> = randomTensor([g.patchCount, c.cout], seed: 43)
    let cols = x.im2col(g)

    let y0 = Tensor.matmul(cols, w)
    expectClose(Tensor.directConv(x, w, g), y0, rtol: tolerance, atol: tolerance, "\(c) y")
    var y = y0
    Tensor.directConv(x, w, g, addingTo: &y)
    expectClose(y, y0 * 2, rtol: tolerance, atol: tolerance, "\(c) y accumulated")

    let gw0 = Tensor.matmul(cols, transposeA: true, gy)
    expectClose(Tensor.directConvWeightGradient(x, gy, g), gw0, rtol: tolerance, atol: tolerance, "\(c) W̄")
    var gw = gw0
    Tensor.directConvWeightGradient(x, gy, g, addingTo: &gw)
    expectClose(gw, gw0 * 2, rtol: tolerance, atol: tolerance, "\(c) W̄ accumulated")

    guard Tensor<S>.directConvInputSupports(g) else { return }
    let gx0 = Tensor.matmul(gy, w, transposeB: true).col2im(g)
    expectClose(Tensor.directConvInputGradient(gy, w, g), gx0, rtol: tolerance, atol: tolerance, "\(c) x̄")
    var gx = gx0
    Tensor.directConvInputGradient(gy, w, g, addingTo: &gx)
    expectClose(gx, gx0 * 2, rtol: tolerance, atol: tolerance, "\(c) x̄ accumulated")
  }

  @Test func doubleMatchesGEMM() {
    for c in Self.cases { Self.check(c, Double.self, tolerance: 1e-10) }
  }

  @Test func floatMatchesGEMM() {
    for c in Self.cases { Self.check(c, Float.self, tolerance: 1e-4) }
  }

  /// The input layer: x a constant, so only W carries a tangent and no x̄ is formed. Value,
  /// gradient and HVP of the direct path against im2col + `Variable.matmul`.
  @Test(arguments: [1, 3]) func constantInputMatchesPlainPath(batch: Int) {
    for (cin, stride, padding) in [(1, 1, Padding.same), (1, 2, .valid), (3, 2, .same), (16, 1, .valid)] {
      let x: Tensor<Double> = randomTensor([batch, 9, 7, cin], seed: 44)
      let w: Tensor<Double> = randomTensor([3, 3, cin, 16], seed: 45, std: 0.4)
      let v: Tensor<Double> = randomTensor(w.shape, seed: 46)
      let g = WindowGeometry(input: x.shape, kernel: (3, 3), stride: (stride, stride), padding: padding)
      let r: Tensor<Double> = randomTensor([batch, g.outHeight, g.outWidth, 16], seed: 47)
      func loss(_ y: Variable<Double>) -> Variable<Double> {
        (y * Variable(constant: r)).tanh().sum() + y.square().sum()
      }
      let direct = { (p: [Variable<Double>]) in
        loss(conv2d(Variable(constant: x), p[0], stride: (stride, stride), padding: padding))
      }
      let plain = { (p: [Variable<Double>]) in
        let y = Variable.matmul(Variable(constant: x).im2col(g), p[0].reshaped([g.patchSize, 16]))
        return loss(y.reshaped([batch, g.outHeight, g.outWidth, 16]))
      }
      let what = "Cin \(cin) s\(stride) \(padding) batch \(batch)"
      let (value, grad, hv) = hessianVectorProduct(at: [w], direction: [v], of: direct)
      let (value0, grad0, hv0) = hessianVectorProduct(at: [w], direction: [v], of: plain)
      expectClose(value, value0, rtol: 1e-12, atol: 0, "\(what) value")
      expectClose(grad[0], grad0[0], rtol: 1e-10, atol: 1e-10, "\(what) gradient")
      expectClose(hv[0], hv0[0], rtol: 1e-10, atol: 1e-10, "\(what) HVP")
      let (_, _, hvOnly) = hessianVectorProduct(at: [w], direction: [v], gradient: false, of: direct)
      expectClose(hvOnly[0], hv0[0], rtol: 1e-10, atol: 1e-10, "\(what) HVP only")
    }
  }
}
