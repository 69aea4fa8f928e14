/// Direct ("implicit GEMM") convolution: y = im2col(x)·W and W̄ = im2col(x)ᵀ·Ȳ computed from x
/// itself, without the [N·OH·OW, kh·kw·C] patch matrix.
///
/// Why: the convolutions of the small CNNs have thin products (Cout = 16…64 columns). Through
/// OpenBLAS, im2col writes the patch matrix, OpenBLAS copies it again into its packed layout,
/// and for the input layer (K = 9) the product itself runs far from peak; those copies were a
/// third of a W2 gradient. Here a register block of 6 output pixels × 16 (or 8) output channels
/// reads each window straight from a zero-padded copy of one image (a few KiB to ~60 KiB, in
/// cache), so nothing but y itself goes through memory. The input cotangent col2im(Ȳ·Wᵀ) is
/// formed the same way and added straight onto a padded x̄ image (when kw·C is a multiple of 8).
///
/// Sums run in a different order than OpenBLAS's, so results agree with the GEMM path to
/// rounding only (ConvolutionPathTests holds them to it).

/// The layout shared by the kernels: each image is copied into a zero-padded [Hp, Wp, C] block
/// with Hp = (OH−1)·sh + kh and Wp = (OW−1)·sw + kw, so that every window is in bounds.
@usableFromInline
struct DirectConvPlan {
  @usableFromInline let g: WindowGeometry
  @usableFromInline let paddedHeight: Int, paddedWidth: Int
  /// Scalars of one padded image.
  @usableFromInline let paddedImage: Int
  /// Offset in the padded image of output pixel q's window (q = oy·OW + ox).
  @usableFromInline let pixelOffsets: [Int]
  /// Offset of tap k = (ki, kj, c) inside a window, in the im2col column order.
  @usableFromInline let tapOffsets: [Int]

  @usableFromInline
  init(_ g: WindowGeometry) {
    self.g = g
    let oh = g.outHeight, ow = g.outWidth, c = g.channels
    paddedHeight = (oh - 1) * g.strideH + g.kernelHeight
    paddedWidth = (ow - 1) * g.strideW + g.kernelWidth
    paddedImage = paddedHeight * paddedWidth * c
    var pixels: [Int] = []
    pixels.reserveCapacity(oh * ow)
    for oy in 0..<oh {
      for ox in 0..<ow { pixels.append((oy * g.strideH * paddedWidth + ox * g.strideW) * c) }
    }
    pixelOffsets = pixels
    var taps: [Int] = []
    taps.reserveCapacity(g.patchSize)
    for ki in 0..<g.kernelHeight {
      for t in 0..<(g.kernelWidth * c) { taps.append(ki * paddedWidth * c + t) }
    }
    tapOffsets = taps
  }

  /// Copies image n of x (NHWC, unpadded) into `padded`, zeros around it. Rows and columns
  /// that no window reaches (VALID with a remainder) are left out.
  @inlinable @inline(__always)
  func pad<S: TensorScalar>(_ x: UnsafePointer<S>, image n: Int, into padded: UnsafeMutablePointer<S>) {
    let h = g.height, w = g.width, c = g.channels
    zeroFill(padded, count: paddedImage)
    let rows = Swift.min(h, paddedHeight - g.padTop), run = Swift.min(w, paddedWidth - g.padLeft) * c
    if rows <= 0 || run <= 0 { return }
    let src = x + n * h * w * c
    for iy in 0..<rows {
      (padded + ((iy + g.padTop) * paddedWidth + g.padLeft) * c).update(from: src + iy * w * c, count: run)
    }
  }
}

@inlinable @inline(__always)
func loadVector<V: SIMD>(_ p: UnsafePointer<V.Scalar>, _: V.Type) -> V {
  UnsafeRawPointer(p).loadUnaligned(as: V.self)
}

@inlinable @inline(__always)
func storeVector<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self)
}

