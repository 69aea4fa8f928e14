/// Index-driven kernels: gathers and their adjoints, scatter-adds. With the indices held fixed
/// both are linear, which is what makes max pooling and embeddings exactly twice differentiable.

/// out[i] = x[index[i]], shaped `shape`.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func gatherKernel<S: TensorScalar>(_ x: Tensor<S>, _ index: [Int32], shape: [Int]) -> Tensor<S> {
  precondition(shape.reduce(1, *) == index.count, "gather: \(index.count) indices for shape \(shape)")
  return Tensor(shape: shape) { out in
    x.withUnsafeBufferPointer { px in
      index.withUnsafeBufferPointer { I in
        let X = px.baseAddress!, O = out.baseAddress!
        for i in 0..<I.count { O[i] = X[Int(I[i])] }
      }
    }
  }
}

/// out = 0 of shape `shape`; out[index[i]] += g[i]: the adjoint of `gatherKernel`.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func scatterAddKernel<S: TensorScalar>(_ g: Tensor<S>, _ index: [Int32], shape: [Int]) -> Tensor<S> {
  precondition(g.count == index.count, "scatter: \(index.count) indices for \(g.count) values")
  return Tensor(shape: shape) { out in
    out.initialize(repeating: 0)
    g.withUnsafeBufferPointer { pg in
      index.withUnsafeBufferPointer { I in
        let G = pg.baseAddress!, O = out.baseAddress!
        for i in 0..<I.count { O[Int(I[i])] += G[i] }
      }
    }
  }
}

/// Rows of table [V, D] picked by `rows`: result [rows.count, D].
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func gatherRowsKernel<S: TensorScalar>(_ table: Tensor<S>, _ rows: [Int32]) -> Tensor<S> {
  precondition(table.rank == 2, "gatherRows: table must be [V, D], got \(table.shape)")
  let d = table.shape[1]
  return Tensor(shape: [rows.count, d]) { out in
    table.withUnsafeBufferPointer { pt in
      let T = pt.baseAddress!, O = out.baseAddress!
      for (r, id) in rows.enumerated() { (O + r * d).update(from: T + Int(id) * d, count: d) }
    }
  }
}

/// out [V, D] = 0; out[rows[r]] += g[r]: the adjoint of `gatherRowsKernel`.
@_specialize(where S == Float)
@_specialize(where S == Double)
@usableFromInline
func scatterAddRowsKernel<S: TensorScalar>(_ g: Tensor<S>, _ rows: [Int32], vocabulary: Int) -> Tensor<S> {
  precondition(g.rank == 2 && g.shape[0] == rows.count, "scatterRows: \(g.shape) for \(rows.count) rows")
  let d = g.shape[1]
  return Tensor(shape: [vocabulary, d]) { out in
    out.initialize(repeating: 0)
    g.withUnsafeBufferPointer { pg in
      let G = pg.baseAddress!, O = out.baseAddress!
      for (r, id) in rows.enumerated() {
        let dst = O + Int(id) * d, src = G + r * d
        for j in 0..<d { dst[j] += src[j] }
      }
    }
  }
}

extension Dual {
  /// x[index] (fixed indices): linear, so the tangent is the same gather of ẋ.
  @inlinable public func gathered(_ index: [Int32], shape: [Int]) -> Dual {
    Dual(gatherKernel(primal, index, shape: shape), tangent: tangent.map { gatherKernel($0, index, shape: shape) })
  }

  /// Scatter-add into a zero tensor of `shape` (fixed indices): linear, tangent likewise.
  @inlinable public func scatterAdded(_ index: [Int32], shape: [Int]) -> Dual {
    Dual(scatterAddKernel(primal, index, shape: shape),
         tangent: tangent.map { scatterAddKernel($0, index, shape: shape) })
  }

  /// Rows of a [V, D] table (fixed ids); linear.
  @inlinable public func gatheredRows(_ rows: [Int32]) -> Dual {
    Dual(gatherRowsKernel(primal, rows), tangent: tangent.map { gatherRowsKernel($0, rows) })
  }

  /// Adjoint of `gatheredRows`; linear.
  @inlinable public func scatterAddedRows(_ rows: [Int32], vocabulary: Int) -> Dual {
    Dual(scatterAddRowsKernel(primal, rows, vocabulary: vocabulary),
         tangent: tangent.map { scatterAddRowsKernel($0, rows, vocabulary: vocabulary) })
  }
}
