/// A tensor with an optional tangent: the value type of forward-mode differentiation.
///
/// Reverse-mode pullbacks (see `Variable`) are written in `Dual` operations, so when the
/// parameters carry a tangent v the backward pass computes, alongside the gradient g, its
/// directional derivative ∂g·v = Hv exactly (forward-over-reverse, Pearlmutter 1994). A nil
/// tangent means zero: plain gradients pay no forward-mode cost.
public struct Dual<S: TensorScalar>: @unchecked Sendable {
  public var primal: Tensor<S>
  public var tangent: Tensor<S>?

  @inlinable public init(_ primal: Tensor<S>, tangent: Tensor<S>? = nil) {
    if let t = tangent { precondition(t.shape == primal.shape, "tangent \(t.shape) vs primal \(primal.shape)") }
    self.primal = primal
    self.tangent = tangent
  }

  @inlinable public var shape: [Int] { primal.shape }
}

/// Adds optional tangents; nil is zero.
@inlinable
func addTangents<S>(_ a: Tensor<S>?, _ b: Tensor<S>?) -> Tensor<S>? {
  switch (a, b) {
  case (nil, nil): return nil
  case (let x?, nil): return x
  case (nil, let y?): return y
  case (let x?, let y?): return x + y
  }
}

// MARK: - Linear structure

extension Dual {
  @inlinable public static func + (a: Dual, b: Dual) -> Dual {
    let p = a.primal + b.primal
    var t: Tensor<S>? = nil
    switch (a.tangent, b.tangent) {
    case (nil, nil): break
    case (let x?, nil): t = x.broadcast(to: p.shape)
    case (nil, let y?): t = y.broadcast(to: p.shape)
    case (let x?, let y?): t = x + y
    }
    return Dual(p, tangent: t)
  }

  @inlinable public static func - (a: Dual, b: Dual) -> Dual {
    let p = a.primal - b.primal
    var t: Tensor<S>? = nil
    switch (a.tangent, b.tangent) {
    case (nil, nil): break
    case (let x?, nil): t = x.broadcast(to: p.shape)
    case (nil, let y?): t = (-y).broadcast(to: p.shape)
    case (let x?, let y?): t = x - y
    }
    return Dual(p, tangent: t)
  }

  @inlinable public static prefix func - (a: Dual) -> Dual {
    Dual(-a.primal, tangent: a.tangent.map { -$0 })
  }

  /// a·x + b for scalars.
  @inlinable public func affine(scale a: S, shift b: S = 0) -> Dual {
    Dual(primal.affine(scale: a, shift: b), tangent: tangent.map { $0.affine(scale: a) })
  }

  /// With `primal: false` the primal is left uninitialized (nobody reads it, see `CotangentUse`).
  @inlinable public func sum(toShape target: [Int], primal keepPrimal: Bool = true) -> Dual {
    if target == shape { return self }
    return Dual(keepPrimal ? primal.sum(toShape: target) : Tensor(uninitializedShape: target),
                tangent: tangent.map { $0.sum(toShape: target) })
  }

  @inlinable public func broadcast(to target: [Int]) -> Dual {
    Dual(primal.broadcast(to: target), tangent: tangent.map { $0.broadcast(to: target) })
  }

  @inlinable public func reshaped(_ shape: [Int]) -> Dual {
    Dual(primal.reshaped(shape), tangent: tangent.map { $0.reshaped(shape) })
  }

  @inlinable public func transposed(_ perm: [Int]) -> Dual {
    Dual(primal.transposed(perm), tangent: tangent.map { $0.transposed(perm) })
  }

  /// Product with a constant tensor (a mask, a one-hot target, a fixed scale).
  @inlinable public func multiplied(byConstant c: Tensor<S>) -> Dual {
    Dual(primal * c, tangent: tangent.map { $0 * c })
  }
}

// MARK: - Bilinear

extension Dual {
  @inlinable public static func * (a: Dual, b: Dual) -> Dual {
    let p = a.primal * b.primal
    let ta = a.tangent.map { $0 * b.primal }
    let tb = b.tangent.map { a.primal * $0 }
    return Dual(p, tangent: addTangents(ta, tb).map { $0.broadcast(to: p.shape) })
  }

  /// d(a/b) = ȧ/b − a·ḃ/b².
  @inlinable public static func / (a: Dual, b: Dual) -> Dual {
    let p = a.primal / b.primal
    let ta = a.tangent.map { $0 / b.primal }
    let tb = b.tangent.map { -(p * $0 / b.primal) }
    return Dual(p, tangent: addTangents(ta, tb).map { $0.broadcast(to: p.shape) })
  }

