import RealModule

// Fused kernels for the hottest composite ops (softmax, GELU, ReLU's pullback). Each replaces
// a chain of element-wise passes by one loop, and carries its exact tangent rule, so the
// forward-over-reverse HVP stays exact. Optional tangents are nil = zero, as everywhere.

// MARK: - Softmax over the last axis

/// Σ a[j]·b[j] with eight independent accumulators, so the loop vectorizes without
/// reassociation licence.
@inlinable @inline(__always)
func rowDot<S: TensorScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ n: Int) -> S {
  var acc = (S(0), S(0), S(0), S(0), S(0), S(0), S(0), S(0))
  var j = 0
  while j + 8 <= n {
    acc.0 += a[j] * b[j]; acc.1 += a[j + 1] * b[j + 1]; acc.2 += a[j + 2] * b[j + 2]; acc.3 += a[j + 3] * b[j + 3]
    acc.4 += a[j + 4] * b[j + 4]; acc.5 += a[j + 5] * b[j + 5]; acc.6 += a[j + 6] * b[j + 6]; acc.7 += a[j + 7] * b[j + 7]
    j += 8
  }
  var s = ((acc.0 + acc.1) + (acc.2 + acc.3)) + ((acc.4 + acc.5) + (acc.6 + acc.7))
  while j < n { s += a[j] * b[j]; j += 1 }
  return s
}

/// Σ a[j], eight accumulators.
@inlinable @inline(__always)
func rowSum<S: TensorScalar>(_ a: UnsafePointer<S>, _ n: Int) -> S {
  var acc = (S(0), S(0), S(0), S(0), S(0), S(0), S(0), S(0))
  var j = 0
  while j + 8 <= n {
    acc.0 += a[j]; acc.1 += a[j + 1]; acc.2 += a[j + 2]; acc.3 += a[j + 3]
    acc.4 += a[j + 4]; acc.5 += a[j + 5]; acc.6 += a[j + 6]; acc.7 += a[j + 7]
    j += 8
  }
  var s = ((acc.0 + acc.1) + (acc.2 + acc.3)) + ((acc.4 + acc.5) + (acc.6 + acc.7))
  while j < n { s += a[j]; j += 1 }
  return s
}

/// max a[j], eight lanes.
@inlinable @inline(__always)
func rowMax<S: TensorScalar>(_ a: UnsafePointer<S>, _ n: Int) -> S {
  var m = (-S.infinity, -S.infinity, -S.infinity, -S.infinity, -S.infinity, -S.infinity, -S.infinity, -S.infinity)
  var j = 0
  while j + 8 <= n {
    m.0 = Swift.max(m.0, a[j]); m.1 = Swift.max(m.1, a[j + 1]); m.2 = Swift.max(m.2, a[j + 2]); m.3 = Swift.max(m.3, a[j + 3])
    m.4 = Swift.max(m.4, a[j + 4]); m.5 = Swift.max(m.5, a[j + 5]); m.6 = Swift.max(m.6, a[j + 6]); m.7 = Swift.max(m.7, a[j + 7])
    j += 8
  }
  var r = Swift.max(Swift.max(Swift.max(m.0, m.1), Swift.max(m.2, m.3)), Swift.max(Swift.max(m.4, m.5), Swift.max(m.6, m.7)))
  while j < n { r = Swift.max(r, a[j]); j += 1 }
  return r
}

/// The number of live entries of row r: all n, or with `causal` (the last two axes are a
/// square [T, T] of query × key) the keys 0...t of query t = r mod T. Entries past it are
/// exactly 0 in s, ṡ and every cotangent, as a −∞ mask before the softmax would give.
@inlinable @inline(__always)
func liveLength(row r: Int, n: Int, causal: Bool) -> Int { causal ? r % n + 1 : n }

/// s = softmax(x) row-wise, and (when ẋ is given) ṡ = s ⊙ (ẋ − ⟨s, ẋ⟩).
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func softmaxKernel<S: TensorScalar>(_ x: Tensor<S>, _ xt: Tensor<S>?, causal: Bool) -> (Tensor<S>, Tensor<S>?) {
  let n = x.shape.last ?? 1
  let rows = n == 0 ? 0 : x.count / n
  if causal {
    precondition(x.rank >= 2 && x.shape[x.rank - 2] == n, "causal softmax needs square [.., T, T] scores, got \(x.shape)")
  }
  let s = Tensor<S>(shape: x.shape) { out in
    x.withUnsafeBufferPointer { px in
      let X = px.baseAddress!, O = out.baseAddress!
      for r in 0..<rows {
        let xr = X + r * n, orow = O + r * n
        let live = liveLength(row: r, n: n, causal: causal)
        let m = rowMax(xr, live)
        for j in 0..<live { orow[j] = S.fastExp(xr[j] - m) }
        let inv = 1 / rowSum(UnsafePointer(orow), live)
        for j in 0..<live { orow[j] *= inv }
        for j in live..<n { orow[j] = 0 }
      }
    }
  }
  guard let xt else { return (s, nil) }
  // ṡ = s ⊙ (ẋ − ⟨s, ẋ⟩) is the softmax's own vector–Jacobian product applied to ẋ (its
  // Jacobian is symmetric): the pullback's primal part, same rows, same arithmetic.
  let st = softmaxPullbackKernel(s, nil, xt, nil, causal: causal).0
  return (s, st)
}

