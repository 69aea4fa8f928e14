import RealModule

/// The scalar types a `Tensor` can hold: `Float` for training, `Double` for verification and
/// Lanczos. The BLAS entry points differ per type, so they are protocol requirements; every
/// other kernel is generic and pre-specialized for both types (see `Kernels.swift`).
public protocol TensorScalar: BinaryFloatingPoint, Real, Sendable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
  /// C ← α·op(A)·op(B) + β·C, row-major; op transposes when the flag is set.
  static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Self, a: UnsafePointer<Self>, lda: Int,
    b: UnsafePointer<Self>, ldb: Int,
    beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

  /// Name used in safetensors headers ("F32", "F64").
  static var safetensorsDType: String { get }
}
