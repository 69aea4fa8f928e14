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
// passes of the composed ops (`BatchNorm.composed`, kept as the tests' reference).

/// Per-channel statistics the forward pass hands to the pullback: μ, r, and (zeros when ẋ is
/// nil) the tangent moments a = mean(ẋ), b = mean(x̂ẋ).
@usableFromInline
struct BatchNormStatistics<S: TensorScalar> {
  var mean: [S], rstd: [S], tangentMean: [S], tangentMoment: [S]
}

/// Column sums of an [M, C] matrix into `acc` (C entries, added to).
@inlinable @inline(__always)
func columnSums<S: TensorScalar>(
  _ rows: Int, _ c: Int, _ acc: UnsafeMutablePointer<S>, _ term: (Int, Int) -> S
) {
  for r in 0..<rows {
    for j in 0..<c { acc[j] += term(r * c + j, j) }
  }
}

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
  var mean = [S](repeating: 0, count: c), variance = [S](repeating: 0, count: c)
  var rstd = [S](repeating: 0, count: c)
  var a = [S](repeating: 0, count: c), b = [S](repeating: 0, count: c)
  // Per-channel coefficients of the affine write passes.
  var p = [S](repeating: 0, count: c), q = [S](repeating: 0, count: c), s = [S](repeating: 0, count: c)
  let y = Tensor<S>(shape: x.shape) { out in
    x.withUnsafeBufferPointer { px in
      gamma.withUnsafeBufferPointer { pg in
        beta.withUnsafeBufferPointer { pb in
          mean.withUnsafeMutableBufferPointer { pmu in
            variance.withUnsafeMutableBufferPointer { pvar in
              rstd.withUnsafeMutableBufferPointer { pr in
                let X = px.baseAddress!, G = pg.baseAddress!, B = pb.baseAddress!, O = out.baseAddress!
                let MU = pmu.baseAddress!, VAR = pvar.baseAddress!, R = pr.baseAddress!
                columnSums(m, c, MU) { i, _ in X[i] }
                for j in 0..<c { MU[j] *= invM }
                columnSums(m, c, VAR) { i, j in let d = X[i] - MU[j]; return d * d }
                for j in 0..<c {
                  VAR[j] *= invM
                  R[j] = 1 / (VAR[j] + epsilon).squareRoot()
                }
                // y = (x − μ)·(rγ) + β.
                for r in 0..<m {
                  let xr = X + r * c, o = O + r * c
                  for j in 0..<c { o[j] = (xr[j] - MU[j]) * (R[j] * G[j]) + B[j] }
                }
              }
            }
          }
        }
      }
    }
  }
  if xt == nil && gammaT == nil && betaT == nil {
    return (y, nil, variance, BatchNormStatistics(mean: mean, rstd: rstd, tangentMean: a, tangentMoment: b))
  }
  let gammaT = gammaT ?? Tensor(zeros: [c]), betaT = betaT ?? Tensor(zeros: [c])
  let yt = Tensor<S>(shape: x.shape) { out in
    x.withUnsafeBufferPointer { px in
      gamma.withUnsafeBufferPointer { pg in
        gammaT.withUnsafeBufferPointer { pgt in
          betaT.withUnsafeBufferPointer { pbt in
            mean.withUnsafeBufferPointer { pmu in
              rstd.withUnsafeBufferPointer { pr in
                a.withUnsafeMutableBufferPointer { pa in
                  b.withUnsafeMutableBufferPointer { pbm in
                    p.withUnsafeMutableBufferPointer { pp in
                      q.withUnsafeMutableBufferPointer { pq in
                        s.withUnsafeMutableBufferPointer { ps in
                          let X = px.baseAddress!, G = pg.baseAddress!, GT = pgt.baseAddress!, BT = pbt.baseAddress!
                          let MU = pmu.baseAddress!, R = pr.baseAddress!, A = pa.baseAddress!, BM = pbm.baseAddress!
                          let P = pp.baseAddress!, Q = pq.baseAddress!, SH = ps.baseAddress!, O = out.baseAddress!
                          if let xt {
                            xt.withUnsafeBufferPointer { pxt in
                              let XT = pxt.baseAddress!
                              columnSums(m, c, A) { i, _ in XT[i] }
                              columnSums(m, c, BM) { i, j in (X[i] - MU[j]) * R[j] * XT[i] }
                            }
                            for j in 0..<c { A[j] *= invM; BM[j] *= invM }
                          }
                          // ẏ = γr·(ẋ − a − x̂b) + x̂γ̇ + β̇ = ẋ·P + x̂·Q + SH with
                          // P = γr, Q = γ̇ − γrb, SH = β̇ − γra.
                          for j in 0..<c {
                            P[j] = G[j] * R[j]
                            Q[j] = GT[j] - P[j] * BM[j]
                            SH[j] = BT[j] - P[j] * A[j]
                          }
                          if let xt {
                            xt.withUnsafeBufferPointer { pxt in
                              let XT = pxt.baseAddress!
                              for r in 0..<m {
                                let xr = X + r * c, tr = XT + r * c, o = O + r * c
                                for j in 0..<c { o[j] = tr[j] * P[j] + (xr[j] - MU[j]) * R[j] * Q[j] + SH[j] }
                              }
                            }
                          } else {
                            for r in 0..<m {
                              let xr = X + r * c, o = O + r * c
                              for j in 0..<c { o[j] = (xr[j] - MU[j]) * R[j] * Q[j] + SH[j] }
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
        }
      }
    }
  }
  return (y, yt, variance, BatchNormStatistics(mean: mean, rstd: rstd, tangentMean: a, tangentMoment: b))
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
  let gammaT = gammaT ?? Tensor(zeros: [c])
  // Column sums Σḡ, Σḡx̂ and, for the tangent, Σġ, Σ(ġx̂ + ḡx̂̇): four rows of C scalars.
  var scratch = [S](repeating: 0, count: 4 * c)
  // The per-channel coefficients of the write pass: seven rows of C scalars.
  var coef = [S](repeating: 0, count: 7 * c)
  var gx: Tensor<S>? = nil, gxT: Tensor<S>? = nil
  x.withUnsafeBufferPointer { px in
  xt.withUnsafeBufferPointer { pxt in
  g.withUnsafeBufferPointer { pg in
  gt.withUnsafeBufferPointer { pgt in
  gamma.withUnsafeBufferPointer { pgam in
  gammaT.withUnsafeBufferPointer { pgamt in
  stats.mean.withUnsafeBufferPointer { pmu in
  stats.rstd.withUnsafeBufferPointer { pr in
  stats.tangentMean.withUnsafeBufferPointer { pa in
  stats.tangentMoment.withUnsafeBufferPointer { pb in
  scratch.withUnsafeMutableBufferPointer { psc in
  coef.withUnsafeMutableBufferPointer { pco in
    let X = px.baseAddress!, G = pg.baseAddress!, GAM = pgam.baseAddress!, GAMT = pgamt.baseAddress!
    let MU = pmu.baseAddress!, R = pr.baseAddress!, TA = pa.baseAddress!, TB = pb.baseAddress!
    let SG = psc.baseAddress!, SGX = SG + c, SGT = SG + 2 * c, SGXT = SG + 3 * c
    let C0 = pco.baseAddress!
    let P = C0, QB = C0 + c, QA = C0 + 2 * c, KK = C0 + 3 * c, KX = C0 + 4 * c, KH = C0 + 5 * c, KC = C0 + 6 * c
    if withTangent {
      let XT = pxt.baseAddress!, GT = pgt.baseAddress!
      for r in 0..<m {
        let o = r * c
        for j in 0..<c {
          let h = (X[o + j] - MU[j]) * R[j]
          let hdot = R[j] * (XT[o + j] - TA[j] - h * TB[j])
          SG[j] += G[o + j]
          SGX[j] += G[o + j] * h
          SGT[j] += GT[o + j]
          SGXT[j] += GT[o + j] * h + G[o + j] * hdot
        }
      }
    } else {
      for r in 0..<m {
        let o = r * c
        for j in 0..<c {
          let h = (X[o + j] - MU[j]) * R[j]
          SG[j] += G[o + j]
          SGX[j] += G[o + j] * h
        }
      }
    }
    guard wantInput else { return }
    if !withTangent {
      // x̄ = rγ·(ḡ − A − x̂B) = ḡ·P + x̂·QB + QA.
      for j in 0..<c {
        P[j] = R[j] * GAM[j]
        QB[j] = -P[j] * SGX[j] * invM
        QA[j] = -P[j] * SG[j] * invM
      }
      gx = Tensor<S>(shape: x.shape) { out in
        let O = out.baseAddress!
        for r in 0..<m {
          let o = r * c
          for j in 0..<c { O[o + j] = G[o + j] * P[j] + (X[o + j] - MU[j]) * R[j] * QB[j] + QA[j] }
        }
      }
      return
    }
    // With P = rγ, K = ṙγ + rγ̇ and x̂̇ = r·(ẋ − a − x̂b):
    //   x̄ = P·ḡ − P·B·x̂ − P·A,
    //   x̄̇ = K·(ḡ − A − x̂B) + P·(ġ − Ȧ − x̂̇B − x̂Ḃ)
    //      = K·ḡ + P·ġ − P·B·r·ẋ + x̂·(−K·B + P·B·r·b − P·Ḃ) + (−K·A − P·Ȧ + P·B·r·a).
    for j in 0..<c {
      let A = SG[j] * invM, B = SGX[j] * invM, Ad = SGT[j] * invM, Bd = SGXT[j] * invM
      let p = R[j] * GAM[j]
      let k = -R[j] * R[j] * TB[j] * GAM[j] + R[j] * GAMT[j]  // ṙγ + rγ̇ with ṙ = −r²b
      P[j] = p                                     // ḡ in x̄, ġ in x̄̇
      QB[j] = -p * B                               // x̂ in x̄
      QA[j] = -p * A                               // constant in x̄
      KK[j] = k                                    // ḡ in x̄̇
      KX[j] = -p * B * R[j]                        // ẋ in x̄̇
      KH[j] = -k * B + p * B * R[j] * TB[j] - p * Bd  // x̂ in x̄̇
      KC[j] = -k * A - p * Ad + p * B * R[j] * TA[j]  // constant in x̄̇
    }
    do {
      let XT = pxt.baseAddress!, GT = pgt.baseAddress!
      var tangent = Tensor<S>(zeros: [0])
      gx = Tensor<S>(shape: x.shape) { out in
        tangent = Tensor<S>(shape: x.shape) { tout in
          let O = out.baseAddress!, TO = tout.baseAddress!
          for r in 0..<m {
            let o = r * c
            for j in 0..<c {
              let h = (X[o + j] - MU[j]) * R[j]
              O[o + j] = G[o + j] * P[j] + h * QB[j] + QA[j]
              TO[o + j] = G[o + j] * KK[j] + GT[o + j] * P[j] + XT[o + j] * KX[j] + h * KH[j] + KC[j]
            }
          }
        }
      }
      gxT = tangent
    }
  }}}}}}}}}}}}
  // γ̄ = Σḡx̂ = M·B, β̄ = Σḡ = M·A; their tangents Σ(ġx̂ + ḡx̂̇), Σġ.
  let sums = scratch
  func row(_ k: Int) -> Tensor<S> { Tensor(shape: [c], scalars: Array(sums[(k * c)..<((k + 1) * c)])) }
  return (gx, gxT, row(1), withTangent ? row(3) : nil, row(0), withTangent ? row(2) : nil)
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