/// The softmax pullback x̄ = s ⊙ (g − ⟨s, g⟩) row-wise, with its tangent
/// ṡ ⊙ (g − ⟨s, g⟩) + s ⊙ (ġ − ⟨ṡ, g⟩ − ⟨s, ġ⟩). (Masked entries have s = ṡ = 0, so they
/// contribute nothing and get nothing.)
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func softmaxPullbackKernel<S: TensorScalar>(
  _ s: Tensor<S>, _ st: Tensor<S>?, _ g: Tensor<S>, _ gt: Tensor<S>?, causal: Bool
) -> (Tensor<S>, Tensor<S>?) {
  precondition(s.shape == g.shape, "softmax pullback: \(s.shape) vs \(g.shape)")
  let n = s.shape.last ?? 1
  let rows = n == 0 ? 0 : s.count / n
  var dots = [S](repeating: 0, count: rows)
  let primal = Tensor<S>(shape: s.shape) { out in
    s.withUnsafeBufferPointer { ps in
      g.withUnsafeBufferPointer { pg in
        let Sp = ps.baseAddress!, G = pg.baseAddress!, O = out.baseAddress!
        for r in 0..<rows {
          let o = r * n
          let live = liveLength(row: r, n: n, causal: causal)
          let dot = rowDot(Sp + o, G + o, live)
          dots[r] = dot
          for j in 0..<live { O[o + j] = Sp[o + j] * (G[o + j] - dot) }
          for j in live..<n { O[o + j] = 0 }
        }
      }
    }
  }
  if st == nil && gt == nil { return (primal, nil) }
  let st = st ?? Tensor(zeros: s.shape), gt = gt ?? Tensor(zeros: s.shape)
  let tangent = Tensor<S>(shape: s.shape) { out in
    s.withUnsafeBufferPointer { ps in
      g.withUnsafeBufferPointer { pg in
        st.withUnsafeBufferPointer { pst in
          gt.withUnsafeBufferPointer { pgt in
            let Sp = ps.baseAddress!, G = pg.baseAddress!, O = out.baseAddress!
            let ST = pst.baseAddress!, GT = pgt.baseAddress!
            for r in 0..<rows {
              let o = r * n, dot = dots[r]
              let live = liveLength(row: r, n: n, causal: causal)
              let c = rowDot(ST + o, G + o, live) + rowDot(Sp + o, GT + o, live)
              for j in 0..<live {
                O[o + j] = ST[o + j] * (G[o + j] - dot) + Sp[o + j] * (GT[o + j] - c)
              }
              for j in live..<n { O[o + j] = 0 }
            }
          }
        }
      }
    }
  }
  return (primal, tangent)
}

extension Dual {
  /// Softmax over the last axis; tangent s ⊙ (ẋ − ⟨s, ẋ⟩). With `causal`, the last two axes
  /// are [T, T] (query, key) and key j > query i gets probability exactly 0.
  public func softmaxLastAxis(causal: Bool = false) -> Dual {
    let (s, st) = softmaxKernel(primal, tangent, causal: causal)
    return Dual(s, tangent: st)
  }

  /// The pullback of softmax at output s for cotangent g (fused, exact tangent).
  public static func softmaxPullback(output s: Dual, cotangent g: Dual, causal: Bool = false) -> Dual {
    let (p, t) = softmaxPullbackKernel(s.primal, s.tangent, g.primal, g.tangent, causal: causal)
    return Dual(p, tangent: t)
  }
}

// MARK: - GELU

/// GELU and its first two derivatives at x, with Φ the normal CDF and φ its density:
/// y = xΦ(x), y′ = Φ(x) + xφ(x), y″ = φ(x)(2 − x²).
@inlinable @inline(__always)
func geluTerms<S: TensorScalar>(_ x: S) -> (cdf: S, pdf: S) {
  let cdf = S(0.5) * (1 + S.fastErf(x * S(0.70710678118654752440)))
  let pdf = S.fastExp(S(-0.5) * x * x) * S(0.39894228040143267794)
  return (cdf, pdf)
}

