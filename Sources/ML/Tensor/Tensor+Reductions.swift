import RealModule

@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func sumToShapeKernel<S: TensorScalar>(_ x: Tensor<S>, _ target: [Int]) -> Tensor<S> {
  // A sum over leading axes (a bias's gradient [B, …, D] → [D] or [1, D], or everything → []):
  // rows of the target's size added in order, the same additions as the plan below makes,
  // without building the plan (its arrays outweigh the arithmetic on a small batch).
  let kept = target.drop { $0 == 1 }
  if target.count <= x.shape.count, x.shape.suffix(kept.count).elementsEqual(kept) {
    let width = kept.reduce(1, *)
    return Tensor(shape: target) { out in
      out.initialize(repeating: 0)
      guard width > 0 else { return }
      x.withUnsafeBufferPointer { px in
        let O = out.baseAddress!, X = px.baseAddress!
        if width == 1 {
          var s: S = 0
          for i in 0..<px.count { s += X[i] }
          O[0] += s
        } else {
          for r in 0..<(px.count / width) {
            let row = X + r * width
            for i in 0..<width { O[i] += row[i] }
          }
        }
      }
    }
  }
  let result = x.shape
  precondition(BroadcastPlan.resultShape(target, result) == result,
               "cannot sum \(result) to \(target)")
  let plan = BroadcastPlan(
    result: result, a: BroadcastPlan.strides(of: target, over: result),
    b: Tensor<S>.rowMajorStrides(result))
  return Tensor(shape: target) { out in
    out.initialize(repeating: 0)
    x.withUnsafeBufferPointer { px in
      let O = out.baseAddress!, X = px.baseAddress!
      plan.forEachRun { oo, ox, _, n, io, ix in
        if io == 0 {
          var s: S = 0
          if ix == 1 { for i in 0..<n { s += X[ox + i] } } else {
            for i in 0..<n { s += X[ox + i * ix] }
          }
          O[oo] += s
        } else if io == 1 && ix == 1 {
          for i in 0..<n { O[oo + i] += X[ox + i] }
        } else {
          for i in 0..<n { O[oo + i * io] += X[ox + i * ix] }
        }
      }
    }
  }
}

extension Tensor {
  /// Sum of all scalars (rank-0 result).
  public func sum() -> Tensor { sumToShapeKernel(self, []) }

  /// Sums over the broadcast dimensions so the result has `target`'s shape: the adjoint of
  /// broadcasting `target` up to `self.shape`.
  @inlinable public func sum(toShape target: [Int]) -> Tensor {
    target == shape ? self : sumToShapeKernel(self, target)
  }

  /// Broadcasts to `target` (the adjoint of `sum(toShape:)`).
  public func broadcast(to target: [Int]) -> Tensor {
    target == shape ? self : broadcastKernel(self, target)
  }

  /// Sum over one axis, keeping it as size 1.
  public func sum(alongAxis axis: Int) -> Tensor {
    var target = shape
    target[axis] = 1
    return sum(toShape: target)
  }

  /// Mean of all scalars (rank-0 result).
  public func mean() -> Tensor { sum().affine(scale: 1 / Scalar(Swift.max(count, 1))) }

  /// Row-wise maximum over the last axis: shape [..., n] → [..., 1].
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func maxAlongLastAxis() -> Tensor {
    let n = shape.last ?? 1
    let rows = count / Swift.max(n, 1)
    return Tensor(shape: Array(shape.dropLast()) + [1]) { out in
      withUnsafeBufferPointer { x in
        for r in 0..<rows {
          var m = -Scalar.infinity
          for j in 0..<n { m = Swift.max(m, x[r * n + j]) }
          out[r] = m
        }
      }
    }
  }

  /// Row-wise index of the largest entry over the last axis.
  public func argmaxAlongLastAxis() -> [Int] {
    let n = shape.last ?? 1
    let rows = count / Swift.max(n, 1)
    return withUnsafeBufferPointer { x in
      (0..<rows).map { r in
        var best = 0
        for j in 1..<Swift.max(n, 1) where x[r * n + j] > x[r * n + best] { best = j }
        return best
      }
    }
  }

  /// Euclidean norm, accumulated in Double.
  public func norm() -> Double { dot(self).squareRoot() }
}

/// Copies x into the larger shape `target` (NumPy broadcasting), one strided pass.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func broadcastKernel<S: TensorScalar>(_ x: Tensor<S>, _ target: [Int]) -> Tensor<S> {
  precondition(BroadcastPlan.resultShape(x.shape, target) == target,
               "cannot broadcast \(x.shape) to \(target)")
  let plan = BroadcastPlan(
    result: target, a: BroadcastPlan.strides(of: x.shape, over: target),
    b: Tensor<S>.rowMajorStrides(target))
  return Tensor(shape: target) { out in
    guard !out.isEmpty else { return }
    x.withUnsafeBufferPointer { px in
      let X = px.baseAddress!, O = out.baseAddress!
      plan.forEachRun { ox, oo, _, n, ix, io in
        if ix == 0 {
          let v = X[ox]
          for i in 0..<n { O[oo + i * io] = v }
        } else if ix == 1 && io == 1 {
          (O + oo).update(from: X + ox, count: n)
        } else {
          for i in 0..<n { O[oo + i * io] = X[ox + i * ix] }
        }
      }
    }
  }
}
