// Batch normalization with batch statistics (training and curvature modes) as one fused
// primitive. Per channel (the last axis), over the M = count/C positions of all other axes,
// with γ, β of shape [C]:
//   μ = mean(x), σ² = mean((x − μ)²), r = (σ² + ε)^(−1/2), x̂ = (x − μ)·r, y = x̂·γ + β.
// The layer-norm maths (Dual+LayerNorm.swift) with the means taken down each column instead of
// along a row, and simpler because γ is constant over a column (mean(ḡγ) = γ·mean(ḡ)).
// Derivatives used below (means over the M positions of a channel):
//   forward tangent  a = mean(ẋ), b = mean(x̂ẋ),  x̂̇ = r·(ẋ − a − x̂·b),  ṙ = −r²·b,
//                    ẏ = x̂̇γ + x̂γ̇ + β̇;
//   pullback        A = mean(ḡ), B = mean(ḡx̂),  x̄ = rγ·(ḡ − A − x̂·B),  γ̄ = M·B,  β̄ = M·A;
//   its tangent     Ȧ = mean(ġ), Ḃ = mean(ġx̂ + ḡx̂̇),  K = ṙγ + rγ̇,
//                   x̄̇ = K·(ḡ − A − x̂·B) + rγ·(ġ − Ȧ − x̂̇·B − x̂·Ḃ),  γ̄̇ = M·Ḃ,  β̄̇ = M·Ȧ.
// Every per-element formula is affine in (x̂, ẋ, ḡ, ġ) with per-channel coefficients, so the
// forward is three passes (sum, centred sum of squares, write), its tangent two, and the
// pullback with its tangent two (one reduction, one write): about a tenth of the element-wise
// passes of the composed ops (`BatchNorm.composed`, kept as the tests' reference). Each pass
// runs in SIMD blocks with the coefficients tiled to the channel period (`ChannelTiling`).

/// Per-channel statistics the forward pass hands to the pullback: μ, r, and (zeros when ẋ is
/// nil) the tangent moments a = mean(ẋ), b = mean(x̂ẋ).
@usableFromInline
struct BatchNormStatistics<S: TensorScalar> {
  let mean: [S], rstd: [S], tangentMean: [S], tangentMoment: [S]
}

// MARK: - Channel-periodic vector blocks

/// The flat [M, C] array walked in SIMD blocks of `lanes` scalars. Channel j of flat index i is
/// i mod C, so per-channel coefficients repeat with period T = lcm(C, lanes): tiled to length
/// T they are read as whole vectors at offset i mod T, whatever C is. (Loops over the C
/// channels of a row never vectorize here: C is 2–32, shorter than LLVM's vector-times-
/// interleave width, so they ran as scalar code.)
@usableFromInline
struct ChannelTiling<S: TensorScalar> {
  typealias Block = SIMD16<S>
  static var lanes: Int { 16 }
  let channels: Int, period: Int, count: Int

  init(channels c: Int, count n: Int) {
    var a = c, b = Self.lanes
    while b != 0 { (a, b) = (b, a % b) }
    channels = c
    period = c / a * Self.lanes
    count = n
  }

  /// v [C] repeated to length T.
  func tiled(_ v: [S]) -> [S] { (0..<period).map { v[$0 % channels] } }

  /// Per-channel totals of accumulators laid out by tile position.
  func fold(_ acc: [S]) -> [S] {
    var out = [S](repeating: 0, count: channels)
    for t in 0..<period { out[t % channels] += acc[t] }
    return out
  }

  /// Calls `block(i, t)` for each full vector block at flat offset i (tile offset t = i mod T),
  /// then `scalar(k, t)` for the remaining scalars.
  @inline(__always)
  func forEach(block: (Int, Int) -> Void, scalar: (Int, Int) -> Void) {
    var i = 0, t = 0
    while i + Self.lanes <= count {
      block(i, t)
      i += Self.lanes
      t += Self.lanes
      if t == period { t = 0 }
    }
    while i < count {
      scalar(i, t)
      i += 1
      t += 1
    }
  }
}

