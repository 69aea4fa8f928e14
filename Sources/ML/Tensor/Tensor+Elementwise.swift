import RealModule

/// Element-wise binary operations (with broadcasting).
public enum BinaryOp: Sendable { case add, sub, mul, div, max, min }

/// Element-wise unary operations.
public enum UnaryOp: Sendable {
  case neg, exp, log, tanh, relu, sqrt, rsqrt, reciprocal, square, abs, sigmoid, erf
  /// 1 where x > 0, else 0 (the almost-everywhere derivative of ReLU).
  case step
}

@inlinable @inline(__always)
func applyBinary<S: TensorScalar>(_ op: BinaryOp, _ x: S, _ y: S) -> S {
  switch op {
  case .add: return x + y
  case .sub: return x - y
  case .mul: return x * y
  case .div: return x / y
  case .max: return Swift.max(x, y)
  case .min: return Swift.min(x, y)
  }
}

@inlinable @inline(__always)
func binaryRun<S: TensorScalar>(
  _ a: UnsafePointer<S>, _ ia: Int, _ b: UnsafePointer<S>, _ ib: Int,
  _ out: UnsafeMutablePointer<S>, _ n: Int, _ f: (S, S) -> S
) {
  // Separate loops per stride pattern so each vectorizes.
  if ia == 1 && ib == 1 {
    for i in 0..<n { out[i] = f(a[i], b[i]) }
  } else if ia == 1 && ib == 0 {
    let y = b[0]
    for i in 0..<n { out[i] = f(a[i], y) }
  } else if ia == 0 && ib == 1 {
    let x = a[0]
    for i in 0..<n { out[i] = f(x, b[i]) }
  } else {
    for i in 0..<n { out[i] = f(a[i * ia], b[i * ib]) }
  }
}

@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func binaryKernel<S: TensorScalar>(_ op: BinaryOp, _ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
  func apply(_ A: UnsafePointer<S>, _ ia: Int, _ B: UnsafePointer<S>, _ ib: Int, _ O: UnsafeMutablePointer<S>, _ n: Int) {
    switch op {
    case .add: binaryRun(A, ia, B, ib, O, n) { $0 + $1 }
    case .sub: binaryRun(A, ia, B, ib, O, n) { $0 - $1 }
    case .mul: binaryRun(A, ia, B, ib, O, n) { $0 * $1 }
    case .div: binaryRun(A, ia, B, ib, O, n) { $0 / $1 }
    case .max: binaryRun(A, ia, B, ib, O, n) { Swift.max($0, $1) }
    case .min: binaryRun(A, ia, B, ib, O, n) { Swift.min($0, $1) }
    }
  }
  // b's shape a suffix of a's: equal shapes (most element-wise ops, one row) or b repeated
  // along a's leading axes (a bias added to every row). Row by row, without building a
  // broadcast plan, whose few small arrays cost more than the arithmetic on a small batch's
  // tensors. (A scalar b against a larger a goes through the plan: one run with stride 0.)
  if b.rank <= a.rank, b.rank >= 1 || a.rank == 0, a.shape.suffix(b.rank).elementsEqual(b.shape) {
    let n = b.count, rows = n == 0 ? 0 : a.count / n
    return Tensor(shape: a.shape) { out in
      a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
          for row in 0..<rows { apply(pa.baseAddress! + row * n, 1, pb.baseAddress!, 1, out.baseAddress! + row * n, n) }
        }
      }
    }
  }
  let plan = BroadcastPlan(a.shape, b.shape)
  return Tensor(shape: plan.resultShape) { out in
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        let A = pa.baseAddress!, B = pb.baseAddress!, O = out.baseAddress!
        plan.forEachRun { oa, ob, oo, n, ia, ib in apply(A + oa, ia, B + ob, ib, O + oo, n) }
      }
    }
  }
}

@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func unaryKernel<S: TensorScalar>(_ op: UnaryOp, _ x: Tensor<S>) -> Tensor<S> {
  Tensor(shape: x.shape) { out in
    x.withUnsafeBufferPointer { px in
      let n = px.count
      let X = px.baseAddress!, O = out.baseAddress!
      switch op {
      case .neg: for i in 0..<n { O[i] = -X[i] }
      case .exp: for i in 0..<n { O[i] = S.exp(X[i]) }
      case .log: for i in 0..<n { O[i] = S.log(X[i]) }
      case .tanh: fastTanh(X, O, n)
      case .relu: for i in 0..<n { O[i] = X[i] > 0 ? X[i] : 0 }
      case .sqrt: for i in 0..<n { O[i] = X[i].squareRoot() }
      case .rsqrt: for i in 0..<n { O[i] = 1 / X[i].squareRoot() }
      case .reciprocal: for i in 0..<n { O[i] = 1 / X[i] }
      case .square: for i in 0..<n { O[i] = X[i] * X[i] }
      case .abs: for i in 0..<n { O[i] = Swift.abs(X[i]) }
      case .sigmoid: for i in 0..<n { O[i] = 1 / (1 + S.exp(-X[i])) }
      case .erf: for i in 0..<n { O[i] = S.erf(X[i]) }
      case .step: for i in 0..<n { O[i] = X[i] > 0 ? 1 : 0 }
      }
    }
  }
}