/// y rows for 6 output pixels × V.scalarCount channels: 6 accumulators of V (12 AVX2 registers
/// for 16 Floats), each window tap a broadcast × one row of W. Windows start at b + o.i; W is
/// [K, ldw] starting at the block's first channel; y rows are ldy apart.
@inlinable @inline(__always)
func directConvBlock6<V: SIMD>(
  _ b: UnsafePointer<V.Scalar>, _ o: (Int, Int, Int, Int, Int, Int), _ p: DirectConvPlan,
  _ w: UnsafePointer<V.Scalar>, ldw: Int, _ y: UnsafeMutablePointer<V.Scalar>, ldy: Int, accumulate: Bool, _: V.Type
) where V.Scalar: FloatingPoint {
  var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V()
  if accumulate {
    a0 = loadVector(y, V.self); a1 = loadVector(y + ldy, V.self); a2 = loadVector(y + 2 * ldy, V.self)
    a3 = loadVector(y + 3 * ldy, V.self); a4 = loadVector(y + 4 * ldy, V.self); a5 = loadVector(y + 5 * ldy, V.self)
  }
  let b0 = b + o.0, b1 = b + o.1, b2 = b + o.2, b3 = b + o.3, b4 = b + o.4, b5 = b + o.5
  let run = p.g.kernelWidth * p.g.channels, rowStride = p.paddedWidth * p.g.channels
  var wr = w
  for ki in 0..<p.g.kernelHeight {
    // One kernel row's taps (kj, c) are contiguous both in the window and in W.
    let start = ki * rowStride
    for t in start..<(start + run) {
      let wv = loadVector(wr, V.self)
      wr += ldw
      a0.addProduct(b0[t], wv); a1.addProduct(b1[t], wv); a2.addProduct(b2[t], wv)
      a3.addProduct(b3[t], wv); a4.addProduct(b4[t], wv); a5.addProduct(b5[t], wv)
    }
  }
  storeVector(a0, y); storeVector(a1, y + ldy); storeVector(a2, y + 2 * ldy)
  storeVector(a3, y + 3 * ldy); storeVector(a4, y + 4 * ldy); storeVector(a5, y + 5 * ldy)
}

/// The same for one output pixel (the tail of an image).
@inlinable @inline(__always)
func directConvBlock1<V: SIMD>(
  _ b: UnsafePointer<V.Scalar>, _ p: DirectConvPlan,
  _ w: UnsafePointer<V.Scalar>, ldw: Int, _ y: UnsafeMutablePointer<V.Scalar>, accumulate: Bool, _: V.Type
) where V.Scalar: FloatingPoint {
  var a = accumulate ? loadVector(y, V.self) : V()
  let run = p.g.kernelWidth * p.g.channels, rowStride = p.paddedWidth * p.g.channels
  var wr = w
  for ki in 0..<p.g.kernelHeight {
    let start = ki * rowStride
    for t in start..<(start + run) {
      a.addProduct(b[t], loadVector(wr, V.self))
      wr += ldw
    }
  }
  storeVector(a, y)
}