@inlinable @inline(__always)
func loadBlock<S: TensorScalar>(_ p: UnsafePointer<S>) -> SIMD16<S> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD16<S>.self)
}

@inlinable @inline(__always)
func storeBlock<S: TensorScalar>(_ v: SIMD16<S>, _ p: UnsafeMutablePointer<S>) {
  UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<S>.self)
}

/// Runs `body` with base pointers of the given arrays (all read-only but the accumulators the
/// caller passes as `inout`).
@inline(__always)
func withPointers<S, R>(_ a: [[S]], _ body: ([UnsafePointer<S>]) -> R) -> R {
  // Arrays of arrays keep their buffers alive for the call; the pointers do not escape.
  var pointers: [UnsafePointer<S>] = []
  pointers.reserveCapacity(a.count)
  func go(_ k: Int) -> R {
    if k == a.count { return body(pointers) }
    return a[k].withUnsafeBufferPointer { p in
      pointers.append(p.baseAddress!)
      return go(k + 1)
    }
  }
  return go(0)
}

// MARK: - Kernels

/// Forward: y, ẏ (when any tangent is given; missing ones are zero), the batch variance σ²
/// (for the running statistics) and the statistics the pullback reuses.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func batchNormKernel<S: TensorScalar>(
  _ x: Tensor<S>, _ xt: Tensor<S>?, _ gamma: Tensor<S>, _ gammaT: Tensor<S>?,
  _ beta: Tensor<S>, _ betaT: Tensor<S>?, epsilon: S
) -> (y: Tensor<S>, yt: Tensor<S>?, variance: [S], stats: BatchNormStatistics<S>) {
  let c = x.shape.last ?? 1
  let m = c == 0 ? 0 : x.count / c
  let invM = 1 / S(m)
  let tiling = ChannelTiling<S>(channels: c, count: x.count)
  let g = gamma.scalars, b = beta.scalars
  // Pass 1: μ.
  var acc = [S](repeating: 0, count: tiling.period)
  x.withUnsafeBufferPointer { px in
    acc.withUnsafeMutableBufferPointer { pa in
      let X = px.baseAddress!, A = pa.baseAddress!
      tiling.forEach(block: { i, t in storeBlock(loadBlock(A + t) + loadBlock(X + i), A + t) },
                     scalar: { k, t in A[t] += X[k] })
    }
  }
  let mean = tiling.fold(acc).map { $0 * invM }
  let meanTiled = tiling.tiled(mean)
  // Pass 2: σ² = mean((x − μ)²), two-pass as the composed ops do.
  acc = [S](repeating: 0, count: tiling.period)
  x.withUnsafeBufferPointer { px in
    meanTiled.withUnsafeBufferPointer { pmu in
      acc.withUnsafeMutableBufferPointer { pa in
        let X = px.baseAddress!, MU = pmu.baseAddress!, A = pa.baseAddress!
        tiling.forEach(block: { i, t in
          let d = loadBlock(X + i) - loadBlock(MU + t)
          storeBlock(loadBlock(A + t) + d * d, A + t)
        }, scalar: { k, t in let d = X[k] - MU[t]; A[t] += d * d })
      }
    }
  }
  let variance = tiling.fold(acc).map { $0 * invM }
  let rstd = variance.map { 1 / ($0 + epsilon).squareRoot() }
  // Pass 3: y = (x − μ)·(rγ) + β.
  let scale = tiling.tiled((0..<c).map { rstd[$0] * g[$0] }), shift = tiling.tiled(b)
  let y = Tensor<S>(shape: x.shape) { out in
    x.withUnsafeBufferPointer { px in
      withPointers([meanTiled, scale, shift]) { q in
        let X = px.baseAddress!, O = out.baseAddress!, MU = q[0], SC = q[1], SH = q[2]
        tiling.forEach(block: { i, t in
          storeBlock((loadBlock(X + i) - loadBlock(MU + t)) * loadBlock(SC + t) + loadBlock(SH + t), O + i)
        }, scalar: { k, t in O[k] = (X[k] - MU[t]) * SC[t] + SH[t] })
      }
    }
  }
  let zeros = [S](repeating: 0, count: c)
  if xt == nil && gammaT == nil && betaT == nil {
    return (y, nil, variance, BatchNormStatistics(mean: mean, rstd: rstd, tangentMean: zeros, tangentMoment: zeros))
  }
  let gt = gammaT?.scalars ?? zeros, bt = betaT?.scalars ?? zeros
  let rTiled = tiling.tiled(rstd)
  // Pass 4: a = mean(ẋ), b = mean(x̂ẋ).
  var a = zeros, bm = zeros
  if let xt {
    var accA = [S](repeating: 0, count: tiling.period), accB = accA
    x.withUnsafeBufferPointer { px in
      xt.withUnsafeBufferPointer { pxt in
        withPointers([meanTiled, rTiled]) { q in
          accA.withUnsafeMutableBufferPointer { pa in
            accB.withUnsafeMutableBufferPointer { pb in
              let X = px.baseAddress!, XT = pxt.baseAddress!, MU = q[0], R = q[1]
              let A = pa.baseAddress!, B = pb.baseAddress!
              tiling.forEach(block: { i, t in
                let v = loadBlock(XT + i), h = (loadBlock(X + i) - loadBlock(MU + t)) * loadBlock(R + t)
                storeBlock(loadBlock(A + t) + v, A + t)
                storeBlock(loadBlock(B + t) + h * v, B + t)
              }, scalar: { k, t in
                A[t] += XT[k]
                B[t] += (X[k] - MU[t]) * R[t] * XT[k]
              })
            }
          }
        }
      }
    }
    a = tiling.fold(accA).map { $0 * invM }
    bm = tiling.fold(accB).map { $0 * invM }
  }
  // Pass 5: ẏ = γr·(ẋ − a − x̂b) + x̂γ̇ + β̇ = ẋ·P + (x − μ)·(rQ) + SH with
  // P = γr, Q = γ̇ − γrb, SH = β̇ − γra.
  let p = (0..<c).map { g[$0] * rstd[$0] }
  let rq = tiling.tiled((0..<c).map { rstd[$0] * (gt[$0] - p[$0] * bm[$0]) })
  let sh = tiling.tiled((0..<c).map { bt[$0] - p[$0] * a[$0] })
  let pTiled = tiling.tiled(p)
  let yt = Tensor<S>(shape: x.shape) { out in
    x.withUnsafeBufferPointer { px in
      withPointers([meanTiled, rq, sh, pTiled]) { q in
        let X = px.baseAddress!, O = out.baseAddress!, MU = q[0], RQ = q[1], SH = q[2], P = q[3]
        if let xt {
          xt.withUnsafeBufferPointer { pxt in
            let XT = pxt.baseAddress!
            tiling.forEach(block: { i, t in
              storeBlock(loadBlock(XT + i) * loadBlock(P + t)
                         + (loadBlock(X + i) - loadBlock(MU + t)) * loadBlock(RQ + t) + loadBlock(SH + t), O + i)
            }, scalar: { k, t in O[k] = XT[k] * P[t] + (X[k] - MU[t]) * RQ[t] + SH[t] })
          }
        } else {
          tiling.forEach(block: { i, t in
            storeBlock((loadBlock(X + i) - loadBlock(MU + t)) * loadBlock(RQ + t) + loadBlock(SH + t), O + i)
          }, scalar: { k, t in O[k] = (X[k] - MU[t]) * RQ[t] + SH[t] })
        }
      }
    }
  }
  return (y, yt, variance, BatchNormStatistics(mean: mean, rstd: rstd, tangentMean: a, tangentMoment: bm))
}

