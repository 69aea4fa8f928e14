import COpenBLAS
import RealModule

// Every BLAS and LAPACK call of the package lives in this file.

extension Float: TensorScalar {
  @inlinable
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c,
      blasint(ldc))
  }
  public static var safetensorsDType: String { "F32" }
}

extension Double: TensorScalar {
  @inlinable
  public static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Double, a: UnsafePointer<Double>, lda: Int,
    b: UnsafePointer<Double>, ldb: Int,
    beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    cblas_dgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      blasint(m), blasint(n), blasint(k), alpha, a, blasint(lda), b, blasint(ldb), beta, c,
      blasint(ldc))
  }
  public static var safetensorsDType: String { "F64" }
}

/// A LAPACK routine reported a failure.
public struct LAPACKError: Error, CustomStringConvertible {
  public let routine: String
  public let info: Int
  public var description: String { "LAPACK \(routine) failed with info = \(info)" }
}

public enum LAPACK {
  /// Eigenvalues (ascending) and eigenvectors of the symmetric tridiagonal matrix with diagonal
  /// `d` and off-diagonal `e` (dsteqr, compz = "I"). `vectors[j*n + i]` is component i of
  /// eigenvector j (LAPACK's column-major Z read column by column).
  public static func symmetricTridiagonalEigen(diagonal d: [Double], offDiagonal e: [Double])
    throws -> (values: [Double], vectors: [Double])
  {
    let n = d.count
    precondition(e.count == max(n - 1, 0), "off-diagonal must have n-1 entries")
    if n == 0 { return ([], []) }
    var dd = d
    var ee = e + [0]
    var z = [Double](repeating: 0, count: n * n)
    var work = [Double](repeating: 0, count: max(1, 2 * n - 2))
    var nn = Int32(n), ldz = Int32(n), info: Int32 = 0
    "I".withCString { compz in
      dsteqr_(compz, &nn, &dd, &ee, &z, &ldz, &work, &info, 1)
    }
    if info != 0 { throw LAPACKError(routine: "dsteqr", info: Int(info)) }
    return (dd, z)
  }

  /// Eigenvalues (ascending) of a dense symmetric n×n matrix given row-major (dsyev, jobz = "N").
  public static func symmetricEigenvalues(_ a: [Double], n: Int) throws -> [Double] {
    precondition(a.count == n * n, "matrix must be n×n")
    if n == 0 { return [] }
    var m = a
    var w = [Double](repeating: 0, count: n)
    var nn = Int32(n), lda = Int32(n), info: Int32 = 0
    var lwork = Int32(-1)
    var query = 0.0
    "N".withCString { jobz in
      "U".withCString { uplo in
        dsyev_(jobz, uplo, &nn, &m, &lda, &w, &query, &lwork, &info, 1, 1)
      }
    }
    lwork = Int32(max(1, Int(query)))
    var work = [Double](repeating: 0, count: Int(lwork))
    "N".withCString { jobz in
      "U".withCString { uplo in
        dsyev_(jobz, uplo, &nn, &m, &lda, &w, &work, &lwork, &info, 1, 1)
      }
    }
    if info != 0 { throw LAPACKError(routine: "dsyev", info: Int(info)) }
    return w
  }
}

import Synchronization

/// Counts the floating-point operations (2·m·n·k per GEMM) issued through `Tensor.matmul`, so
/// the benchmark can report achieved GFLOP/s. One relaxed atomic add per GEMM. With `timing`
/// on, it also sums the time spent inside those BLAS calls (`repro bench --gemm-share`: how
/// much of a gradient or an HVP is matrix products and how much everything between them).
public enum GEMMCounter {
  static let flops = Atomic<Int>(0)
  static let nanoseconds = Atomic<Int>(0)
  static let timingOn = Atomic<Bool>(false)
  public static var total: Int { flops.load(ordering: .relaxed) }
  /// Seconds inside `Tensor.matmul`'s BLAS calls since `reset` while timing was on, summed
  /// over the threads that issued them (batch shards each count their own).
  public static var gemmSeconds: Double { Double(nanoseconds.load(ordering: .relaxed)) / 1e9 }
  public static var timing: Bool {
    get { timingOn.load(ordering: .relaxed) }
    set { timingOn.store(newValue, ordering: .relaxed) }
  }
  public static func reset() {
    flops.store(0, ordering: .relaxed)
    nanoseconds.store(0, ordering: .relaxed)
  }
  @usableFromInline static func add(_ n: Int) { flops.add(n, ordering: .relaxed) }
  @usableFromInline static func addTime(since start: ContinuousClock.Instant) {
    let d = start.duration(to: .now).components
    nanoseconds.add(Int(d.seconds) * 1_000_000_000 + Int(d.attoseconds / 1_000_000_000), ordering: .relaxed)
  }
}

/// Float64 vector kernels for the Lanczos basis (row-major, rows = basis vectors).
public enum DoubleBLAS {
  /// c = Q·w for the first `rows` rows of Q (each of length n).
  public static func project(_ q: UnsafePointer<Double>, rows: Int, n: Int, _ w: UnsafePointer<Double>, into c: UnsafeMutablePointer<Double>) {
    cblas_dgemv(CblasRowMajor, CblasNoTrans, blasint(rows), blasint(n), 1, q, blasint(n), w, 1, 0, c, 1)
  }

  /// w ← w − Qᵀ·c.
  public static func subtractCombination(_ q: UnsafePointer<Double>, rows: Int, n: Int, _ c: UnsafePointer<Double>, from w: UnsafeMutablePointer<Double>) {
    cblas_dgemv(CblasRowMajor, CblasTrans, blasint(rows), blasint(n), -1, q, blasint(n), c, 1, 1, w, 1)
  }
}