/// y (+)= im2col(x)·W for x [N,H,W,C], W [kh·kw·C, Cout] with Cout a multiple of 8, into
/// y [N·OH·OW, Cout]. Images are independent, so `forEachImage` may split them over cores.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func directConvKernel<S: TensorScalar>(
  _ x: Tensor<S>, _ w: Tensor<S>, _ p: DirectConvPlan, into y: UnsafeMutablePointer<S>, accumulate: Bool
) {
  let g = p.g, cout = w.shape[1], pixels = g.outHeight * g.outWidth
  precondition(x.shape == g.inputShape, "directConv: input \(x.shape) vs geometry \(g.inputShape)")
  precondition(w.shape == [g.patchSize, cout] && cout % 8 == 0,
               "directConv: kernel \(w.shape) vs [\(g.patchSize), multiple of 8]")
  if pixels == 0 || g.batch == 0 || cout == 0 { return }
  GEMMCounter.add(2 * g.patchCount * g.patchSize * cout)
  x.withUnsafeBufferPointer { px in
    w.withUnsafeBufferPointer { pw in
      p.pixelOffsets.withUnsafeBufferPointer { po in
        let X = px.baseAddress!, W = pw.baseAddress!, O = po.baseAddress!
        forEachImage(g) { n in
          withUnsafeTemporaryAllocation(of: S.self, capacity: p.paddedImage) { scratch in
            let b = UnsafePointer(scratch.baseAddress!)
            p.pad(X, image: n, into: scratch.baseAddress!)
            let yn = y + n * pixels * cout
            var q = 0
            while q + 6 <= pixels {
              let o = (O[q], O[q + 1], O[q + 2], O[q + 3], O[q + 4], O[q + 5])
              var cb = 0
              while cb + 16 <= cout {
                directConvBlock6(b, o, p, W + cb, ldw: cout, yn + q * cout + cb, ldy: cout,
                                 accumulate: accumulate, SIMD16<S>.self)
                cb += 16
              }
              if cb < cout {
                directConvBlock6(b, o, p, W + cb, ldw: cout, yn + q * cout + cb, ldy: cout,
                                 accumulate: accumulate, SIMD8<S>.self)
              }
              q += 6
            }
            while q < pixels {
              var cb = 0
              while cb + 16 <= cout {
                directConvBlock1(b + O[q], p, W + cb, ldw: cout, yn + q * cout + cb, accumulate: accumulate, SIMD16<S>.self)
                cb += 16
              }
              if cb < cout {
                directConvBlock1(b + O[q], p, W + cb, ldw: cout, yn + q * cout + cb, accumulate: accumulate, SIMD8<S>.self)
              }
              q += 1
            }
          }
        }
      }
    }
  }
}

/// W̄ rows k0…k0+3 (taps at window offsets t.i) × V.scalarCount channels += Σ over the pixels
/// (windows at b + offsets[q]) of x·Ȳ[q]. W̄ stays in 4 accumulators over the whole run. Four
/// rows, not six as in the forward block: LLVM unrolls this loop twice, and with six rows the
/// broadcasts of both iterations spill to the stack (the kernel ran at half the forward rate).
@inlinable @inline(__always)
func directConvWeightBlock4<V: SIMD>(
  _ b: UnsafePointer<V.Scalar>, _ offsets: UnsafePointer<Int>, pixels: Int, _ t: (Int, Int, Int, Int),
  _ gy: UnsafePointer<V.Scalar>, ldg: Int, _ wb: UnsafeMutablePointer<V.Scalar>, ldw: Int, _: V.Type
) where V.Scalar: FloatingPoint {
  var a0 = loadVector(wb, V.self), a1 = loadVector(wb + ldw, V.self)
  var a2 = loadVector(wb + 2 * ldw, V.self), a3 = loadVector(wb + 3 * ldw, V.self)
  var gr = gy
  for q in 0..<pixels {
    let x = b + offsets[q]
    let gv = loadVector(gr, V.self)
    gr += ldg
    a0.addProduct(x[t.0], gv); a1.addProduct(x[t.1], gv); a2.addProduct(x[t.2], gv); a3.addProduct(x[t.3], gv)
  }
  storeVector(a0, wb); storeVector(a1, wb + ldw); storeVector(a2, wb + 2 * ldw); storeVector(a3, wb + 3 * ldw)
}

/// One row of W̄ (the tail when K is not a multiple of 4).
@inlinable @inline(__always)
func directConvWeightBlock1<V: SIMD>(
  _ b: UnsafePointer<V.Scalar>, _ offsets: UnsafePointer<Int>, pixels: Int, _ t: Int,
  _ gy: UnsafePointer<V.Scalar>, ldg: Int, _ wb: UnsafeMutablePointer<V.Scalar>, _: V.Type
) where V.Scalar: FloatingPoint {
  var a = loadVector(wb, V.self)
  var gr = gy
  for q in 0..<pixels {
    a.addProduct(b[offsets[q] + t], loadVector(gr, V.self))
    gr += ldg
  }
  storeVector(a, wb)
}