/// The pullback (x̄, γ̄, β̄) and, when any of ẋ, γ̇, ġ is given, their tangents (missing ones are
/// zero). x̄ and x̄̇ only when `wantInput`.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func batchNormPullbackKernel<S: TensorScalar>(
  _ x: Tensor<S>, _ xt: Tensor<S>?, _ stats: BatchNormStatistics<S>, _ gamma: Tensor<S>, _ gammaT: Tensor<S>?,
  _ g: Tensor<S>, _ gt: Tensor<S>?, wantInput: Bool
) -> (gx: Tensor<S>?, gxT: Tensor<S>?, gGamma: Tensor<S>, gGammaT: Tensor<S>?, gBeta: Tensor<S>, gBetaT: Tensor<S>?) {
  precondition(g.shape == x.shape, "batch norm pullback: \(g.shape) vs \(x.shape)")
  let c = x.shape.last ?? 1
  let m = c == 0 ? 0 : x.count / c
  let invM = 1 / S(m)
  let withTangent = xt != nil || gammaT != nil || gt != nil
  let xt = xt ?? Tensor(zeros: withTangent ? x.shape : [0])
  let gt = gt ?? Tensor(zeros: withTangent ? x.shape : [0])
  let gam = gamma.scalars, gamT = gammaT?.scalars ?? [S](repeating: 0, count: c)
  let tiling = ChannelTiling<S>(channels: c, count: x.count)
  let muT = tiling.tiled(stats.mean), rT = tiling.tiled(stats.rstd)
  let aT = tiling.tiled(stats.tangentMean), bT = tiling.tiled(stats.tangentMoment)
  // Reduction pass: Σḡ, Σḡx̂ and, for the tangent, Σġ, Σ(ġx̂ + ḡx̂̇) with x̂̇ = r·(ẋ − a − x̂b),
  // by tile position.
  let period = tiling.period
  var acc = [S](repeating: 0, count: 4 * period)
  x.withUnsafeBufferPointer { px in
  xt.withUnsafeBufferPointer { pxt in
  g.withUnsafeBufferPointer { pg in
  gt.withUnsafeBufferPointer { pgt in
  withPointers([muT, rT, aT, bT]) { q in
  acc.withUnsafeMutableBufferPointer { pacc in
    let X = px.baseAddress!, G = pg.baseAddress!, MU = q[0], R = q[1], TA = q[2], TB = q[3]
    let SG = pacc.baseAddress!, SGX = SG + period, SGT = SG + 2 * period, SGXT = SG + 3 * period
    if withTangent {
      let XT = pxt.baseAddress!, GT = pgt.baseAddress!
      tiling.forEach(block: { i, t in
        let r = loadBlock(R + t)
        let h = (loadBlock(X + i) - loadBlock(MU + t)) * r
        let hdot = r * (loadBlock(XT + i) - loadBlock(TA + t) - h * loadBlock(TB + t))
        let gv = loadBlock(G + i), gtv = loadBlock(GT + i)
        storeBlock(loadBlock(SG + t) + gv, SG + t)
        storeBlock(loadBlock(SGX + t) + gv * h, SGX + t)
        storeBlock(loadBlock(SGT + t) + gtv, SGT + t)
        storeBlock(loadBlock(SGXT + t) + gtv * h + gv * hdot, SGXT + t)
      }, scalar: { k, t in
        let h = (X[k] - MU[t]) * R[t]
        let hdot = R[t] * (XT[k] - TA[t] - h * TB[t])
        SG[t] += G[k]
        SGX[t] += G[k] * h
        SGT[t] += GT[k]
        SGXT[t] += GT[k] * h + G[k] * hdot
      })
    } else {
      tiling.forEach(block: { i, t in
        let h = (loadBlock(X + i) - loadBlock(MU + t)) * loadBlock(R + t)
        let gv = loadBlock(G + i)
        storeBlock(loadBlock(SG + t) + gv, SG + t)
        storeBlock(loadBlock(SGX + t) + gv * h, SGX + t)
      }, scalar: { k, t in
        let h = (X[k] - MU[t]) * R[t]
        SG[t] += G[k]
        SGX[t] += G[k] * h
      })
    }
  }}}}}}
  func sums(_ k: Int) -> [S] { tiling.fold(Array(acc[(k * period)..<((k + 1) * period)])) }
  let sg = sums(0), sgx = sums(1)
  let sgt = withTangent ? sums(2) : [], sgxt = withTangent ? sums(3) : []
  // γ̄ = Σḡx̂ = M·B, β̄ = Σḡ = M·A; their tangents Σ(ġx̂ + ḡx̂̇) = M·Ḃ, Σġ = M·Ȧ.
  let gGamma = Tensor(shape: [c], scalars: sgx), gBeta = Tensor(shape: [c], scalars: sg)
  let gGammaT = withTangent ? Tensor(shape: [c], scalars: sgxt) : nil
  let gBetaT = withTangent ? Tensor(shape: [c], scalars: sgt) : nil
  guard wantInput else { return (nil, nil, gGamma, gGammaT, gBeta, gBetaT) }
  let r = stats.rstd
  // x̄ = rγ·(ḡ − A − x̂B) = ḡ·P + x̂·QB + QA with P = rγ.
  let p = (0..<c).map { r[$0] * gam[$0] }
  let qb = (0..<c).map { -p[$0] * sgx[$0] * invM }, qa = (0..<c).map { -p[$0] * sg[$0] * invM }
  let pT = tiling.tiled(p), qbT = tiling.tiled(qb), qaT = tiling.tiled(qa)
  if !withTangent {
    let gx = Tensor<S>(shape: x.shape) { out in
      x.withUnsafeBufferPointer { px in
        g.withUnsafeBufferPointer { pg in
          withPointers([muT, rT, pT, qbT, qaT]) { q in
            let X = px.baseAddress!, G = pg.baseAddress!, O = out.baseAddress!
            let MU = q[0], R = q[1], P = q[2], QB = q[3], QA = q[4]
            tiling.forEach(block: { i, t in
              let h = (loadBlock(X + i) - loadBlock(MU + t)) * loadBlock(R + t)
              storeBlock(loadBlock(G + i) * loadBlock(P + t) + h * loadBlock(QB + t) + loadBlock(QA + t), O + i)
            }, scalar: { k, t in O[k] = G[k] * P[t] + (X[k] - MU[t]) * R[t] * QB[t] + QA[t] })
          }
        }
      }
    }
    return (gx, nil, gGamma, nil, gBeta, nil)
  }
  // With K = ṙγ + rγ̇ (ṙ = −r²b) and x̂̇ = r·(ẋ − a − x̂b):
  //   x̄̇ = K·(ḡ − A − x̂B) + P·(ġ − Ȧ − x̂̇B − x̂Ḃ)
  //      = K·ḡ + P·ġ − P·B·r·ẋ + x̂·(−K·B + P·B·r·b − P·Ḃ) + (−K·A − P·Ȧ + P·B·r·a).
  let ta = stats.tangentMean, tb = stats.tangentMoment
  var kk = [S](), kx = [S](), kh = [S](), kc = [S]()
  for j in 0..<c {
    let A = sg[j] * invM, B = sgx[j] * invM, Ad = sgt[j] * invM, Bd = sgxt[j] * invM
    let k = -r[j] * r[j] * tb[j] * gam[j] + r[j] * gamT[j]
    kk.append(k)
    kx.append(-p[j] * B * r[j])
    kh.append(-k * B + p[j] * B * r[j] * tb[j] - p[j] * Bd)
    kc.append(-k * A - p[j] * Ad + p[j] * B * r[j] * ta[j])
  }
  let kkT = tiling.tiled(kk), kxT = tiling.tiled(kx), khT = tiling.tiled(kh), kcT = tiling.tiled(kc)
  var tangent = Tensor<S>(zeros: [0])
  let gx = Tensor<S>(shape: x.shape) { out in
    tangent = Tensor<S>(shape: x.shape) { tout in
      x.withUnsafeBufferPointer { px in
      xt.withUnsafeBufferPointer { pxt in
      g.withUnsafeBufferPointer { pg in
      gt.withUnsafeBufferPointer { pgt in
      withPointers([muT, rT, pT, qbT, qaT, kkT, kxT, khT, kcT]) { q in
        let X = px.baseAddress!, XT = pxt.baseAddress!, G = pg.baseAddress!, GT = pgt.baseAddress!
        let O = out.baseAddress!, TO = tout.baseAddress!
        let MU = q[0], R = q[1], P = q[2], QB = q[3], QA = q[4], KK = q[5], KX = q[6], KH = q[7], KC = q[8]
        tiling.forEach(block: { i, t in
          let h = (loadBlock(X + i) - loadBlock(MU + t)) * loadBlock(R + t)
          let gv = loadBlock(G + i), pv = loadBlock(P + t)
          storeBlock(gv * pv + h * loadBlock(QB + t) + loadBlock(QA + t), O + i)
          storeBlock(gv * loadBlock(KK + t) + loadBlock(GT + i) * pv + loadBlock(XT + i) * loadBlock(KX + t)
                     + h * loadBlock(KH + t) + loadBlock(KC + t), TO + i)
        }, scalar: { k, t in
          let h = (X[k] - MU[t]) * R[t]
          O[k] = G[k] * P[t] + h * QB[t] + QA[t]
          TO[k] = G[k] * KK[t] + GT[k] * P[t] + XT[k] * KX[t] + h * KH[t] + KC[t]
        })
      }}}}}
    }
  }
  return (gx, tangent, gGamma, gGammaT, gBeta, gBetaT)
}