/// tanh. Float: the 13/6 rational minimax approximation Eigen and XLA use (inputs clamped to
/// ±7.905, where tanh rounds to ±1), a few ulps from the correctly rounded value and
/// branch-free, so the loop vectorizes. Double (verification): libm.
@inlinable @inline(__always)
func fastTanh<S: TensorScalar>(_ X: UnsafePointer<S>, _ O: UnsafeMutablePointer<S>, _ n: Int) {
  if MemoryLayout<S>.size == 4 {
    let c: S = 7.90531110763549805
    let a1: S = 4.89352455891786e-03, a3: S = 6.37261928875436e-04, a5: S = 1.48572235717979e-05
    let a7: S = 5.12229709037114e-08, a9: S = -8.60467152213735e-11, a11: S = 2.00018790482477e-13
    let a13: S = -2.76076847742355e-16
    let b0: S = 4.89352518554385e-03, b2: S = 2.26843463243900e-03, b4: S = 1.18534705686654e-04
    let b6: S = 1.19825839466702e-06
    for i in 0..<n {
      let x = Swift.min(Swift.max(X[i], -c), c)
      let x2 = x * x
      var p = x2 * a13 + a11
      p = x2 * p + a9
      p = x2 * p + a7
      p = x2 * p + a5
      p = x2 * p + a3
      p = x2 * p + a1
      p = x * p
      var q = x2 * b6 + b4
      q = x2 * q + b2
      q = x2 * q + b0
      O[i] = p / q
    }
    return
  }
  // Double is for verification: libm's correctly rounded-ish tanh.
  for i in 0..<n { O[i] = S.tanh(X[i]) }
}

extension Tensor {
  @inlinable public static func + (a: Tensor, b: Tensor) -> Tensor { binaryKernel(.add, a, b) }
  @inlinable public static func - (a: Tensor, b: Tensor) -> Tensor { binaryKernel(.sub, a, b) }
  @inlinable public static func * (a: Tensor, b: Tensor) -> Tensor { binaryKernel(.mul, a, b) }
  @inlinable public static func / (a: Tensor, b: Tensor) -> Tensor { binaryKernel(.div, a, b) }
  @inlinable public static prefix func - (a: Tensor) -> Tensor { unaryKernel(.neg, a) }

  @inlinable public func applying(_ op: UnaryOp) -> Tensor { unaryKernel(op, self) }
  @inlinable public func applying(_ op: BinaryOp, _ other: Tensor) -> Tensor {
    binaryKernel(op, self, other)
  }

  /// a·x + b for scalars a, b.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func affine(scale a: Scalar, shift b: Scalar = 0) -> Tensor {
    Tensor(shape: shape) { out in
      withUnsafeBufferPointer { x in
        for i in 0..<x.count { out[i] = a * x[i] + b }
      }
    }
  }

  @inlinable public static func * (a: Tensor, s: Scalar) -> Tensor { a.affine(scale: s) }
  @inlinable public static func * (s: Scalar, a: Tensor) -> Tensor { a.affine(scale: s) }

  /// self += α·x (same shape), in place.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public mutating func addScaled(_ x: Tensor, _ alpha: Scalar = 1) {
    precondition(x.shape == shape, "addScaled: \(x.shape) vs \(shape)")
    withUnsafeMutableBufferPointer { y in
      x.withUnsafeBufferPointer { x in
        for i in 0..<y.count { y[i] += alpha * x[i] }
      }
    }
  }

  /// Σ selfᵢ·otherᵢ, accumulated in Double.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func dot(_ other: Tensor) -> Double {
    precondition(other.count == count, "dot: \(other.shape) vs \(shape)")
    return withUnsafeBufferPointer { a in
      other.withUnsafeBufferPointer { b in
        var s = 0.0
        for i in 0..<a.count { s += Double(a[i]) * Double(b[i]) }
        return s
      }
    }
  }

  /// True when every scalar is finite.
  public var isFinite: Bool {
    withUnsafeBufferPointer { $0.allSatisfy { $0.isFinite } }
  }
}