/// W̄ += im2col(x)ᵀ·Ȳ for x [N,H,W,C] and Ȳ [N·OH·OW, Cout] (Cout a multiple of 8), into
/// W̄ [kh·kw·C, Cout]. One image at a time on one core: every image adds into all of W̄.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func directConvWeightKernel<S: TensorScalar>(
  _ x: Tensor<S>, _ gy: Tensor<S>, _ p: DirectConvPlan, into wb: UnsafeMutablePointer<S>
) {
  let g = p.g, k = g.patchSize, pixels = g.outHeight * g.outWidth
  precondition(x.shape == g.inputShape, "directConvWeight: input \(x.shape) vs geometry \(g.inputShape)")
  precondition(gy.rank == 2 && gy.shape[0] == g.patchCount && gy.shape[1] % 8 == 0,
               "directConvWeight: cotangent \(gy.shape) vs [\(g.patchCount), multiple of 8]")
  let cout = gy.shape[1]
  if pixels == 0 || g.batch == 0 || cout == 0 { return }
  GEMMCounter.add(2 * g.patchCount * k * cout)
  x.withUnsafeBufferPointer { px in
    gy.withUnsafeBufferPointer { pg in
      p.pixelOffsets.withUnsafeBufferPointer { po in
        p.tapOffsets.withUnsafeBufferPointer { pt in
          let X = px.baseAddress!, G = pg.baseAddress!, O = po.baseAddress!, T = pt.baseAddress!
          withUnsafeTemporaryAllocation(of: S.self, capacity: p.paddedImage) { scratch in
            let b = UnsafePointer(scratch.baseAddress!)
            for n in 0..<g.batch {
              p.pad(X, image: n, into: scratch.baseAddress!)
              let gn = G + n * pixels * cout
              var k0 = 0
              while k0 + 4 <= k {
                let t = (T[k0], T[k0 + 1], T[k0 + 2], T[k0 + 3])
                var cb = 0
                while cb + 16 <= cout {
                  directConvWeightBlock4(b, O, pixels: pixels, t, gn + cb, ldg: cout, wb + k0 * cout + cb, ldw: cout,
                                         SIMD16<S>.self)
                  cb += 16
                }
                if cb < cout {
                  directConvWeightBlock4(b, O, pixels: pixels, t, gn + cb, ldg: cout, wb + k0 * cout + cb, ldw: cout,
                                         SIMD8<S>.self)
                }
                k0 += 4
              }
              while k0 < k {
                var cb = 0
                while cb + 16 <= cout {
                  directConvWeightBlock1(b, O, pixels: pixels, T[k0], gn + cb, ldg: cout, wb + k0 * cout + cb, SIMD16<S>.self)
                  cb += 16
                }
                if cb < cout {
                  directConvWeightBlock1(b, O, pixels: pixels, T[k0], gn + cb, ldg: cout, wb + k0 * cout + cb, SIMD8<S>.self)
                }
                k0 += 1
              }
            }
          }
        }
      }
    }
  }
}

