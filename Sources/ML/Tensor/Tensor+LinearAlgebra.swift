extension Tensor {
  /// Matrix product op(a)·op(b). `a` is [..., m, k] (or [..., k, m] when transposed); `b` is
  /// either a matrix shared by every leading index of `a` (a dense layer: the leading dimensions
  /// fold into m, one GEMM) or has the same leading dimensions (one GEMM per index).
  public static func matmul(
    _ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false
  ) -> Tensor {
    let plan = MatmulPlan(a.shape, transposeA, b.shape, transposeB)
    return Tensor(shape: plan.resultShape) { out in
      gemmInto(out.baseAddress!, a, transposeA, b, transposeB, plan, beta: 0)
    }
  }

  /// self += op(a)·op(b), in place (one GEMM with β = 1: no temporary, no extra pass).
  public mutating func addMatmul(_ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false) {
    let plan = MatmulPlan(a.shape, transposeA, b.shape, transposeB)
    precondition(plan.resultShape == shape, "addMatmul: product shape \(plan.resultShape) vs \(shape)")
    withUnsafeMutableBufferPointer { out in
      Tensor.gemmInto(out.baseAddress!, a, transposeA, b, transposeB, plan, beta: 1)
    }
  }
}

/// Shapes of a (possibly batched or folded) matrix product.
@usableFromInline
struct MatmulPlan {
  var resultShape: [Int]
  var m: Int, n: Int, k: Int
  var batch: (count: Int, a: Int, b: Int, c: Int)

  init(_ aShape: [Int], _ transposeA: Bool, _ bShape: [Int], _ transposeB: Bool) {
    let a = (shape: aShape, rank: aShape.count), b = (shape: bShape, rank: bShape.count)
    precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank ≥ 2, got \(aShape), \(bShape)")
    let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1]
    let br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let (kb, n) = transposeB ? (bc, br) : (br, bc)
    precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
    let batchA = Array(a.shape.dropLast(2))
    resultShape = batchA + [m, n]
    self.n = n
    self.k = k
    if b.rank == 2 && !transposeA {
      // Fold a's leading dimensions into the row count: one large GEMM.
      self.m = a.shape.reduce(1, *) / Swift.max(k, 1)
      batch = (1, 0, 0, 0)
      return
    }
    let batchB = Array(b.shape.dropLast(2))
    precondition(batchA == batchB || batchB.isEmpty,
                 "matmul batch dimensions differ: \(aShape) · \(bShape)")
    self.m = m
    batch = (batchA.reduce(1, *), ar * ac, batchB.isEmpty ? 0 : br * bc, m * n)
  }
}

extension Tensor {
  @usableFromInline
  static func gemmInto(
    _ out: UnsafeMutablePointer<Scalar>, _ a: Tensor, _ ta: Bool, _ b: Tensor, _ tb: Bool,
    _ plan: MatmulPlan, beta: Scalar
  ) {
    let (m, n, k) = (plan.m, plan.n, plan.k)
    let (count, sa, sb, sc) = plan.batch
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        // With the fold, op(a) has m rows of k: lda is k (a is never transposed there).
        let lda = ta ? m : k, ldb = tb ? k : n
        if m == 0 || n == 0 { return }
        if k == 0 {
          if beta == 0 { out.initialize(repeating: 0, count: count * m * n) }
          return
        }
        GEMMCounter.add(2 * m * n * k * count)
        for i in 0..<count {
          Scalar.gemm(
            transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1,
            a: pa.baseAddress! + i * sa, lda: lda, b: pb.baseAddress! + i * sb, ldb: ldb,
            beta: beta, c: out + i * sc, ldc: n)
        }
      }
    }
  }

  /// Permutes dimensions (a copy): result.shape[i] = shape[perm[i]].
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  public func transposed(_ perm: [Int]) -> Tensor {
    precondition(perm.sorted() == Array(0..<rank), "bad permutation \(perm) for rank \(rank)")
    if perm == Array(0..<rank) { return self }
    let newShape = perm.map { shape[$0] }
    let srcStrides = Tensor.rowMajorStrides(shape)
    let readStrides = perm.map { srcStrides[$0] }
    // Iterate the output in order; read with permuted strides.
    let plan = BroadcastPlan(result: newShape, a: readStrides, b: Tensor.rowMajorStrides(newShape))
    return Tensor(shape: newShape) { out in
      withUnsafeBufferPointer { x in
        let X = x.baseAddress!, O = out.baseAddress!
        plan.forEachRun { ox, oo, _, n, ix, io in
          for i in 0..<n { O[oo + i * io] = X[ox + i * ix] }
        }
      }
    }
  }

  /// Swaps the last two dimensions.
  public func transposedLastTwo() -> Tensor {
    var perm = Array(0..<rank)
    perm.swapAt(rank - 1, rank - 2)
    return transposed(perm)
  }
}