/// y = GELU(x) and, when ẋ is given, ẏ = y′(x)·ẋ.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func geluKernel<S: TensorScalar>(_ x: Tensor<S>, _ xt: Tensor<S>?) -> (Tensor<S>, Tensor<S>?) {
  let n = x.count
  guard let xt else {
    return (Tensor(shape: x.shape) { out in
      x.withUnsafeBufferPointer { X in
        for i in 0..<n { out[i] = X[i] * S(0.5) * (1 + S.fastErf(X[i] * S(0.70710678118654752440))) }
      }
    }, nil)
  }
  var tangent = Tensor<S>(zeros: [0])
  let y = Tensor<S>(shape: x.shape) { out in
    tangent = Tensor<S>(shape: x.shape) { tout in
      x.withUnsafeBufferPointer { X in
        xt.withUnsafeBufferPointer { T in
          for i in 0..<n {
            let (cdf, pdf) = geluTerms(X[i])
            out[i] = X[i] * cdf
            tout[i] = (cdf + X[i] * pdf) * T[i]
          }
        }
      }
    }
  }
  return (y, tangent)
}

/// The GELU pullback x̄ = g·y′(x), with tangent ġ·y′(x) + g·y″(x)·ẋ.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func geluPullbackKernel<S: TensorScalar>(
  _ x: Tensor<S>, _ xt: Tensor<S>?, _ g: Tensor<S>, _ gt: Tensor<S>?
) -> (Tensor<S>, Tensor<S>?) {
  precondition(x.shape == g.shape, "GELU pullback: \(x.shape) vs \(g.shape)")
  let n = x.count
  if xt == nil && gt == nil {
    return (Tensor(shape: x.shape) { out in
      x.withUnsafeBufferPointer { X in
        g.withUnsafeBufferPointer { G in
          for i in 0..<n {
            let (cdf, pdf) = geluTerms(X[i])
            out[i] = G[i] * (cdf + X[i] * pdf)
          }
        }
      }
    }, nil)
  }
  // One loop for both tangent terms (a missing one is zero): erf and exp once per element.
  let xt = xt ?? Tensor(zeros: x.shape), gt = gt ?? Tensor(zeros: x.shape)
  var tangent = Tensor<S>(zeros: [0])
  let primal = Tensor<S>(shape: x.shape) { out in
    tangent = Tensor<S>(shape: x.shape) { tout in
      x.withUnsafeBufferPointer { X in
        g.withUnsafeBufferPointer { G in
          gt.withUnsafeBufferPointer { GT in
            xt.withUnsafeBufferPointer { XT in
              for i in 0..<n {
                let x = X[i]
                let (cdf, pdf) = geluTerms(x)
                let d1 = cdf + x * pdf
                out[i] = G[i] * d1
                tout[i] = GT[i] * d1 + G[i] * pdf * (2 - x * x) * XT[i]
              }
            }
          }
        }
      }
    }
  }
  return (primal, tangent)
}

extension Dual {
  /// GELU(x) = xΦ(x) with tangent (Φ + xφ)·ẋ.
  public func gelu() -> Dual {
    let (y, t) = geluKernel(primal, tangent)
    return Dual(y, tangent: t)
  }

  /// The GELU pullback at input x for cotangent g (fused, exact tangent).
  public static func geluPullback(input x: Dual, cotangent g: Dual) -> Dual {
    let (p, t) = geluPullbackKernel(x.primal, x.tangent, g.primal, g.tangent)
    return Dual(p, tangent: t)
  }
}

// MARK: - ReLU

/// g ⊙ [y > 0] (and the same mask on ġ): ReLU's pullback read from its output y, since
/// y > 0 ⇔ x > 0. The mask is piecewise constant, so this is the exact tangent a.e.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func positiveMaskKernel<S: TensorScalar>(_ g: Tensor<S>, where y: Tensor<S>) -> Tensor<S> {
  precondition(g.shape == y.shape, "ReLU pullback: \(g.shape) vs \(y.shape)")
  return Tensor(shape: g.shape) { out in
    g.withUnsafeBufferPointer { G in
      y.withUnsafeBufferPointer { Y in
        let Gp = G.baseAddress!, Yp = Y.baseAddress!, O = out.baseAddress!
        // Both loads unconditional and a select, so the loop vectorizes.
        for i in 0..<G.count {
          let g = Gp[i], y = Yp[i]
          O[i] = y > 0 ? g : 0
        }
      }
    }
  }
}

extension Dual {
  /// ReLU with its tangent ẋ ⊙ [x > 0], one pass each.
  public func relu() -> Dual {
    let y = primal.applying(.relu)
    return Dual(y, tangent: tangent.map { positiveMaskKernel($0, where: primal) })
  }

  /// ReLU's pullback at output y: ḡ ⊙ [y > 0], tangent ġ ⊙ [y > 0]. With `primal: false` the
  /// primal is left uninitialized (nobody reads it, see `CotangentUse`).
  public static func reluPullback(output y: Tensor<S>, cotangent g: Dual, primal: Bool = true) -> Dual {
    Dual(primal ? positiveMaskKernel(g.primal, where: y) : Tensor(uninitializedShape: g.shape),
         tangent: g.tangent.map { positiveMaskKernel($0, where: y) })
  }
}