extension Variable {
  /// Batch normalization with batch statistics over every axis but the last, scale γ and
  /// shift β (both [C]), as one fused primitive with exact tangents (formulas at the top of
  /// this file), including the coupling of every output through μ and σ². Also returns the
  /// batch mean and (biased) variance for the running statistics. Pre-specialized here, as
  /// `layerNormalized` is, because the kernels' own `@_specialize` emits nothing (Swift 6.3).
  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func batchNormalized(scale gamma: Variable, bias beta: Variable, epsilon: S)
    -> (output: Variable, mean: Tensor<S>, variance: Tensor<S>)
  {
    let c = shape.last ?? 0
    precondition(rank >= 2 && c > 0 && primal.count > 0, "batch norm needs a non-empty [.., C] input, got \(shape)")
    precondition(gamma.shape == [c] && beta.shape == [c],
                 "batch norm scale \(gamma.shape) and bias \(beta.shape) must be [\(c)]")
    let x = value, g = gamma.value
    let (y, yt, variance, stats) = batchNormKernel(
      x.primal, x.tangent, g.primal, g.tangent, beta.value.primal, beta.value.tangent, epsilon: epsilon)
    let out = Variable.record(Dual(y, tangent: yt), inputs: [self, gamma, beta]) { cot, needs in
      let r = batchNormPullbackKernel(
        x.primal, x.tangent, stats, g.primal, g.tangent, cot.primal, cot.tangent, wantInput: needs[0])
      return [r.gx.map { Dual($0, tangent: r.gxT) },
              needs[1] ? Dual(r.gGamma, tangent: r.gGammaT) : nil,
              needs[2] ? Dual(r.gBeta, tangent: r.gBetaT) : nil]
    }
    return (out, Tensor(shape: [c], scalars: stats.mean), Tensor(shape: [c], scalars: variance))
  }
}