/// Ȳ·Wᵀ for 6 output pixels × V.scalarCount window columns, added onto the padded x̄ at each
/// pixel's window (dst + o.i): the col2im of the product without the product in memory. Ȳ rows
/// are `cout` apart from gy; Wᵀ rows are ldwt apart from wt (this block's first column). The
/// windows of neighbouring pixels overlap; each accumulator is added on its own, in order.
@inlinable @inline(__always)
func directConvInputBlock6<V: SIMD>(
  _ gy: UnsafePointer<V.Scalar>, cout: Int, _ wt: UnsafePointer<V.Scalar>, ldwt: Int,
  _ dst: UnsafeMutablePointer<V.Scalar>, _ o: (Int, Int, Int, Int, Int, Int), _: V.Type
) where V.Scalar: FloatingPoint {
  var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V()
  let g0 = gy, g1 = gy + cout, g2 = gy + 2 * cout, g3 = gy + 3 * cout, g4 = gy + 4 * cout, g5 = gy + 5 * cout
  var wr = wt
  for j in 0..<cout {
    let wv = loadVector(wr, V.self)
    wr += ldwt
    a0.addProduct(g0[j], wv); a1.addProduct(g1[j], wv); a2.addProduct(g2[j], wv)
    a3.addProduct(g3[j], wv); a4.addProduct(g4[j], wv); a5.addProduct(g5[j], wv)
  }
  let d0 = dst + o.0, d1 = dst + o.1, d2 = dst + o.2, d3 = dst + o.3, d4 = dst + o.4, d5 = dst + o.5
  storeVector(loadVector(d0, V.self) + a0, d0); storeVector(loadVector(d1, V.self) + a1, d1)
  storeVector(loadVector(d2, V.self) + a2, d2); storeVector(loadVector(d3, V.self) + a3, d3)
  storeVector(loadVector(d4, V.self) + a4, d4); storeVector(loadVector(d5, V.self) + a5, d5)
}

/// The same for one output pixel (the tail of an image).
@inlinable @inline(__always)
func directConvInputBlock1<V: SIMD>(
  _ gy: UnsafePointer<V.Scalar>, cout: Int, _ wt: UnsafePointer<V.Scalar>, ldwt: Int,
  _ dst: UnsafeMutablePointer<V.Scalar>, _: V.Type
) where V.Scalar: FloatingPoint {
  var a = V()
  var wr = wt
  for j in 0..<cout {
    a.addProduct(gy[j], loadVector(wr, V.self))
    wr += ldwt
  }
  storeVector(loadVector(dst, V.self) + a, dst)
}

