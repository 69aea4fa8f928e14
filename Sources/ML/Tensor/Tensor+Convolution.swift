import Dispatch

/// The geometry of a 2-D convolution or pooling window over an NHWC tensor: input size, window,
/// stride and explicit padding, and the output size they imply,
/// out = ⌊(in + padBefore + padAfter − k) / stride⌋ + 1.
public struct WindowGeometry: Sendable, Hashable {
  public var batch: Int, height: Int, width: Int, channels: Int
  public var kernelHeight: Int, kernelWidth: Int
  public var strideH: Int, strideW: Int
  public var padTop: Int, padBottom: Int, padLeft: Int, padRight: Int

  public init(
    input shape: [Int], kernel: (Int, Int), stride: (Int, Int),
    padding: (top: Int, bottom: Int, left: Int, right: Int)
  ) {
    precondition(shape.count == 4, "window ops expect NHWC input, got \(shape)")
    precondition(kernel.0 > 0 && kernel.1 > 0, "kernel size must be positive, got \(kernel)")
    precondition(stride.0 > 0 && stride.1 > 0, "stride must be positive, got \(stride)")
    precondition(padding.top >= 0 && padding.bottom >= 0 && padding.left >= 0 && padding.right >= 0,
                 "padding must be non-negative")
    (batch, height, width, channels) = (shape[0], shape[1], shape[2], shape[3])
    (kernelHeight, kernelWidth) = kernel
    (strideH, strideW) = stride
    (padTop, padBottom, padLeft, padRight) = padding
    precondition(height + padTop + padBottom >= kernelHeight && width + padLeft + padRight >= kernelWidth,
                 "window \(kernel) larger than padded input \(shape)")
  }

  /// Geometry for `Padding.same` or `.valid`.
  public init(input shape: [Int], kernel: (Int, Int), stride: (Int, Int), padding: Padding) {
    precondition(shape.count == 4, "window ops expect NHWC input, got \(shape)")
    switch padding {
    case .valid:
      self.init(input: shape, kernel: kernel, stride: stride, padding: (0, 0, 0, 0))
    case .same:
      let (_, t, b) = WindowGeometry.samePadding(input: shape[1], kernel: kernel.0, stride: stride.0)
      let (_, l, r) = WindowGeometry.samePadding(input: shape[2], kernel: kernel.1, stride: stride.1)
      self.init(input: shape, kernel: kernel, stride: stride, padding: (t, b, l, r))
    case .explicit(let t, let b, let l, let r):
      self.init(input: shape, kernel: kernel, stride: stride, padding: (t, b, l, r))
    }
  }

  /// SAME padding as in TensorFlow/JAX: out = ⌈in/stride⌉, total = max((out−1)·stride + k − in, 0),
  /// before = ⌊total/2⌋, after = total − before (the extra row goes at the end).
  public static func samePadding(input: Int, kernel: Int, stride: Int) -> (output: Int, before: Int, after: Int) {
    precondition(stride > 0 && kernel > 0, "kernel and stride must be positive")
    let out = (input + stride - 1) / stride
    let total = Swift.max((out - 1) * stride + kernel - input, 0)
    return (out, total / 2, total - total / 2)
  }

  public var outHeight: Int { (height + padTop + padBottom - kernelHeight) / strideH + 1 }
  public var outWidth: Int { (width + padLeft + padRight - kernelWidth) / strideW + 1 }
  public var inputShape: [Int] { [batch, height, width, channels] }
  /// Rows of the im2col matrix: one per output position.
  public var patchCount: Int { batch * outHeight * outWidth }
  /// Columns of the im2col matrix: kh·kw·C, ordered (ki, kj, c) to match a [kh, kw, C, Cout] kernel.
  public var patchSize: Int { kernelHeight * kernelWidth * channels }
}

/// How a window op pads its input.
public enum Padding: Sendable, Hashable {
  /// No padding: only full windows.
  case valid
  /// TensorFlow/JAX SAME: out = ⌈in/stride⌉.
  case same
  case explicit(top: Int, bottom: Int, left: Int, right: Int)
}