  /// d(op(A)·op(B)) = op(Ȧ)·op(B) + op(A)·op(Ḃ).
  @inlinable
  public static func matmul(_ a: Dual, transposeA: Bool = false, _ b: Dual, transposeB: Bool = false)
    -> Dual
  {
    if let stacked = stackedRowsProduct(a, transposeA, b, transposeB) { return stacked }
    return Dual(productPrimal(a.primal, transposeA, b.primal, transposeB), tangent: productTangent(a, transposeA, b, transposeB))
  }

  /// op(A)·op(B), through the current `PrimalCache` when one serves this thread.
  @usableFromInline
  static func productPrimal(_ a: Tensor<S>, _ transposeA: Bool, _ b: Tensor<S>, _ transposeB: Bool) -> Tensor<S> {
    cachedProduct(shape: Tensor.matmulPlan(a, transposeA, b, transposeB).shape) {
      Tensor.matmul(a, transposeA: transposeA, b, transposeB: transposeB)
    }
  }

  /// op(Ȧ)·op(B) + op(A)·op(Ḃ), nil when neither factor has a tangent. The second term is
  /// accumulated in place (GEMM with β = 1): no temporary, no extra pass.
  @usableFromInline
  static func productTangent(_ a: Dual, _ transposeA: Bool, _ b: Dual, _ transposeB: Bool) -> Tensor<S>? {
    if let stacked = stackedInnerTangent(a, transposeA, b, transposeB) { return stacked }
    return bilinearTangent(a, b, { Tensor.matmul($0, transposeA: transposeA, $1, transposeB: transposeB) },
                    adding: { Tensor.matmul($0, transposeA: transposeA, $1, transposeB: transposeB, addingTo: &$2) })
  }
}

extension Dual {
  /// The tangent f(ȧ, b) + f(a, ḃ) of a bilinear op f (nil when neither factor has one); the
  /// second term is accumulated in place by `fAdding`, with no temporary and no extra pass.
  @inlinable
  static func bilinearTangent(
    _ a: Dual, _ b: Dual, _ f: (Tensor<S>, Tensor<S>) -> Tensor<S>,
    adding fAdding: (Tensor<S>, Tensor<S>, inout Tensor<S>) -> Void
  ) -> Tensor<S>? {
    var t = a.tangent.map { f($0, b.primal) }
    if let bt = b.tangent {
      if var acc = t {
        // Dropping `t` first keeps `acc` uniquely referenced, so no copy-on-write copy is made.
        t = nil
        fAdding(a.primal, bt, &acc)
        t = acc
      } else {
        t = f(a.primal, bt)
      }
    }
    return t
  }

  /// `matmul`, or `matmulTangentOnly` when the product's primal is not read.
  @inlinable
  static func matmul(primal: Bool) -> (Dual, Bool, Dual, Bool) -> Dual {
    primal ? { Dual.matmul($0, transposeA: $1, $2, transposeB: $3) }
      : { Dual.matmulTangentOnly($0, transposeA: $1, $2, transposeB: $3) }
  }

  /// The tangent Ȧ·B + A·Ḃ of op(A)·op(B) without its primal, for cotangents whose primal
  /// nobody reads (a parameter's gradient during an HVP-only pass). The primal is left
  /// uninitialized and must not be read.
  public static func matmulTangentOnly(
    _ a: Dual, transposeA: Bool = false, _ b: Dual, transposeB: Bool = false
  ) -> Dual {
    let t = productTangent(a, transposeA, b, transposeB)
    let shape = t?.shape ?? Tensor.matmulPlan(a.primal, transposeA, b.primal, transposeB).shape
    return Dual(Tensor(uninitializedShape: shape), tangent: t)
  }
}

// MARK: - Element-wise nonlinearities