/// x̄ += col2im(Ȳ·Wᵀ) for Ȳ [N·OH·OW, Cout] and W [kh·kw·C, Cout], with kw·C a multiple of 8
/// (one kernel row of a window is a whole number of 8-wide blocks). Per image, on one core: the product is
/// formed in register blocks of 6 pixels × 16 (or 8) window columns and added straight onto a
/// zero-padded x̄ scratch, whose interior is then added onto x̄. Replaces the GEMM into a
/// scratch plus col2im pass of `col2imProductKernel` (its memset, its packing and its reread).
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func directConvInputKernel<S: TensorScalar>(
  _ gy: Tensor<S>, _ w: Tensor<S>, _ p: DirectConvPlan, into out: UnsafeMutablePointer<S>
) {
  let g = p.g, k = g.patchSize, pixels = g.outHeight * g.outWidth
  let run = g.kernelWidth * g.channels, rowStride = p.paddedWidth * g.channels
  precondition(w.rank == 2 && w.shape[0] == k, "directConvInput: kernel \(w.shape) vs patch size \(k)")
  precondition(run % 8 == 0, "directConvInput: kw·C = \(run) is not a multiple of 8")
  let cout = w.shape[1]
  precondition(gy.shape == [g.patchCount, cout], "directConvInput: cotangent \(gy.shape) vs [\(g.patchCount), \(cout)]")
  if pixels == 0 || k == 0 || g.batch == 0 || cout == 0 { return }
  GEMMCounter.add(2 * g.patchCount * k * cout)
  let wt = w.transposedLastTwo()  // [Cout, K]: a block's columns are contiguous per output channel
  let h = g.height, width = g.width, c = g.channels
  let rows = Swift.min(h, p.paddedHeight - g.padTop), interior = Swift.min(width, p.paddedWidth - g.padLeft) * c
  gy.withUnsafeBufferPointer { pg in
    wt.withUnsafeBufferPointer { pw in
      p.pixelOffsets.withUnsafeBufferPointer { po in
        let G = pg.baseAddress!, WT = pw.baseAddress!, O = po.baseAddress!
        // One image after another on this core, not through `forEachImage`: split over two
        // threads, this kernel made the process grow by megabytes per W2 pass that were never
        // reused (1 GiB RSS after 400 gradients, page faults a fifth of the profile), with or
        // without the scratch allocated inside the per-image body. Not understood; sequential
        // runs stay at the baseline's RSS.
        withUnsafeTemporaryAllocation(of: S.self, capacity: p.paddedImage) { scratch in
          let d = scratch.baseAddress!
          for n in 0..<g.batch {
            zeroFill(d, count: p.paddedImage)
            let gn = G + n * pixels * cout
            var q = 0
            while q + 6 <= pixels {
              let o = (O[q], O[q + 1], O[q + 2], O[q + 3], O[q + 4], O[q + 5])
              for ki in 0..<g.kernelHeight {
                var t = 0
                while t + 16 <= run {
                  directConvInputBlock6(gn + q * cout, cout: cout, WT + ki * run + t, ldwt: k, d + ki * rowStride + t, o,
                                        SIMD16<S>.self)
                  t += 16
                }
                if t < run {
                  directConvInputBlock6(gn + q * cout, cout: cout, WT + ki * run + t, ldwt: k, d + ki * rowStride + t, o,
                                        SIMD8<S>.self)
                }
              }
              q += 6
            }
            while q < pixels {
              for ki in 0..<g.kernelHeight {
                var t = 0
                while t + 16 <= run {
                  directConvInputBlock1(gn + q * cout, cout: cout, WT + ki * run + t, ldwt: k, d + O[q] + ki * rowStride + t,
                                        SIMD16<S>.self)
                  t += 16
                }
                if t < run {
                  directConvInputBlock1(gn + q * cout, cout: cout, WT + ki * run + t, ldwt: k, d + O[q] + ki * rowStride + t,
                                        SIMD8<S>.self)
                }
              }
              q += 1
            }
            // The interior back onto x̄; the padding's share is dropped.
            if rows > 0 && interior > 0 {
              let xn = out + n * h * width * c
              for iy in 0..<rows {
                let src = d + ((iy + g.padTop) * p.paddedWidth + g.padLeft) * c, dst = xn + iy * width * c
                for i in 0..<interior { dst[i] += src[i] }
              }
            }
          }
        }
      }
    }
  }
}

extension Tensor {
  /// Whether `directConv` handles a convolution with this many output channels.
  @inlinable public static func directConvSupports(outChannels: Int) -> Bool { outChannels % 8 == 0 }

  /// im2col(x)·W [N·OH·OW, Cout] for W [kh·kw·C, Cout], without the patch matrix.
  @inlinable
  public static func directConv(_ x: Tensor, _ w: Tensor, _ geometry: WindowGeometry) -> Tensor {
    let plan = DirectConvPlan(geometry)
    return Tensor(shape: [geometry.patchCount, w.shape[1]]) { out in
      directConvKernel(x, w, plan, into: out.baseAddress!, accumulate: false)
    }
  }

  /// c += im2col(x)·W, in place.
  @inlinable
  public static func directConv(_ x: Tensor, _ w: Tensor, _ geometry: WindowGeometry, addingTo c: inout Tensor) {
    precondition(c.shape == [geometry.patchCount, w.shape[1]], "directConv: target \(c.shape)")
    let plan = DirectConvPlan(geometry)
    c.withUnsafeMutableBufferPointer { out in directConvKernel(x, w, plan, into: out.baseAddress!, accumulate: true) }
  }

  /// Whether `directConvInputGradient` handles this geometry: a window row of kw·C scalars
  /// must split into 8-wide blocks.
  @inlinable public static func directConvInputSupports(_ geometry: WindowGeometry) -> Bool {
    (geometry.kernelWidth * geometry.channels) % 8 == 0
  }

