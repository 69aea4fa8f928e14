// Layer normalization as one fused primitive. Per row of width D, with γ, β of shape [D]:
//   μ = mean(x), r = (mean((x − μ)²) + ε)^(−1/2), x̂ = (x − μ)·r, y = x̂·γ + β.
// Derivatives used below (means over the row):
//   forward tangent  x̂̇ = r·(ẋ − mean(ẋ) − x̂·mean(x̂ẋ)),  ṙ = −r²·mean(x̂ẋ),  ẏ = x̂̇γ + x̂γ̇ + β̇;
//   pullback        ĝ = ḡγ,  x̄ = r·(ĝ − mean(ĝ) − x̂·mean(ĝx̂)),  γ̄ = Σ_rows ḡx̂,  β̄ = Σ_rows ḡ;
//   its tangent     ĝ̇ = ġγ + ḡγ̇,
//                   x̄̇ = ṙ·(ĝ − mean(ĝ) − x̂·mean(ĝx̂)) + r·(ĝ̇ − mean(ĝ̇) − x̂̇·mean(ĝx̂) − x̂·mean(ĝ̇x̂ + ĝx̂̇)),
//                   γ̄̇ = Σ_rows (ġx̂ + ḡx̂̇),  β̄̇ = Σ_rows ġ.
// One pass per row instead of about ten element-wise ops (and twenty in the pullback).

/// Forward: y, optional ẏ (when any tangent is given; missing ones are zero), and the row
/// statistics μ and r the pullback reuses.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func layerNormKernel<S: TensorScalar>(
  _ x: Tensor<S>, _ xt: Tensor<S>?, _ gamma: Tensor<S>, _ gammaT: Tensor<S>?,
  _ beta: Tensor<S>, _ betaT: Tensor<S>?, epsilon: S
) -> (Tensor<S>, Tensor<S>?, Tensor<S>, Tensor<S>) {
  let d = x.shape.last ?? 1
  let rows = d == 0 ? 0 : x.count / d
  var mean = [S](repeating: 0, count: rows), rstd = [S](repeating: 0, count: rows)
  let y = Tensor<S>(shape: x.shape) { out in
    x.withUnsafeBufferPointer { px in
      gamma.withUnsafeBufferPointer { pg in
        beta.withUnsafeBufferPointer { pb in
          let X = px.baseAddress!, G = pg.baseAddress!, B = pb.baseAddress!, O = out.baseAddress!
          for r in 0..<rows {
            let xr = X + r * d, o = O + r * d
            let mu = rowSum(xr, d) / S(d)
            for j in 0..<d { o[j] = xr[j] - mu }
            let inv = 1 / (rowDot(UnsafePointer(o), UnsafePointer(o), d) / S(d) + epsilon).squareRoot()
            mean[r] = mu
            rstd[r] = inv
            for j in 0..<d { o[j] = o[j] * inv * G[j] + B[j] }
          }
        }
      }
    }
  }
  let meanT = Tensor(shape: [rows], scalars: mean), rstdT = Tensor(shape: [rows], scalars: rstd)
  if xt == nil && gammaT == nil && betaT == nil { return (y, nil, meanT, rstdT) }
  let xt = xt ?? Tensor(zeros: x.shape), gammaT = gammaT ?? Tensor(zeros: [d]), betaT = betaT ?? Tensor(zeros: [d])
  var xhat = [S](repeating: 0, count: d)
  let yt = Tensor<S>(shape: x.shape) { out in
    x.withUnsafeBufferPointer { px in
      xt.withUnsafeBufferPointer { pxt in
        gamma.withUnsafeBufferPointer { pg in
          gammaT.withUnsafeBufferPointer { pgt in
            betaT.withUnsafeBufferPointer { pbt in
              xhat.withUnsafeMutableBufferPointer { ph in
                let X = px.baseAddress!, XT = pxt.baseAddress!, G = pg.baseAddress!, GT = pgt.baseAddress!
                let BT = pbt.baseAddress!, H = ph.baseAddress!, O = out.baseAddress!
                for r in 0..<rows {
                  let xr = X + r * d, tr = XT + r * d, o = O + r * d
                  let mu = mean[r], inv = rstd[r]
                  for j in 0..<d { H[j] = (xr[j] - mu) * inv }
                  let a = rowSum(tr, d) / S(d), b = rowDot(UnsafePointer(H), tr, d) / S(d)
                  for j in 0..<d {
                    let hdot = inv * (tr[j] - a - H[j] * b)
                    o[j] = hdot * G[j] + H[j] * GT[j] + BT[j]
                  }
                }
              }
            }
          }
        }
      }
    }
  }
  return (y, yt, meanT, rstdT)
}

