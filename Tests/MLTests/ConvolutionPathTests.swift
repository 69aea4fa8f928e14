import Testing
@testable import ML

/// The convolution's input cotangent goes through `col2imProduct`, chunked GEMM + col2im
/// (see `im2colProduct`), and with Cout a multiple of 8 its product and weight gradient go
/// through the direct kernels (see `directConvProduct`); these tests hold both to the plain
/// path, im2col + `Variable.matmul` with col2im of Ȳ·Wᵀ, for value, gradient and HVP (with and
/// without the primal gradient): 1e-5 relative in Float32, 1e-12 in Float64.
@Suite struct ConvolutionPathTests {
  struct Case: Sendable, CustomStringConvertible {
    var cin: Int, cout: Int, kernel: Int, stride: Int, padding: Padding, batch: Int
    var description: String { "Cin \(cin) Cout \(cout) k\(kernel) s\(stride) \(padding) batch \(batch)" }
  }

  static let cases: [Case] = {
    var all: [Case] = []
    // Cout 1, 4, 6 and 28 take the GEMM path, 8/16/24 the direct kernels (one 8-wide block, one
    // 16-wide, both); batches 1, 2 and 3 in turn.
    for cin in [1, 3, 8, 16] {
      for cout in [1, 4, 6, 8, 16, 24, 28] {
        for kernel in [1, 3] {
          for stride in [1, 2] {
            for padding in [Padding.same, .valid] {
              all.append(Case(cin: cin, cout: cout, kernel: kernel, stride: stride, padding: padding,
                              batch: 1 + all.count % 3))
            }
          }
        }
      }
    }
    return all
  }()

  /// The plain path: im2col as its own op, then a matrix product.
  static func plainConv<S>(_ x: Variable<S>, _ w: Variable<S>, _ c: Case) -> Variable<S> {
    let g = WindowGeometry(input: x.shape, kernel: (c.kernel, c.kernel), stride: (c.stride, c.stride),
                           padding: c.padding)
    let y = Variable.matmul(x.im2col(g), w.reshaped([g.patchSize, c.cout]))
    return y.reshaped([g.batch, g.outHeight, g.outWidth, c.cout])
  }

  static func compare<S: TensorScalar>(_ c: Case, _: S.Type, rtol: Double) {
    // Odd spatial sizes, 7×5, so SAME padding is uneven and stride 2 leaves a remainder.
    let x: Tensor<S> = randomTensor([c.batch, 7, 5, c.cin], seed: 31)
    let w: Tensor<S> = randomTensor([c.kernel, c.kernel, c.cin, c.cout], seed: 32, std: 0.4)
    let vx: Tensor<S> = randomTensor(x.shape, seed: 33), vw: Tensor<S> = randomTensor(w.shape, seed: 34)
    func loss(_ conv: @escaping (Variable<S>, Variable<S>) -> Variable<S>) -> ([Variable<S>]) -> Variable<S> {
      { v in
        let y = conv(v[0], v[1])
        let r: Tensor<S> = randomTensor(y.shape, seed: 35)
        return (y * Variable(constant: r)).tanh().sum() + y.square().sum()
      }
    }
    let fast = loss { conv2d($0, $1, stride: (c.stride, c.stride), padding: c.padding) }
    let plain = loss { plainConv($0, $1, c) }
    let (value, grad) = valueAndGradient(at: [x, w], of: fast)
    let (value0, grad0) = valueAndGradient(at: [x, w], of: plain)
    expectClose(Double(value), Double(value0), rtol: rtol, atol: 0, "\(c) value")
    let (_, _, hv) = hessianVectorProduct(at: [x, w], direction: [vx, vw], of: fast)
    let (_, _, hv0) = hessianVectorProduct(at: [x, w], direction: [vx, vw], of: plain)
    for k in 0..<2 {
      let scaleG = grad0[k].scalars.map { abs(Double($0)) }.max() ?? 1
      let scaleH = hv0[k].scalars.map { abs(Double($0)) }.max() ?? 1
      expectClose(grad[k], grad0[k], rtol: rtol, atol: rtol * scaleG, "\(c) gradient \(k)")
      expectClose(hv[k], hv0[k], rtol: rtol, atol: rtol * scaleH, "\(c) HVP \(k)")
    }
    // H·v alone: the weight gradient's primal is skipped.
    let (_, _, hvOnly) = hessianVectorProduct(at: [x, w], direction: [vx, vw], gradient: false, of: fast)
    for k in 0..<2 {
      let scaleH = hv0[k].scalars.map { abs(Double($0)) }.max() ?? 1
      expectClose(hvOnly[k], hv0[k], rtol: rtol, atol: rtol * scaleH, "\(c) HVP only \(k)")
    }
  }

  @Test(arguments: cases) func floatMatchesPlainPath(_ c: Case) { Self.compare(c, Float.self, rtol: 1e-5) }
  @Test(arguments: cases) func doubleMatchesPlainPath(_ c: Case) { Self.compare(c, Double.self, rtol: 1e-12) }

  /// col2imProduct(Ȳ, W) = col2im(Ȳ·Wᵀ), over several chunks of images and into a target.
  @Test(arguments: [(1, 1, 1), (3, 3, 1), (8, 3, 2), (3, 1, 2)])
  func col2imProductMatchesCol2im(channels: Int, kernel: Int, stride: Int) {
    for padding in [Padding.same, .valid] {
      for shape in [[2, 7, 5, channels], [40, 33, 31, channels]] {
        let g = WindowGeometry(input: shape, kernel: (kernel, kernel), stride: (stride, stride), padding: padding)
        let gy: Tensor<Double> = randomTensor([g.patchCount, 5], seed: 36)
        let w: Tensor<Double> = randomTensor([g.patchSize, 5], seed: 37)
        let expected = Tensor.matmul(gy, w, transposeB: true).col2im(g)
        expectClose(Tensor.col2imProduct(gy, w, g), expected, rtol: 1e-12, atol: 1e-12,
                    "\(shape) k\(kernel) s\(stride) \(padding)")
        var sum = expected
        Tensor.col2imProduct(gy, w, g, addingTo: &sum)
        expectClose(sum, expected * 2, rtol: 1e-12, atol: 1e-12, "accumulate")
        let gf: Tensor<Float> = randomTensor([g.patchCount, 5], seed: 36)
        let wf: Tensor<Float> = randomTensor([g.patchSize, 5], seed: 37)
        expectClose(Tensor.col2imProduct(gf, wf, g), Tensor.matmul(gf, wf, transposeB: true).col2im(g),
                    rtol: 1e-5, atol: 1e-5, "Float \(shape) k\(kernel) s\(stride) \(padding)")
      }
    }
  }
}
