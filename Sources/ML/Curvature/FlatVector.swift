/// Conversions between a list of parameter tensors and one flat Float64 vector: the space the
/// Lanczos vectors live in.
public enum FlatVector {
  public static func flatten<S>(_ tensors: [Tensor<S>]) -> [Double] {
    // One pass into preallocated storage (this runs on every Lanczos step).
    [Double](unsafeUninitializedCapacity: tensors.reduce(0) { $0 + $1.count }) { out, count in
      var offset = 0
      for t in tensors {
        t.withUnsafeBufferPointer { src in
          for i in 0..<src.count { out[offset + i] = Double(src[i]) }
          offset += src.count
        }
      }
      count = offset
    }
  }

  public static func unflatten<S>(_ v: [Double], shapes: [[Int]]) -> [Tensor<S>] {
    let total = shapes.reduce(0) { $0 + $1.reduce(1, *) }
    precondition(v.count == total, "vector of length \(v.count) for \(total) parameters")
    var offset = 0
    return shapes.map { shape in
      let n = shape.reduce(1, *)
      defer { offset += n }
      return Tensor(shape: shape) { out in
        v.withUnsafeBufferPointer { src in for i in 0..<n { out[i] = S(src[offset + i]) } }
      }
    }
  }
}

/// A symmetric linear operator on Float64 vectors (a Hessian, a preconditioned Hessian, or a
/// test matrix).
public struct SymmetricOperator: Sendable {
  public let dimension: Int
  let apply: @Sendable ([Double]) -> [Double]

  public init(dimension: Int, apply: @escaping @Sendable ([Double]) -> [Double]) {
    self.dimension = dimension
    self.apply = apply
  }

  public func callAsFunction(_ v: [Double]) -> [Double] {
    let y = apply(v)
    precondition(y.count == dimension, "operator returned \(y.count) entries for dimension \(dimension)")
    return y
  }

  /// A dense symmetric matrix (row-major), for tests and small problems.
  public static func dense(_ a: [Double], n: Int) -> SymmetricOperator {
    precondition(a.count == n * n, "dense operator needs n×n entries")
    return SymmetricOperator(dimension: n) { v in
      var y = [Double](repeating: 0, count: n)
      for i in 0..<n {
        var s = 0.0
        for j in 0..<n { s += a[i * n + j] * v[j] }
        y[i] = s
      }
      return y
    }
  }
}