/// The pullback (x̄, γ̄, β̄) and, when any of ẋ, γ̇, ġ is given, their tangents.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func layerNormPullbackKernel<S: TensorScalar>(
  _ x: Tensor<S>, _ xt: Tensor<S>?, mean meanT: Tensor<S>, rstd rstdT: Tensor<S>, _ gamma: Tensor<S>, _ gammaT: Tensor<S>?,
  _ g: Tensor<S>, _ gt: Tensor<S>?
) -> (Tensor<S>, Tensor<S>?, Tensor<S>, Tensor<S>?, Tensor<S>, Tensor<S>?) {
  precondition(g.shape == x.shape, "layer norm pullback: \(g.shape) vs \(x.shape)")
  let d = x.shape.last ?? 1
  let rows = d == 0 ? 0 : x.count / d
  let withTangent = xt != nil || gammaT != nil || gt != nil
  let mean = meanT.scalars, rstd = rstdT.scalars
  let xt = xt ?? Tensor(zeros: withTangent ? x.shape : [0])
  let gammaT = gammaT ?? Tensor(zeros: withTangent ? [d] : [0])
  let gt = gt ?? Tensor(zeros: withTangent ? x.shape : [0])
  var gGamma = Tensor<S>(zeros: [d]), gBeta = Tensor<S>(zeros: [d])
  var gGammaT = Tensor<S>(zeros: withTangent ? [d] : [0]), gBetaT = Tensor<S>(zeros: withTangent ? [d] : [0])
  var gxT = Tensor<S>(zeros: [0])
  var scratch = [S](repeating: 0, count: 4 * d)
  let gx = Tensor<S>(shape: x.shape) { out in
    gxT = Tensor<S>(shape: withTangent ? x.shape : [0]) { tout in
      x.withUnsafeBufferPointer { px in
      xt.withUnsafeBufferPointer { pxt in
      gamma.withUnsafeBufferPointer { pgam in
      gammaT.withUnsafeBufferPointer { pgamt in
      g.withUnsafeBufferPointer { pg in
      gt.withUnsafeBufferPointer { pgt in
      gGamma.withUnsafeMutableBufferPointer { pGG in
      gBeta.withUnsafeMutableBufferPointer { pGB in
      gGammaT.withUnsafeMutableBufferPointer { pGGT in
      gBetaT.withUnsafeMutableBufferPointer { pGBT in
      scratch.withUnsafeMutableBufferPointer { psc in
        let X = px.baseAddress!, GAM = pgam.baseAddress!, G = pg.baseAddress!, O = out.baseAddress!
        let GG = pGG.baseAddress!, GB = pGB.baseAddress!
        // Row scratch: x̂, ĝ, x̂̇, ĝ̇.
        let H = psc.baseAddress!, GH = H + d, HD = H + 2 * d, GHD = H + 3 * d
        for r in 0..<rows {
          let xr = X + r * d, gr = G + r * d, o = O + r * d
          let mu = mean[r], inv = rstd[r]
          for j in 0..<d {
            H[j] = (xr[j] - mu) * inv
            GH[j] = gr[j] * GAM[j]
          }
          let m1 = rowSum(UnsafePointer(GH), d) / S(d)
          let m2 = rowDot(UnsafePointer(GH), UnsafePointer(H), d) / S(d)
          for j in 0..<d {
            o[j] = inv * (GH[j] - m1 - H[j] * m2)
            GG[j] += gr[j] * H[j]
            GB[j] += gr[j]
          }
          guard withTangent else { continue }
          let XT = pxt.baseAddress!, GAMT = pgamt.baseAddress!, GT = pgt.baseAddress!
          let GGT = pGGT.baseAddress!, GBT = pGBT.baseAddress!, TO = tout.baseAddress!
          let tr = XT + r * d, gtr = GT + r * d, to = TO + r * d
          let a = rowSum(tr, d) / S(d), b = rowDot(UnsafePointer(H), tr, d) / S(d)
          let rdot = -inv * inv * b
          for j in 0..<d {
            HD[j] = inv * (tr[j] - a - H[j] * b)
            GHD[j] = gtr[j] * GAM[j] + gr[j] * GAMT[j]
          }
          let m1dot = rowSum(UnsafePointer(GHD), d) / S(d)
          let m2dot = (rowDot(UnsafePointer(GHD), UnsafePointer(H), d) + rowDot(UnsafePointer(GH), UnsafePointer(HD), d)) / S(d)
          for j in 0..<d {
            to[j] = rdot * (GH[j] - m1 - H[j] * m2) + inv * (GHD[j] - m1dot - HD[j] * m2 - H[j] * m2dot)
            GGT[j] += gtr[j] * H[j] + gr[j] * HD[j]
            GBT[j] += gtr[j]
          }
        }
      }}}}}}}}}}}
    }
  }
  return (gx, withTangent ? gxT : nil, gGamma, withTangent ? gGammaT : nil, gBeta, withTangent ? gBetaT : nil)
}

extension Variable {
  /// Layer normalization over the last axis with scale γ and shift β (both [D]), as one fused
  /// primitive with exact tangents (formulas at the top of this file). Pre-specialized here
  /// because the kernels' own `@_specialize` emits nothing (Swift 6.3): from these entry points
  /// the kernels specialize as ordinary callees.
  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public func layerNormalized(scale gamma: Variable, bias beta: Variable, epsilon: S) -> Variable {
    let d = shape.last ?? 0
    precondition(rank >= 1 && d > 0, "layer norm needs a non-empty last axis, got \(shape)")
    precondition(gamma.shape == [d] && beta.shape == [d],
                 "layer norm scale \(gamma.shape) and bias \(beta.shape) must be [\(d)]")
    let x = value, g = gamma.value
    let (y, yt, mean, rstd) = layerNormKernel(
      x.primal, x.tangent, g.primal, g.tangent, beta.value.primal, beta.value.tangent, epsilon: epsilon)
    return Variable.record(Dual(y, tangent: yt), inputs: [self, gamma, beta]) { cot, needs in
      let (gx, gxT, gGamma, gGammaT, gBeta, gBetaT) = layerNormPullbackKernel(
        x.primal, x.tangent, mean: mean, rstd: rstd, g.primal, g.tangent, cot.primal, cot.tangent)
      return [needs[0] ? Dual(gx, tangent: gxT) : nil,
              needs[1] ? Dual(gGamma, tangent: gGammaT) : nil,
              needs[2] ? Dual(gBeta, tangent: gBetaT) : nil]
    }
  }
}