/// Runs `body` for every image of the batch, on both cores when the batch is big enough to
/// pay for it, the run may use two threads (`Parallelism.threads`: with `--jobs 2 --threads 1`
/// the other core trains another run, and splitting anyway made four threads share two cores:
/// four DenseNet-BN runs of fig2 took 75.7 and 84.4 s against 79.4 and 86.6 s, same results)
/// and the other core is not busy with another shard of the same batch. Images
/// touch disjoint rows of the im2col matrix and disjoint slices of the NHWC tensor, so the
/// halves never write the same memory.
@inlinable
func forEachImage(_ g: WindowGeometry, _ body: (Int) -> Void) {
  let work = g.patchCount * g.patchSize
  let chunks = work >= 1 << 18 && Parallelism.threads >= 2 && !Parallelism.isShardWorker ? Swift.min(2, g.batch) : 1
  if chunks <= 1 {
    for n in 0..<g.batch { body(n) }
    return
  }
  withoutActuallyEscaping(body) { body in
    let task = UnsafeSendableBox(body)
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      let lo = g.batch * chunk / chunks, hi = g.batch * (chunk + 1) / chunks
      for n in lo..<hi { task.value(n) }
    }
  }
}

/// Carries a closure over raw buffers into `concurrentPerform`; the caller guarantees the
/// iterations write disjoint memory.
@usableFromInline
struct UnsafeSendableBox<T>: @unchecked Sendable {
  @usableFromInline let value: T
  @usableFromInline init(_ value: T) { self.value = value }
}

/// Copies n scalars. Short runs (a 3×3 window over one channel copies 3 at a time) go through
/// an explicit loop: a memmove call per run would cost more than the copy.
@inlinable @inline(__always)
func copyRun<S: TensorScalar>(_ dst: UnsafeMutablePointer<S>, _ src: UnsafePointer<S>, _ n: Int) {
  if n <= 16 {
    var i = 0
    while i < n { dst[i] = src[i]; i &+= 1 }
  } else {
    dst.update(from: src, count: n)
  }
}

