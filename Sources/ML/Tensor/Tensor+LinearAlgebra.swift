extension Tensor {
  /// How a product op(a)·op(b) maps onto GEMM calls: the result shape, the GEMM sizes, and
  /// per-batch offsets (nil when a's leading dimensions fold into one GEMM).
  struct MatmulPlan {
    var shape: [Int]
    var m: Int, n: Int, k: Int
    var batch: (count: Int, a: Int, b: Int, c: Int)?
  }

  static func matmulPlan(_ a: Tensor, _ transposeA: Bool, _ b: Tensor, _ transposeB: Bool) -> MatmulPlan {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul needs rank ≥ 2, got \(a.shape), \(b.shape)")
    let ar = a.shape[a.rank - 2], ac = a.shape[a.rank - 1]
    let br = b.shape[b.rank - 2], bc = b.shape[b.rank - 1]
    let (m, k) = transposeA ? (ac, ar) : (ar, ac)
    let (kb, n) = transposeB ? (bc, br) : (br, bc)
    precondition(k == kb, "matmul inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : "")")
    let batchA = Array(a.shape.dropLast(2))
    if b.rank == 2 && !transposeA {
      // Fold a's leading dimensions into the row count: one large GEMM.
      return MatmulPlan(shape: batchA + [m, n], m: a.count / Swift.max(k, 1), n: n, k: k, batch: nil)
    }
    let batchB = Array(b.shape.dropLast(2))
    precondition(batchA == batchB || batchB.isEmpty,
                 "matmul batch dimensions differ: \(a.shape) · \(b.shape)")
    let batch = batchA.reduce(1, *)
    return MatmulPlan(shape: batchA + [m, n], m: m, n: n, k: k,
                      batch: (batch, ar * ac, batchB.isEmpty ? 0 : br * bc, m * n))
  }

  /// Matrix product op(a)·op(b). `a` is [..., m, k] (or [..., k, m] when transposed); `b` is
  /// either a matrix shared by every leading index of `a` (a dense layer: the leading dimensions
  /// fold into m, one GEMM) or has the same leading dimensions (one GEMM per index).
  public static func matmul(
    _ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false
  ) -> Tensor {
    let p = matmulPlan(a, transposeA, b, transposeB)
    return Tensor(shape: p.shape) { out in
      gemmInto(out.baseAddress!, a, transposeA, b, transposeB, p.m, p.n, p.k, batchOffsets: p.batch, beta: 0)
    }
  }

  /// c += op(a)·op(b), in place (GEMM with β = 1): sums of products without a temporary and
  /// an extra pass, e.g. the tangent Ȧ·B + A·Ḃ of a product.
  public static func matmul(
    _ a: Tensor, transposeA: Bool = false, _ b: Tensor, transposeB: Bool = false, addingTo c: inout Tensor
  ) {
    let p = matmulPlan(a, transposeA, b, transposeB)
    precondition(c.shape == p.shape, "matmul accumulate: target \(c.shape) vs product \(p.shape)")
    c.withUnsafeMutableBufferPointer { out in
      gemmInto(out.baseAddress!, a, transposeA, b, transposeB, p.m, p.n, p.k, batchOffsets: p.batch, beta: 1)
    }
  }

  @usableFromInline
  static func gemmInto(
    _ out: UnsafeMutablePointer<Scalar>, _ a: Tensor, _ ta: Bool, _ b: Tensor, _ tb: Bool,
    _ m: Int, _ n: Int, _ k: Int, batchOffsets: (count: Int, a: Int, b: Int, c: Int)?, beta: Scalar
  ) {
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        gemm(out, pa.baseAddress!, ta, pb.baseAddress!, tb, m, n, k, batchOffsets: batchOffsets, beta: beta)
      }
    }
  }

  /// C = op(A)·op(B) (β = 0) or C += op(A)·op(B) (β = 1) on row-major matrices at raw
  /// pointers (A is m × k, or k × m when transposed; B is k × n, or n × k), once per batch
  /// index with the given offsets. The caller keeps the memory alive.
  static func gemm(
    _ out: UnsafeMutablePointer<Scalar>, _ a: UnsafePointer<Scalar>, _ ta: Bool, _ b: UnsafePointer<Scalar>, _ tb: Bool,
    _ m: Int, _ n: Int, _ k: Int, batchOffsets: (count: Int, a: Int, b: Int, c: Int)? = nil, beta: Scalar
  ) {
    let lda = ta ? m : k, ldb = tb ? k : n
    let (count, sa, sb, sc) = batchOffsets ?? (1, 0, 0, 0)
    if m == 0 || n == 0 { return }
    if k == 0 {
      if beta == 0 { out.initialize(repeating: 0, count: count * m * n) }
      return
    }
    GEMMCounter.add(2 * m * n * k * count)
    // OpenBLAS applies β ≠ 1 in a separate pass before its kernel accumulates into C, and
    // for β = 0 that pass stores zeros one scalar at a time (7 % of a small-conv HVP
    // profile, on the Prescott kernels). A memset and β = 1 give the same product. (The
    // SkylakeX kernels' own pass is vectorized and threaded: for a 784 × 512 output on two
    // threads it beat the memset by 10 % in a ctypes probe; a per-kernel choice left open.)
    var beta = beta
    if beta == 0 {
      zeroFill(out, count: count * m * n)
      beta = 1
    }
    let start = GEMMCounter.timing ? ContinuousClock.now : nil
    defer { if let start { GEMMCounter.addTime(since: start) } }
    for i in 0..<count {
      Scalar.gemm(
        transA: ta, transB: tb, m: m, n: n, k: k, alpha: 1,
        a: a + i * sa, lda: lda, b: b + i * sb, ldb: ldb,
        beta: beta, c: out + i * sc, ldc: n)
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
