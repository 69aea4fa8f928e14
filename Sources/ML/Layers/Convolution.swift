extension Variable {
  /// The windows of an NHWC tensor as matrix rows (see `Tensor.im2col`). Linear; its pullback is
  /// col2im, a `Dual` op, so the HVP is exact.
  public func im2col(_ geometry: WindowGeometry) -> Variable {
    Variable.record(value.im2col(geometry), inputs: [self], cotangentUse: .linear) { g, _ in [g.col2im(geometry)] }
  }
}

/// 2-D cross-correlation of x [N,H,W,Cin] with weight [kh,kw,Cin,Cout] (TensorFlow/JAX layout):
/// y[n,oy,ox,o] = Σ_{i,j,c} x[n, oy·sh − padTop + i, ox·sw − padLeft + j, c] · w[i,j,c,o].
///
/// Y = cols·W with cols = im2col(x) [N·OH·OW, kh·kw·Cin] and W reshaped to [kh·kw·Cin, Cout].
/// With Cout a multiple of 8 the direct kernels compute it without forming cols
/// (`directConvProduct`); otherwise im2col and one GEMM over the whole batch. The pullback
/// (x̄ = col2im(Ȳ·Wᵀ), W̄ = colsᵀ·Ȳ) is written in `Dual` ops, so its tangent comes for free;
/// when x is a constant (the input layer) no x̄ is formed at all.
public func conv2d<S>(
  _ x: Variable<S>, _ weight: Variable<S>, stride: (Int, Int) = (1, 1), padding: Padding = .same
) -> Variable<S> {
  precondition(x.rank == 4, "conv2d expects NHWC input, got \(x.shape)")
  precondition(weight.rank == 4, "conv2d expects a [kh, kw, Cin, Cout] kernel, got \(weight.shape)")
  precondition(weight.shape[2] == x.shape[3],
               "conv2d: kernel has \(weight.shape[2]) input channels, input has \(x.shape[3])")
  let kh = weight.shape[0], kw = weight.shape[1], cout = weight.shape[3]
  let geometry = WindowGeometry(input: x.shape, kernel: (kh, kw), stride: stride, padding: padding)
  let isPointwise = kh == 1 && kw == 1 && stride == (1, 1)
    && geometry.padTop + geometry.padBottom + geometry.padLeft + geometry.padRight == 0
  // A 1×1 stride-1 convolution needs no patches: x itself is the im2col matrix.
  let kernel = weight.reshaped([geometry.patchSize, cout])
  let y = isPointwise
    ? Variable.matmul(x.reshaped([-1, x.shape[3]]), kernel)
    : Tensor<S>.directConvSupports(outChannels: cout)
      ? directConvProduct(x, kernel, geometry)
      : im2colProduct(x, kernel, geometry)
  return y.reshaped([geometry.batch, geometry.outHeight, geometry.outWidth, cout])
}

/// im2col(x)·W for a [kh·kw·Cin, Cout] kernel W, as one op so that the input cotangent
/// x̄ = col2im(Ȳ·Wᵀ) never materializes the [N·OH·OW, kh·kw·Cin] product (see
/// `Tensor.col2imProduct`). W̄ = colsᵀ·Ȳ as in `Variable.matmul`.
func im2colProduct<S>(_ x: Variable<S>, _ kernel: Variable<S>, _ geometry: WindowGeometry) -> Variable<S> {
  let cols = x.value.im2col(geometry), w = kernel.value
  let y = Dual.matmul(cols, w)
  // Cotangents whose primal nobody reads get their tangents only (see `Variable.matmul`).
  let product = Dual<S>.matmul(primal: kernel.needsPrimalCotangent), primalX = x.needsPrimalCotangent
  return Variable.record(y, inputs: [x, kernel], cotangentUse: .bilinear) { g, needs in
    let gx = needs[0] ? Dual.col2imProduct(g, w, geometry, primal: primalX) : nil
    let gw = needs[1] ? product(cols, true, g, false) : nil
    return [gx, gw]
  }
}

/// im2col(x)·W for a [kh·kw·Cin, Cout] kernel W by the direct kernels (see
/// `Tensor+DirectConvolution.swift`): neither the forward pass nor W̄ = colsᵀ·Ȳ builds the patch
/// matrix, and the tape keeps x rather than cols. x̄ = col2im(Ȳ·Wᵀ) by the direct kernel too
/// when a window row splits into 8-wide blocks, else as in `im2colProduct`.
func directConvProduct<S>(_ x: Variable<S>, _ kernel: Variable<S>, _ geometry: WindowGeometry) -> Variable<S> {
  let xv = x.value, w = kernel.value
  let y = Dual.directConv(xv, w, geometry)
  // Cotangents whose primal nobody reads get their tangents only (see `Variable.matmul`).
  let primal = kernel.needsPrimalCotangent, primalX = x.needsPrimalCotangent
  let direct = Tensor<S>.directConvInputSupports(geometry)
  return Variable.record(y, inputs: [x, kernel], cotangentUse: .bilinear) { g, needs in
    let gx = needs[0] ? Dual.col2imProduct(g, w, geometry, direct: direct, primal: primalX) : nil
    let gw = needs[1] ? Dual.directConvWeightGradient(xv, g, geometry, primal: primal) : nil
    return [gx, gw]
  }
}

/// A 2-D convolution layer on NHWC inputs, y = conv2d(x, W) + b.
/// Parameters: `{name}.weight` [kh, kw, Cin, Cout] (LeCun normal, fan-in kh·kw·Cin) and
/// `{name}.bias` [Cout] (zeros).
public struct Conv2D: Layer {
  public let weight: ParameterRef
  public let bias: ParameterRef?
  public let stride: (Int, Int)
  public let padding: Padding

  public init(
    _ inChannels: Int, _ outChannels: Int, kernel: (Int, Int), stride: (Int, Int) = (1, 1),
    padding: Padding = .same, name: String, registry: inout ParameterRegistry,
    initializer: Initializer = .lecunNormal, bias: Bool = true
  ) {
    precondition(inChannels > 0 && outChannels > 0, "Conv2D channel counts must be positive")
    precondition(kernel.0 > 0 && kernel.1 > 0 && stride.0 > 0 && stride.1 > 0,
                 "Conv2D kernel and stride must be positive")
    let fanIn = kernel.0 * kernel.1 * inChannels
    weight = registry.add(ParameterSpec(
      name: "\(name).weight", shape: [kernel.0, kernel.1, inChannels, outChannels],
      initializer: initializer, fanIn: fanIn, fanOut: kernel.0 * kernel.1 * outChannels))
    self.bias = bias
      ? registry.add(ParameterSpec(name: "\(name).bias", shape: [outChannels], initializer: .zeros)) : nil
    self.stride = stride
    self.padding = padding
  }

  public func callAsFunction<S>(_ x: Variable<S>, _ ctx: ForwardContext<S>) -> Variable<S> {
    let y = conv2d(x, ctx[weight], stride: stride, padding: padding)
    guard let bias else { return y }
    return y + ctx[bias]
  }
}
