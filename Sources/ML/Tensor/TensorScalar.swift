import RealModule

/// The scalar types a `Tensor` can hold: `Float` for training, `Double` for verification and
/// Lanczos. The BLAS entry points differ per type, so they are protocol requirements; every
/// other kernel is generic and pre-specialized for both types (see `Kernels.swift`).
public protocol TensorScalar: BinaryFloatingPoint, Real, SIMDScalar, Codable, Sendable, CustomStringConvertible
where RawSignificand: FixedWidthInteger {
  /// C ← α·op(A)·op(B) + β·C, row-major; op transposes when the flag is set.
  static func gemm(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
    alpha: Self, a: UnsafePointer<Self>, lda: Int,
    b: UnsafePointer<Self>, ldb: Int,
    beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

  /// Name used in safetensors headers ("F32", "F64").
  static var safetensorsDType: String { get }

  /// eˣ for hot element-wise loops: an inlinable polynomial for Float (≤ 1e-7 relative error,
  /// vectorizes), libm for Double (the verification type stays exact).
  static func fastExp(_ x: Self) -> Self
  /// erf(x) for hot loops: a rational approximation for Float (≤ 5e-7 absolute error), libm
  /// for Double.
  static func fastErf(_ x: Self) -> Self
}

extension Float {
  /// Cephes expf: eˣ = 2ᵏ·e^r with k = round(x·log₂e), r = x − k·ln 2 (ln 2 split in two for
  /// exactness, |r| ≤ ln2/2) and a degree-7 polynomial for e^r. Under/overflow give 0 and +∞ like libm.
  @inlinable @inline(__always)
  public static func fastExp(_ x: Float) -> Float {
    let c = Swift.min(Swift.max(x, -87.3), 88.7)
    // Round to nearest by adding 1.5·2²³: the integer lands in the low significand bits. (No
    // floorf call: the package builds for baseline x86-64, which has no vector rounding.)
    let t = c * 1.44269504088896341 + 12582912
    let k = t - 12582912
    let ki = Int32(bitPattern: t.bitPattern) &- 0x4B40_0000
    let r = c - k * 0.693359375 - k * -2.12194440e-4
    var p: Float = 1.9875691500e-4
    p = p * r + 1.3981999507e-3
    p = p * r + 8.3334519073e-3
    p = p * r + 4.1665795894e-2
    p = p * r + 1.6666665459e-1
    p = p * r + 5.0000001201e-1
    let e = p * r * r + r + 1
    let scale = Float(bitPattern: UInt32(bitPattern: (ki &+ 127) << 23))
    let y = e * scale
    return x < -87.3 ? 0 : (x > 88.7 ? .infinity : y)
  }

  /// erf(x) ≈ x·P(x²)/Q(x²) on [−4, 4] (±1 beyond, to Float precision); the rational
  /// approximation used by Eigen and XLA for single precision.
  @inlinable @inline(__always)
  public static func fastErf(_ x: Float) -> Float {
    let c = Swift.min(Swift.max(x, -4), 4)
    let x2 = c * c
    var p: Float = -2.72614225801306e-10
    p = p * x2 + 2.77068142495902e-08
    p = p * x2 + -2.10102402082508e-06
    p = p * x2 + -5.69250639462346e-05
    p = p * x2 + -7.34990630326855e-04
    p = p * x2 + -2.95459980854025e-03
    p = p * x2 + -1.60960333262415e-02
    var q: Float = -1.45660718464996e-05
    q = q * x2 + -2.13374055278905e-04
    q = q * x2 + -1.68282697438203e-03
    q = q * x2 + -7.37332916720468e-03
    q = q * x2 + -1.42647390514189e-02
    return c * p / q
  }
}

extension Double {
  @inlinable @inline(__always)
  public static func fastExp(_ x: Double) -> Double { Double.exp(x) }
  @inlinable @inline(__always)
  public static func fastErf(_ x: Double) -> Double { Double.erf(x) }
}