  /// col2im(Ȳ·Wᵀ) [N,H,W,C] for a kernel W [kh·kw·C, Cout], without the product in memory.
  @inlinable
  public static func directConvInputGradient(_ gy: Tensor, _ w: Tensor, _ geometry: WindowGeometry) -> Tensor {
    var out = Tensor(zeros: geometry.inputShape)
    directConvInputGradient(gy, w, geometry, addingTo: &out)
    return out
  }

  /// c += col2im(Ȳ·Wᵀ), in place.
  @inlinable
  public static func directConvInputGradient(
    _ gy: Tensor, _ w: Tensor, _ geometry: WindowGeometry, addingTo c: inout Tensor
  ) {
    precondition(c.shape == geometry.inputShape, "directConvInputGradient: target \(c.shape)")
    let plan = DirectConvPlan(geometry)
    c.withUnsafeMutableBufferPointer { out in directConvInputKernel(gy, w, plan, into: out.baseAddress!) }
  }

  /// im2col(x)ᵀ·Ȳ [kh·kw·C, Cout], without the patch matrix.
  @inlinable
  public static func directConvWeightGradient(_ x: Tensor, _ gy: Tensor, _ geometry: WindowGeometry) -> Tensor {
    var out = Tensor(zeros: [geometry.patchSize, gy.shape[1]])
    directConvWeightGradient(x, gy, geometry, addingTo: &out)
    return out
  }

  /// c += im2col(x)ᵀ·Ȳ, in place.
  @inlinable
  public static func directConvWeightGradient(
    _ x: Tensor, _ gy: Tensor, _ geometry: WindowGeometry, addingTo c: inout Tensor
  ) {
    precondition(c.shape == [geometry.patchSize, gy.shape[1]], "directConvWeightGradient: target \(c.shape)")
    let plan = DirectConvPlan(geometry)
    c.withUnsafeMutableBufferPointer { out in directConvWeightKernel(x, gy, plan, into: out.baseAddress!) }
  }
}

extension Dual {
  /// im2col(x)·W, bilinear: the tangent im2col(ẋ)·W + im2col(x)·Ẇ is accumulated into one tensor.
  @inlinable
  public static func directConv(_ x: Dual, _ w: Dual, _ g: WindowGeometry) -> Dual {
    Dual(cachedProduct(shape: [g.patchCount, w.shape[1]]) { Tensor.directConv(x.primal, w.primal, g) },
         tangent: directConvTangent(x, w, g))
  }

  @inlinable
  static func directConvTangent(_ x: Dual, _ w: Dual, _ g: WindowGeometry) -> Tensor<S>? {
    bilinearTangent(x, w, { Tensor.directConv($0, $1, g) }, adding: { Tensor.directConv($0, $1, g, addingTo: &$2) })
  }

  /// im2col(x)ᵀ·Ȳ, bilinear in (x, Ȳ); tangent im2col(x)ᵀ·Ẏ̄ + im2col(ẋ)ᵀ·Ȳ. With
  /// `primal: false` the primal is left uninitialized (a parameter's gradient during an
  /// HVP-only pass, see `Dual.matmulTangentOnly`).
  @inlinable
  public static func directConvWeightGradient(_ x: Dual, _ gy: Dual, _ g: WindowGeometry, primal: Bool) -> Dual {
    // Bilinear in (x, Ȳ), the Ȳ̇ term first: with Ȳ as the first factor.
    let t = bilinearTangent(gy, x, { Tensor.directConvWeightGradient($1, $0, g) },
                            adding: { Tensor.directConvWeightGradient($1, $0, g, addingTo: &$2) })
    let shape = [g.patchSize, gy.shape[1]]
    return Dual(primal ? cachedProduct(shape: shape) { Tensor.directConvWeightGradient(x.primal, gy.primal, g) }
                       : Tensor(uninitializedShape: shape),
                tangent: t)
  }
}