/// Gathers every window of x [N,H,W,C] into a row of cols [N·OH·OW, kh·kw·C]; padding reads 0.
/// Each (output position, ki) copies a contiguous run of kw·C scalars when the row is fully
/// inside, so the copy is memcpy-like.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func im2colKernel<S: TensorScalar>(_ x: Tensor<S>, _ g: WindowGeometry) -> Tensor<S> {
  precondition(x.shape == g.inputShape, "im2col: input \(x.shape) vs geometry \(g.inputShape)")
  let oh = g.outHeight, ow = g.outWidth, c = g.channels, kw = g.kernelWidth, kh = g.kernelHeight
  let h = g.height, w = g.width, k = g.patchSize
  return Tensor(shape: [g.patchCount, k]) { out in
    x.withUnsafeBufferPointer { px in
      let X = px.baseAddress!, O = out.baseAddress!
      forEachImage(g) { n in
        var row = n * oh * ow
        let xn = X + n * h * w * c
        for oy in 0..<oh {
          let iy0 = oy * g.strideH - g.padTop
          for ox in 0..<ow {
            let ix0 = ox * g.strideW - g.padLeft
            let dst = O + row * k
            row += 1
            let fullX = ix0 >= 0 && ix0 + kw <= w
            for ki in 0..<kh {
              let iy = iy0 + ki
              let d = dst + ki * kw * c
              if iy < 0 || iy >= h {
                d.update(repeating: 0, count: kw * c)
              } else if fullX {
                copyRun(d, xn + (iy * w + ix0) * c, kw * c)
              } else {
                for kj in 0..<kw {
                  let ix = ix0 + kj
                  if ix < 0 || ix >= w {
                    (d + kj * c).update(repeating: 0, count: c)
                  } else {
                    copyRun(d + kj * c, xn + (iy * w + ix) * c, c)
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}

/// The adjoint of im2col: adds every row of cols [N·OH·OW, kh·kw·C] back onto the window it
/// came from, giving [N,H,W,C] (padding positions are dropped). Linear in cols.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func col2imKernel<S: TensorScalar>(_ cols: Tensor<S>, _ g: WindowGeometry) -> Tensor<S> {
  precondition(cols.shape == [g.patchCount, g.patchSize],
               "col2im: columns \(cols.shape) vs geometry [\(g.patchCount), \(g.patchSize)]")
  let pixels = g.outHeight * g.outWidth, k = g.patchSize, image = g.height * g.width * g.channels
  return Tensor(shape: g.inputShape) { out in
    out.initialize(repeating: 0)
    cols.withUnsafeBufferPointer { pc in
      let C = pc.baseAddress!, O = out.baseAddress!
      forEachImage(g) { n in col2imImage(C + n * pixels * k, O + n * image, g) }
    }
  }
}

/// col2im for one image: adds its OH·OW rows of kh·kw·C scalars onto its [H, W, C] slice.
@inlinable @inline(__always)
func col2imImage<S: TensorScalar>(_ rows: UnsafePointer<S>, _ on: UnsafeMutablePointer<S>, _ g: WindowGeometry) {
  let oh = g.outHeight, ow = g.outWidth, c = g.channels, kw = g.kernelWidth, kh = g.kernelHeight
  let h = g.height, w = g.width, k = g.patchSize
  var src = rows
  for oy in 0..<oh {
    let iy0 = oy * g.strideH - g.padTop
    for ox in 0..<ow {
      let ix0 = ox * g.strideW - g.padLeft
      defer { src += k }
      let fullX = ix0 >= 0 && ix0 + kw <= w
      for ki in 0..<kh {
        let iy = iy0 + ki
        if iy < 0 || iy >= h { continue }
        let s = src + ki * kw * c
        if fullX {
          let d = on + (iy * w + ix0) * c
          for i in 0..<(kw * c) { d[i] += s[i] }
        } else {
          for kj in 0..<kw {
            let ix = ix0 + kj
            if ix < 0 || ix >= w { continue }
            let d = on + (iy * w + ix) * c, sj = s + kj * c
            for i in 0..<c { d[i] += sj[i] }
          }
        }
      }
    }
  }
}

/// x̄ += col2im(Ȳ·Wᵀ) for Ȳ [N·OH·OW, Cout] and a [kh·kw·C, Cout] kernel W, without
/// materializing the [N·OH·OW, kh·kw·C] product: a few images at a time, the GEMM writes
/// their rows into a scratch that stays in cache and col2im scatters it at once. The thin
/// product (Cout ≤ 64 columns) and col2im both stream the whole column matrix through memory
/// otherwise. Each image's rows are summed exactly as in `col2imKernel`.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func col2imProductKernel<S: TensorScalar>(
  _ gy: Tensor<S>, _ w: Tensor<S>, _ g: WindowGeometry, into out: UnsafeMutablePointer<S>
) {
  let pixels = g.outHeight * g.outWidth, k = g.patchSize, image = g.height * g.width * g.channels
  precondition(w.rank == 2 && w.shape[0] == k, "col2imProduct: kernel \(w.shape) vs patch size \(k)")
  let cout = w.shape[1]
  precondition(gy.shape == [g.patchCount, cout], "col2imProduct: cotangent \(gy.shape) vs [\(g.patchCount), \(cout)]")
  if pixels == 0 || k == 0 || g.batch == 0 { return }
  // About 256 KiB of scratch: 4 images of a 14×14 output with kh·kw·C = 144.
  let perChunk = Swift.max(1, Swift.min(g.batch, (1 << 18) / Swift.max(1, pixels * k * MemoryLayout<S>.stride)))
  withUnsafeTemporaryAllocation(of: S.self, capacity: perChunk * pixels * k) { scratch in
    let rows = scratch.baseAddress!
    gy.withUnsafeBufferPointer { pg in
      w.withUnsafeBufferPointer { pw in
        var n0 = 0
        while n0 < g.batch {
          let n1 = Swift.min(n0 + perChunk, g.batch), m = (n1 - n0) * pixels
          // β = 1 on memset memory, as in `gemmInto` (OpenBLAS's β = 0 pass is slow).
          zeroFill(rows, count: m * k)
          if cout > 0 {
            GEMMCounter.add(2 * m * k * cout)
            S.gemm(transA: false, transB: true, m: m, n: k, k: cout, alpha: 1,
                   a: pg.baseAddress! + n0 * pixels * cout, lda: cout, b: pw.baseAddress!, ldb: cout,
                   beta: 1, c: rows, ldc: k)
          }
          for n in n0..<n1 { col2imImage(UnsafePointer(rows + (n - n0) * pixels * k), out + n * image, g) }
          n0 = n1
        }
      }
    }
  }
}

extension Tensor {
  /// Windows of an NHWC tensor as rows of a matrix [N·OH·OW, kh·kw·C] (zeros in the padding).
  @inlinable public func im2col(_ geometry: WindowGeometry) -> Tensor { im2colKernel(self, geometry) }

  /// The adjoint of `im2col`: scatter-adds the rows back to an NHWC tensor.
  @inlinable public func col2im(_ geometry: WindowGeometry) -> Tensor { col2imKernel(self, geometry) }

  /// col2im(Ȳ·Wᵀ) for Ȳ [N·OH·OW, Cout] and a kernel W [kh·kw·C, Cout], computed a few
  /// images at a time (see `col2imProductKernel`).
  @inlinable
  public static func col2imProduct(_ gy: Tensor, _ w: Tensor, _ geometry: WindowGeometry) -> Tensor {
    var out = Tensor(zeros: geometry.inputShape)
    col2imProduct(gy, w, geometry, addingTo: &out)
    return out
  }

  /// c += col2im(Ȳ·Wᵀ), in place.
  @inlinable
  public static func col2imProduct(_ gy: Tensor, _ w: Tensor, _ geometry: WindowGeometry, addingTo c: inout Tensor) {
    precondition(c.shape == geometry.inputShape, "col2imProduct: target \(c.shape) vs \(geometry.inputShape)")
    c.withUnsafeMutableBufferPointer { out in col2imProductKernel(gy, w, geometry, into: out.baseAddress!) }
  }
}

extension Dual {
  /// im2col (linear).
  @inlinable public func im2col(_ g: WindowGeometry) -> Dual {
    Dual(primal.im2col(g), tangent: tangent.map { $0.im2col(g) })
  }

  /// col2im, the adjoint of im2col (linear).
  @inlinable public func col2im(_ g: WindowGeometry) -> Dual {
    Dual(primal.col2im(g), tangent: tangent.map { $0.col2im(g) })
  }

  /// col2im(Ȳ·Wᵀ), bilinear in (Ȳ, W): its tangent is col2im(Ẏ̄·Wᵀ) + col2im(Ȳ·Ẇᵀ),
  /// accumulated into one tensor. With `direct` every product runs on the direct kernel
  /// (`Tensor.directConvInputGradient`, for geometries `directConvInputSupports` accepts), else
  /// through GEMM (`Tensor.col2imProduct`). With `primal: false` the primal is left
  /// uninitialized (nobody reads it, see `CotangentUse`).
  @inlinable
  public static func col2imProduct(
    _ gy: Dual, _ w: Dual, _ g: WindowGeometry, direct: Bool = false, primal: Bool = true
  ) -> Dual {
    let f: (Tensor<S>, Tensor<S>) -> Tensor<S> = direct
      ? { Tensor.directConvInputGradient($0, $1, g) } : { Tensor.col2imProduct($0, $1, g) }
    let t = bilinearTangent(gy, w, f, adding: direct
      ? { Tensor.directConvInputGradient($0, $1, g, addingTo: &$2) } : { Tensor.col2imProduct($0, $1, g, addingTo: &$2) })
    return Dual(primal ? cachedProduct(shape: g.inputShape) { f(gy.primal, w.primal) } : Tensor(uninitializedShape: g.inputShape),
                tangent: t)
  }
}
