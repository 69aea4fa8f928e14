extension Variable {
  /// Max pooling over kh×kw windows of an NHWC tensor. The forward pass records the flat index
  /// of each window's maximum; with those indices fixed, y = x[idx] is linear in x, so the
  /// tangent is ẋ[idx], the pullback is a scatter-add of ȳ to idx, and the pullback's tangent
  /// is the same scatter of the cotangent's tangent (exact HVP away from ties).
  public func maxPool2D(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: Padding = .valid) -> Variable {
    let geometry = WindowGeometry(input: shape, kernel: kernel, stride: stride ?? kernel, padding: padding)
    let (y, index) = maxPoolKernel(primal, geometry)
    let inputShape = shape
    let value = Dual(y, tangent: self.value.tangent.map { gatherKernel($0, index, shape: y.shape) })
    return Variable.record(value, inputs: [self], cotangentUse: .linear) { g, _ in [g.scatterAdded(index, shape: inputShape)] }
  }

  /// Average pooling over kh×kw windows (padding excluded from the count). Linear.
  public func avgPool2D(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: Padding = .valid) -> Variable {
    let geometry = WindowGeometry(input: shape, kernel: kernel, stride: stride ?? kernel, padding: padding)
    return Variable.record(value.avgPooled(geometry), inputs: [self], cotangentUse: .linear) { g, _ in [g.avgPoolAdjoint(geometry)] }
  }

  /// Global average pooling [N,H,W,C] → [N,C]: y[n,c] = (1/HW) Σ_{h,w} x[n,h,w,c].
  public func globalAvgPool2D() -> Variable {
    precondition(rank == 4, "globalAvgPool2D expects NHWC input, got \(shape)")
    let (n, h, w, c) = (shape[0], shape[1], shape[2], shape[3])
    return sum(toShape: [n, 1, 1, c]).reshaped([n, c]).affine(scale: 1 / S(h * w))
  }
}

/// Max pooling layer (stride defaults to the window, VALID padding). No parameters.
public struct MaxPool2D: Layer {
  public let kernel: (Int, Int), stride: (Int, Int)?, padding: Padding
  public init(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: Padding = .valid) {
    (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
  }
  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    x.maxPool2D(kernel: kernel, stride: stride, padding: padding)
  }
}

/// Average pooling layer (stride defaults to the window, VALID padding). No parameters.
public struct AvgPool2D: Layer {
  public let kernel: (Int, Int), stride: (Int, Int)?, padding: Padding
  public init(kernel: (Int, Int), stride: (Int, Int)? = nil, padding: Padding = .valid) {
    (self.kernel, self.stride, self.padding) = (kernel, stride, padding)
  }
  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    x.avgPool2D(kernel: kernel, stride: stride, padding: padding)
  }
}

/// Global average pooling layer, [N,H,W,C] → [N,C]. No parameters.
public struct GlobalAvgPool2D: Layer {
  public init() {}
  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    x.globalAvgPool2D()
  }
}
