/// Pooling kernels over NHWC tensors. Max pooling returns the flat input index of each window's
/// maximum so its derivative is a gather/scatter with indices fixed at the forward pass.

/// y[n,oy,ox,c] = max over the window, and the flat index into x of the maximum (first one on
/// ties). Padding never wins (it is −∞).
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func maxPoolKernel<S: TensorScalar>(_ x: Tensor<S>, _ g: WindowGeometry) -> (Tensor<S>, [Int32]) {
  precondition(x.shape == g.inputShape, "maxPool: input \(x.shape) vs geometry \(g.inputShape)")
  precondition(g.padTop < g.kernelHeight && g.padBottom < g.kernelHeight
               && g.padLeft < g.kernelWidth && g.padRight < g.kernelWidth,
               "maxPool: padding must be smaller than the window so no window is empty")
  precondition(x.count < Int(Int32.max), "maxPool: tensor too large for 32-bit indices")
  let oh = g.outHeight, ow = g.outWidth, c = g.channels, h = g.height, w = g.width
  let outShape = [g.batch, oh, ow, c]
  var index = [Int32](repeating: 0, count: outShape.reduce(1, *))
  let y = Tensor<S>(shape: outShape) { out in
    x.withUnsafeBufferPointer { px in
      index.withUnsafeMutableBufferPointer { I in
        let X = px.baseAddress!, O = out.baseAddress!
        var o = 0
        for n in 0..<g.batch {
          for oy in 0..<oh {
            let y0 = Swift.max(oy * g.strideH - g.padTop, 0)
            let y1 = Swift.min(oy * g.strideH - g.padTop + g.kernelHeight, h)
            for ox in 0..<ow {
              let x0 = Swift.max(ox * g.strideW - g.padLeft, 0)
              let x1 = Swift.min(ox * g.strideW - g.padLeft + g.kernelWidth, w)
              let first = ((n * h + y0) * w + x0) * c
              for ch in 0..<c {
                O[o + ch] = X[first + ch]
                I[o + ch] = Int32(first + ch)
              }
              for iy in y0..<y1 {
                for ix in x0..<x1 {
                  let base = ((n * h + iy) * w + ix) * c
                  for ch in 0..<c where X[base + ch] > O[o + ch] {
                    O[o + ch] = X[base + ch]
                    I[o + ch] = Int32(base + ch)
                  }
                }
              }
              o += c
            }
          }
        }
      }
    }
  }
  return (y, index)
}

/// Average over each window, counting only positions inside the input (TensorFlow's SAME
/// average pooling): y = (1/|W∩X|) Σ_{W∩X} x. Linear. With `adjoint` the map runs backwards:
/// the input is y-shaped and each value is spread, divided by the same count, over its window.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func avgPoolKernel<S: TensorScalar>(_ x: Tensor<S>, _ g: WindowGeometry, adjoint: Bool) -> Tensor<S> {
  let oh = g.outHeight, ow = g.outWidth, c = g.channels, h = g.height, w = g.width
  let outShape = [g.batch, oh, ow, c]
  precondition(x.shape == (adjoint ? outShape : g.inputShape),
               "avgPool: input \(x.shape) vs geometry \(adjoint ? outShape : g.inputShape)")
  return Tensor(shape: adjoint ? g.inputShape : outShape) { out in
    out.initialize(repeating: 0)
    x.withUnsafeBufferPointer { px in
      let X = px.baseAddress!, O = out.baseAddress!
      var o = 0
      for n in 0..<g.batch {
        for oy in 0..<oh {
          let y0 = Swift.max(oy * g.strideH - g.padTop, 0)
          let y1 = Swift.min(oy * g.strideH - g.padTop + g.kernelHeight, h)
          for ox in 0..<ow {
            let x0 = Swift.max(ox * g.strideW - g.padLeft, 0)
            let x1 = Swift.min(ox * g.strideW - g.padLeft + g.kernelWidth, w)
            let scale = 1 / S(Swift.max((y1 - y0) * (x1 - x0), 1))
            for iy in y0..<y1 {
              for ix in x0..<x1 {
                let base = ((n * h + iy) * w + ix) * c
                if adjoint {
                  for ch in 0..<c { O[base + ch] += scale * X[o + ch] }
                } else {
                  for ch in 0..<c { O[o + ch] += scale * X[base + ch] }
                }
              }
            }
            o += c
          }
        }
      }
    }
  }
}

extension Dual {
  /// Average pooling (linear: the tangent is the same pooling of ẋ).
  @inlinable public func avgPooled(_ g: WindowGeometry) -> Dual {
    Dual(avgPoolKernel(primal, g, adjoint: false), tangent: tangent.map { avgPoolKernel($0, g, adjoint: false) })
  }

  /// The adjoint of average pooling (linear).
  @inlinable public func avgPoolAdjoint(_ g: WindowGeometry) -> Dual {
    Dual(avgPoolKernel(primal, g, adjoint: true), tangent: tangent.map { avgPoolKernel($0, g, adjoint: true) })
  }
}