extension Dual {
  /// Applies a smooth unary op; the tangent is f′(x)·ẋ.
  public func applying(_ op: UnaryOp) -> Dual {
    if op == .tanh, let t = tangent { return Dual.tanhWithTangent(primal, t) }
    let y = primal.applying(op)
    guard let t = tangent else { return Dual(y) }
    let derivative: Tensor<S>
    switch op {
    case .neg: return Dual(y, tangent: -t)
    case .exp: derivative = y
    case .log: derivative = primal.applying(.reciprocal)
    case .tanh: preconditionFailure("tanh with a tangent goes through tanhWithTangent")
    case .relu, .step, .abs:
      // Piecewise linear: the almost-everywhere derivative (0 for step).
      derivative = op == .relu ? primal.applying(.step)
        : op == .step ? Tensor(zeros: primal.shape)
        : primal.applying(.step).affine(scale: 2, shift: -1)
    case .sqrt: derivative = y.applying(.reciprocal).affine(scale: 0.5)
    case .rsqrt: derivative = (y * y * y).affine(scale: -0.5)
    case .reciprocal: derivative = -(y * y)
    case .square: derivative = primal.affine(scale: 2)
    case .sigmoid: derivative = y * y.affine(scale: -1, shift: 1)
    case .erf:
      // erf′(x) = 2/√π · e^{−x²}
      derivative = (primal * primal).affine(scale: -1).applying(.exp)
        .affine(scale: S(2 / Double.pi.squareRoot()))
    }
    return Dual(y, tangent: derivative * t)
  }

  /// y = tanh(x) and ẏ = (1 − y²)·ẋ in one stacked pair, primal first (the next layer's
  /// product reads both as one matrix, see `stackedRowsProduct`); the same arithmetic as tanh
  /// and the derivative tensor 1 − y² times ẋ.
  @_specialize(where S == Float)
  @_specialize(where S == Double)
  @usableFromInline
  static func tanhWithTangent(_ x: Tensor<S>, _ xt: Tensor<S>) -> Dual {
    precondition(x.shape == xt.shape, "tangent \(xt.shape) vs primal \(x.shape)")
    let (y, yt) = Tensor<S>.stackedPair(shape: x.shape) { Y, T in
      x.withUnsafeBufferPointer { X in
        xt.withUnsafeBufferPointer { XT in
          let n = X.count
          fastTanh(X.baseAddress!, Y.baseAddress!, n)
          for i in 0..<n { T[i] = (1 - Y[i] * Y[i]) * XT[i] }
        }
      }
    }
    return Dual(y, tangent: yt)
  }

  /// g·(1 − y²): the pullback of tanh at output y, fused. Its own tangent is
  /// ġ·(1 − y²) − 2·g·y·ẏ, which is what makes the HVP exact through tanh.
  @_specialize(where S == Float)
  @_specialize(where S == Double)
  public static func tanhPullback(output y: Dual, cotangent g: Dual) -> Dual {
    let n = y.primal.count
    precondition(g.primal.count == n, "tanhPullback: shapes differ")
    if y.tangent == nil && g.tangent == nil {
      return Dual(Tensor<S>(shape: g.shape) { out in
        y.primal.withUnsafeBufferPointer { Y in
          g.primal.withUnsafeBufferPointer { G in
            for i in 0..<n { out[i] = G[i] * (1 - Y[i] * Y[i]) }
          }
        }
      })
    }
    // Primal and tangent in one pass, as a stacked pair with the tangent first (the weight
    // gradient's tangent reads it with the forward pair, see `stackedInnerTangent`). Missing
    // tangents are zero; the arithmetic and its order are those of 0 + ġ·(1 − y²) − 2·g·y·ẏ.
    let (t, p) = Tensor<S>.stackedPair(shape: g.shape) { T, P in
      y.primal.withUnsafeBufferPointer { Y in
        g.primal.withUnsafeBufferPointer { G in
          switch (g.tangent, y.tangent) {
          case (let gt?, let yt?):
            gt.withUnsafeBufferPointer { GT in
              yt.withUnsafeBufferPointer { YT in
                for i in 0..<n {
                  let d: S = 1 - Y[i] * Y[i]
                  P[i] = G[i] * d
                  let b: S = 2 * G[i] * Y[i] * YT[i]
                  T[i] = GT[i] * d - b
                }
              }
            }
          case (let gt?, nil):
            gt.withUnsafeBufferPointer { GT in
              for i in 0..<n {
                let d: S = 1 - Y[i] * Y[i]
                P[i] = G[i] * d
                T[i] = GT[i] * d
              }
            }
          case (nil, let yt?):
            yt.withUnsafeBufferPointer { YT in
              for i in 0..<n {
                P[i] = G[i] * (1 - Y[i] * Y[i])
                let b: S = 2 * G[i] * Y[i] * YT[i]
                T[i] = 0 - b
              }
            }
          case (nil, nil):
            preconditionFailure("unreachable: no tangent was handled above")
          }
        }
      }
    }
    return Dual(p, tangent: t)
  }

  @inlinable public var rank: Int { primal.rank }
}
